// The console's entry point: who is signed in, navigation between views
// (#/live, #/search, #/agents, #/stats, #/users), sign-out.

import { api } from "./api.js";
import { byId } from "./dom.js";
import { createLiveView } from "./live.js";
import { createSearchView } from "./search.js";
import { createAgentsView } from "./agents.js";
import { createStatsView } from "./stats.js";
import { createUsersView } from "./users.js";

const me = await api("/api/me");
byId("whoami").textContent = `${me.username} · ${me.role}`;
document.body.dataset.role = me.role;
for (const item of document.querySelectorAll("[data-admin-only]")) {
  item.hidden = me.role !== "admin";
}

const views = {
  live: createLiveView(),
  search: createSearchView(),
  agents: createAgentsView(me),
  stats: createStatsView(),
  users: createUsersView(me),
};
let current = null;

function show() {
  const name = location.hash.replace(/^#\//, "").split("?")[0] || "live";
  const next = views[name] ? name : "live";
  if (next === current) return;
  if (current) views[current].leave?.();
  current = next;
  for (const section of document.querySelectorAll("section.view")) {
    section.hidden = section.dataset.view !== next;
  }
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === next) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const title = document.querySelector(`#view-${next} h1`);
  document.title = `${title?.textContent ?? "NMS"} · NMS console`;
  views[next].enter?.();
  // Move focus to the new view for keyboard and screen reader users.
  if (document.activeElement?.closest?.("nav")) byId("main").focus({ preventScroll: true });
}

globalThis.addEventListener("hashchange", show);
show();

byId("logout").addEventListener("click", async () => {
  try {
    await api("/api/logout", { method: "POST" });
  } finally {
    location.replace("/login");
  }
});

// "/" jumps to the current view's keyword field, unless typing already.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (
    target instanceof HTMLElement && target.closest("input, select, textarea, [contenteditable]")
  ) return;
  const field = document.querySelector(`#view-${current} input[name="q"]`);
  if (field) {
    event.preventDefault();
    field.focus();
  }
});
