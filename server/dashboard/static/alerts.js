// Alerts: what the detection rules raised (docs/RULES.md), most recently
// updated first, colored by level band. Alerts arrive two ways, merged by id
// (a folded alert comes back with a higher count and a later updatedAt):
// pushed on the live stream (the "nms:alerts" event live.js dispatches), and
// by polling GET /api/alerts with `since` every POLL_MS while the view is
// open, which also catches alerts of other servers sharing the database.
// Descriptions (user rules) and field values (log lines) are attacker-
// controlled: they only ever enter the page as text.

import { api } from "./api.js";
import { byId, el } from "./dom.js";
import { count, dateTime, shortTime } from "./format.js";

/** Poll interval while the view is open, in ms. */
const POLL_MS = 3000;
/** How far back each poll re-reads, in ms: covers alerts stored during the previous request. */
const POLL_OVERLAP_MS = 5000;
/** Most alerts kept on the page (the API's largest page is 1,000). */
const MAX_ROWS = 500;
/** Fields shown first, in this order; the others follow by name. */
const FIELD_ORDER = ["srcip", "user", "host", "agent", "service", "process", "unit"];
/** Fields whose value makes a good Search keyword, best first. */
const KEYWORD_FIELDS = ["srcip", "user", "agent", "process", "unit", "service", "job"];

/**
 * The band of a level: low 0-4, medium 5-9, high 10-15.
 * @param {number} level
 * @returns {"low" | "medium" | "high"}
 */
export function levelBand(level) {
  if (level >= 10) return "high";
  if (level >= 5) return "medium";
  return "low";
}

/** "2025-11-23T19:43:33" in local time, as a datetime-local field takes it. */
function localInputValue(ms) {
  return dateTime(ms).replace(" ", "T");
}

/**
 * A link to Search narrowed to an alert: its host, a keyword from its fields
 * (srcip first), the time of its events, and its event ids to highlight.
 * @param {{fields: Record<string, string>, firstSeen: number, lastSeen: number, eventIds: number[]}} alert
 * @returns {string} a same-page hash, never a URL with a scheme
 */
export function searchHref(alert) {
  const params = new URLSearchParams();
  const fields = alert.fields ?? {};
  if (fields.host) params.set("host", fields.host);
  const keywordField = KEYWORD_FIELDS.find((name) => fields[name]) ??
    Object.keys(fields).sort().find((name) => name !== "host");
  if (keywordField) params.set("q", fields[keywordField]);
  // The form takes whole seconds; "to" is exclusive, so round it up past the last event.
  params.set("from", localInputValue(Math.floor(alert.firstSeen / 1000) * 1000));
  params.set("to", localInputValue(Math.floor(alert.lastSeen / 1000) * 1000 + 1000));
  if (alert.eventIds?.length) params.set("ids", alert.eventIds.join(","));
  return `#/search?${params}`;
}

/**
 * @param {{viewing(open: boolean): void, seen(serverNow: number): void}} badge
 */
