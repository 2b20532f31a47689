// Search: stored events by time range, host, program, severity and keyword,
// newest first, a page at a time, with a count of matches and exports.
// Opened as #/search?host=&program=&severity=&q=&from=&to=&ids= (from the
// Alerts view), it fills the form from those parameters (from/to as local
// datetime-local values), searches, and highlights the events listed in ids.

import { api } from "./api.js";
import { byId, el } from "./dom.js";
import { count } from "./format.js";
import { eventRow } from "./rows.js";

const PAGE = 100;
/** Form fields a #/search link may fill. */
const LINK_FIELDS = ["host", "program", "severity", "q", "from", "to"];
/** Most event ids a link may ask to highlight (an alert keeps at most 100). */
const MAX_MARKED = 100;

export function createSearchView() {
  const form = byId("search-form");
  const tbody = byId("search-table").tBodies[0];
  const empty = byId("search-empty");
  const more = byId("search-more");
  const countPill = byId("search-count");
  const error = byId("search-error");
  let cursor = null;
  let params = new URLSearchParams();
  let generation = 0;
  let suggested = false;
  /** Ids of events to highlight (an alert's triggering events). */
  let marked = new Set();

  function readForm() {
    const data = new FormData(form);
    const p = new URLSearchParams();
    for (const name of ["host", "program", "severity", "q"]) {
      const value = String(data.get(name) ?? "").trim();
      if (value) p.set(name, value);
    }
    for (const name of ["from", "to"]) {
      const value = String(data.get(name) ?? "");
      // datetime-local is local time; the API takes ms since the epoch.
      if (value) p.set(name, String(new Date(value).getTime()));
    }
    return p;
  }

  function updateExports() {
    for (const format of ["ndjson", "csv"]) {
      const p = new URLSearchParams(params);
      p.set("format", format);
      byId(`export-${format}`).setAttribute("href", `/api/logs/export?${p}`);
    }
  }

  async function load(reset) {
    const mine = ++generation;
    error.hidden = true;
    const query = Object.fromEntries(params);
    if (!reset && cursor) query.cursor = cursor;
    query.limit = String(PAGE);
    more.disabled = true;
    try {
      const page = await api("/api/logs", { params: query });
      if (mine !== generation) return;
      if (reset) tbody.replaceChildren();
      const fragment = document.createDocumentFragment();
      for (const event of page.events) {
        const row = eventRow(event);
        if (marked.has(event.id)) {
          row.classList.add("marked");
          row.title = "One of the events that raised the alert";
        }
        fragment.append(row);
      }
      tbody.append(fragment);
      cursor = page.nextCursor;
      more.hidden = cursor === null;
      empty.hidden = tbody.rows.length > 0;
      empty.textContent = "No stored event matches these filters.";
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    } finally {
      more.disabled = false;
    }
  }

  async function loadCount() {
    const mine = generation;
    countPill.textContent = "Counting…";
    try {
      const result = await api("/api/logs/count", { params: Object.fromEntries(params) });
      if (mine !== generation) return;
      countPill.textContent = `${count(result.count)}${result.capped ? "+" : ""} match${
        result.count === 1 ? "" : "es"
      }`;
    } catch {
      countPill.textContent = "";
    }
  }

  async function suggest() {
    if (suggested) return;
    suggested = true;
    try {
      const [agents, stats] = await Promise.all([
        api("/api/agents"),
        api("/api/stats", { params: { range: "day" } }),
      ]);
      const hosts = new Set([
        ...agents.agents.map((a) => a.hostname),
        ...stats.topHosts.map((h) => h.name),
      ]);
      byId("known-hosts").replaceChildren(
        ...[...hosts].sort().map((h) => el("option", { attrs: { value: h } })),
      );
      byId("known-programs").replaceChildren(
        ...stats.topPrograms.map((p) => el("option", { attrs: { value: p.name } })),
      );
    } catch {
      suggested = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    params = readForm();
    cursor = null;
    updateExports();
    load(true).then(loadCount);
  });
  more.addEventListener("click", () => load(false));

  /** Fills the form from a #/search link and searches; false when the link has no filters. */
  function route(link) {
    if (!LINK_FIELDS.some((name) => link.has(name)) && !link.has("ids")) return false;
    for (const name of LINK_FIELDS) form.elements.namedItem(name).value = link.get(name) ?? "";
    marked = new Set(
      (link.get("ids") ?? "").split(",").slice(0, MAX_MARKED).map(Number).filter(
        Number.isSafeInteger,
      ),
    );
    form.requestSubmit();
    return true;
  }

  return {
    route,
    enter(link) {
      suggest();
      if (link && route(link)) return;
      if (tbody.rows.length === 0) {
        params = readForm();
        updateExports();
        load(true).then(loadCount);
      }
    },
  };
}
