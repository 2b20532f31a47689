// The console's entry point: who is signed in, navigation between views
// (#/live, #/alerts, #/search, #/agents, #/stats, #/users; a view may take
// parameters, e.g. #/search?q=203.0.113.7), the alerts badge, sign-out.

import { api } from "./api.js";
import { byId } from "./dom.js";
import { createLiveView } from "./live.js";
import { createAlertBadge } from "./alert_badge.js";
import { createAlertsView } from "./alerts.js";
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

const badge = createAlertBadge();
const views = {
  live: createLiveView(),
  alerts: createAlertsView(badge),
  search: createSearchView(),
  agents: createAgentsView(me),
  stats: createStatsView(),
  users: createUsersView(me),
};
let current = null;

// Alerts pushed on the live stream (live.js).
document.addEventListener("nms:alerts", (event) => {
  badge.pushed(event.detail);
  views.alerts.pushed(event.detail);
});

function show() {
  const [name, query] = location.hash.replace(/^#\//, "").split("?");
  const params = new URLSearchParams(query ?? "");
  const next = Object.hasOwn(views, name) ? name : "live";
  if (next === current) {
    views[current].route?.(params);
    return;
  }
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
  views[next].enter?.(params);
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