export function createAlertsView(badge) {
  const form = byId("alerts-filters");
  const tbody = byId("alerts-table").tBodies[0];
  const empty = byId("alerts-empty");
  const countPill = byId("alerts-count");
  const updated = byId("alerts-updated");
  /** @type {Map<number, object>} */
  const alerts = new Map();
  /** Ids raised or folded since the last render: their rows flash. */
  const fresh = new Set();
  let minLevel = 0;
  let total = 0;
  /** Server time of the last answer, the base of the next poll's `since`. */
  let serverNow = null;
  let timer = 0;
  let open = false;
  let generation = 0;
  let polling = false;

  function readLevel() {
    return Number(new FormData(form).get("minLevel") ?? 0) || 0;
  }

  async function reload() {
    const mine = ++generation;
    minLevel = readLevel();
    try {
      const data = await api("/api/alerts", {
        params: { minLevel: String(minLevel), limit: String(MAX_ROWS) },
      });
      if (mine !== generation) return;
      alerts.clear();
      merge(data.alerts, false);
      total = data.total;
      render();
      answered(data.now);
    } catch (e) {
      updated.textContent = `Update failed: ${e.message}`;
    }
  }

  async function poll() {
    if (polling) return;
    if (serverNow === null) return reload();
    const mine = generation;
    polling = true;
    try {
      const data = await api("/api/alerts", {
        params: {
          minLevel: String(minLevel),
          since: String(Math.max(0, serverNow - POLL_OVERLAP_MS)),
          limit: String(MAX_ROWS),
        },
      });
      if (mine !== generation) return;
      if (merge(data.alerts, true) > 0) render();
      answered(data.now);
    } catch (e) {
      updated.textContent = `Update failed: ${e.message}`;
    } finally {
      polling = false;
    }
  }

  function answered(now) {
    serverNow = now;
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    if (open) badge.seen(now);
  }

  /**
   * Adds new alerts and replaces older states of known ones.
   * @returns {number} how many alerts changed (`total` grows by the new ones)
   */
  function merge(list, markFresh) {
    let changed = 0;
    for (const alert of list) {
      if (alert.level < minLevel) continue;
      const known = alerts.get(alert.id);
      if (known && known.updatedAt >= alert.updatedAt) continue;
      if (!known) total++;
      alerts.set(alert.id, alert);
      if (markFresh) fresh.add(alert.id);
      changed++;
    }
    return changed;
  }

  function render() {
    const sorted = [...alerts.values()].sort((a, b) => b.updatedAt - a.updatedAt || b.id - a.id);
    for (const old of sorted.splice(MAX_ROWS)) alerts.delete(old.id);
    tbody.replaceChildren(...sorted.map(row));
    // Rows flash once, when drawn: the next render must not flash them again.
    fresh.clear();
    empty.hidden = sorted.length > 0;
    empty.textContent = minLevel > 0
      ? `No alert of level ${minLevel} or more yet.`
      : "No alert yet. Rules raise alerts as matching lines arrive.";
    countPill.textContent = `${count(total)} alert${total === 1 ? "" : "s"}${
      total > sorted.length ? `, newest ${count(sorted.length)} shown` : ""
    }`;
  }

  function row(alert) {
    const band = levelBand(alert.level);
    const cell = (label, options = {}, children = []) =>
      el("td", { ...options, attrs: { ...options.attrs, "data-label": label } }, children);
    const fieldList = el(
      "ul",
      { class: "fields" },
      Object.keys(alert.fields).sort(fieldOrder).map((name) =>
        el("li", { class: "field" }, [
          el("span", { class: "field-key", text: name }),
          el("span", { class: "field-value", text: alert.fields[name] }),
        ])
      ),
    );
    const ids = alert.eventIds ?? [];
    const link = el("a", {
      class: "button ghost events-link",
      text: "Events",
      attrs: {
        href: searchHref(alert),
        title: ids.length
          ? `Search the events of this alert (ids ${ids.slice(0, 20).join(", ")}${
            ids.length > 20 ? ", …" : ""
          })`
          : "Search the events of this alert",
      },
    });
    const tr = el("tr", { class: `alert-row band-${band}${fresh.has(alert.id) ? " fresh" : ""}` }, [
      el("td", { class: "level-cell" }, [
        el("span", {
          class: `level level-${band}`,
          text: alert.level,
          attrs: { title: `Level ${alert.level} (${band})` },
        }),
      ]),
      cell("Rule", { class: "mono rule", text: alert.ruleId }),
      el("td", { class: "desc", text: alert.description }),
      cell("Fields", { class: "fields-cell" }, [fieldList]),
      cell("Count", { class: "num", text: count(alert.count) }),
      cell("First seen", {
        class: "time",
        text: shortTime(alert.firstSeen),
        attrs: { title: dateTime(alert.firstSeen) },
      }),
      cell("Last seen", {
        class: "time",
        text: shortTime(alert.lastSeen),
        attrs: { title: `${dateTime(alert.lastSeen)} (updated ${dateTime(alert.updatedAt)})` },
      }),
      el("td", { class: "link-cell" }, [link]),
    ]);
    tr.dataset.id = String(alert.id);
    tr.dataset.rule = String(alert.ruleId);
    tr.dataset.level = String(alert.level);
    return tr;
  }

  function fieldOrder(a, b) {
    const ia = FIELD_ORDER.indexOf(a);
    const ib = FIELD_ORDER.indexOf(b);
    if (ia !== ib) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a.localeCompare(b);
  }

  form.addEventListener("change", () => {
    fresh.clear();
    serverNow = null;
    reload();
  });
  form.addEventListener("submit", (event) => event.preventDefault());

  return {
    enter() {
      open = true;
      badge.viewing(true);
      fresh.clear();
      reload();
      timer = setInterval(poll, POLL_MS);
    },
    leave() {
      open = false;
      clearInterval(timer);
      badge.viewing(false);
    },
    /** Alerts pushed on the live stream: `{alerts, more}`. */
    pushed(message) {
      if (!open) return;
      if (merge(message.alerts, true) > 0) render();
      if (message.more) poll();
      // Shown now: leaving the view must not count them on the badge.
      const newest = Math.max(serverNow ?? 0, ...message.alerts.map((a) => a.updatedAt + 1));
      if (newest > (serverNow ?? 0)) {
        serverNow = newest;
        badge.seen(newest);
      }
    },
  };
}
