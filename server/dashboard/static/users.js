// Users (admins only): add, remove, change role, reset password. A viewer who
// opens #/users sees a notice; the server refuses the API calls (403) anyway.

import { api } from "./api.js";
import { byId, el, toast } from "./dom.js";
import { dateTime } from "./format.js";

const ROLES = ["admin", "viewer", "agent"];

export function createUsersView(me) {
  const isAdmin = me.role === "admin";
  const tbody = byId("users-table").tBodies[0];
  const message = byId("users-message");
  const dialog = byId("password-dialog");
  const passwordForm = byId("password-form");
  let resetting = null;

  function say(text, error = false) {
    message.textContent = text;
    message.className = error ? "notice notice-error" : "notice";
    message.hidden = false;
  }

  async function refresh() {
    try {
      const { users } = await api("/api/users");
      tbody.replaceChildren(...users.map(row));
    } catch (e) {
      say(e.message, true);
    }
  }

  function row(user) {
    const self = user.username === me.username;
    const select = el(
      "select",
      { attrs: { "aria-label": `Role of ${user.username}` } },
      ROLES.map((r) => el("option", { text: r, attrs: { value: r } })),
    );
    select.value = user.role;
    select.addEventListener("change", async () => {
      try {
        await api(`/api/users/${encodeURIComponent(user.username)}`, {
          method: "PATCH",
          body: { role: select.value },
        });
        toast(`${user.username} is now ${select.value}`);
        if (self) location.reload();
      } catch (e) {
        select.value = user.role;
        say(e.message, true);
      }
    });
    const reset = el("button", {
      text: "Reset password",
      attrs: { type: "button", "aria-label": `Reset password of ${user.username}` },
    });
    reset.addEventListener("click", () => {
      resetting = user.username;
      byId("password-dialog-user").textContent =
        `New password for ${user.username}. Their sessions will end.`;
      passwordForm.reset();
      dialog.showModal();
    });
    const remove = el("button", {
      class: "danger",
      text: "Remove",
      attrs: { type: "button", "aria-label": `Remove ${user.username}` },
    });
    remove.disabled = self;
    if (self) remove.title = "You cannot remove your own account";
    remove.addEventListener("click", async () => {
      if (!confirm(`Remove user ${user.username}? Their sessions end at once.`)) return;
      try {
        await api(`/api/users/${encodeURIComponent(user.username)}`, { method: "DELETE" });
        toast(`Removed ${user.username}`);
        refresh();
      } catch (e) {
        say(e.message, true);
      }
    });
    return el("tr", {}, [
      el("td", { class: "strong" }, [
        user.username,
        self ? el("span", { class: "muted", text: " (you)" }) : null,
      ]),
      el("td", {}, [select]),
      el("td", { text: dateTime(user.createdAt) }),
      el("td", { class: "actions" }, [reset, remove]),
    ]);
  }

  passwordForm.addEventListener("submit", async (event) => {
    if (event.submitter?.value !== "save" || !resetting) return;
    event.preventDefault();
    const password = passwordForm.elements.password.value;
    try {
      await api(`/api/users/${encodeURIComponent(resetting)}`, {
        method: "PATCH",
        body: { password },
      });
      dialog.close();
      toast(`Password of ${resetting} changed`);
    } catch (e) {
      byId("password-dialog-user").textContent = e.message;
    }
  });

  byId("user-add").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = {
      username: form.elements.username.value.trim(),
      role: form.elements.role.value,
      password: form.elements.password.value,
    };
    try {
      await api("/api/users", { method: "POST", body });
      say(`Added ${body.username} (${body.role}).`);
      form.reset();
      refresh();
    } catch (e) {
      say(e.message, true);
    }
  });

  return {
    enter() {
      byId("users-denied").hidden = isAdmin;
      byId("users-admin").hidden = !isAdmin;
      if (isAdmin) refresh();
    },
  };
}
