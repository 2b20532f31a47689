// Live: the stream of incoming events, newest on top. Events arrive as one
// coalesced message per server tick; the page renders them in batches (one
// per animation frame), keeps at most MAX_ROWS rows, and can pause.
// Filters apply at once to the rows shown and, a moment later, to the stream.

import { byId } from "./dom.js";
import { count } from "./format.js";
import { eventRow } from "./rows.js";

/** Most rows kept in the table; older rows are removed. */
const MAX_ROWS = 500;
/** Typing pause before the stream restarts with new filters, in ms. */
const FILTER_DEBOUNCE_MS = 250;

export function createLiveView() {
  const form = byId("live-filters");
  const tbody = byId("live-table").tBodies[0];
  const empty = byId("live-empty");
  const state = byId("live-state");
  const rate = byId("live-rate");
  const notice = byId("live-notice");
  const pauseButton = byId("live-pause");
  /** @type {object[]} events waiting to be drawn, newest first */
  let pending = [];
  let paused = false;
  let missed = 0;
  let skippedByServer = 0;
  let frame = 0;
  let source = null;
  let debounce = 0;
  let received = 0;
  let rateStart = performance.now();
  const rowEvents = new WeakMap();

  function filters() {
    const data = new FormData(form);
    const params = new URLSearchParams();
    for (const name of ["host", "program", "severity", "q"]) {
      const value = String(data.get(name) ?? "").trim();
      if (value) params.set(name, value);
    }
    return params;
  }

  function matcher() {
    const p = filters();
    const host = p.get("host")?.toLowerCase();
    const program = p.get("program")?.toLowerCase();
    const q = p.get("q")?.toLowerCase();
    const severity = p.has("severity") ? Number(p.get("severity")) : null;
    return (e) =>
      (!host || (e.host ?? "").toLowerCase().includes(host)) &&
      (!program || (e.program ?? "").toLowerCase().includes(program)) &&
      (severity === null || (e.severity !== null && e.severity <= severity)) &&
      (!q || e.message.toLowerCase().includes(q));
  }

  function setState(text, kind) {
    state.textContent = text;
    state.className = `pill pill-${kind}`;
  }

  function connect() {
    source?.close();
    const params = filters();
    source = new EventSource(`/api/logs/stream${params.size ? `?${params}` : ""}`);
    setState("Connecting…", "muted");
    source.addEventListener(
      "open",
      () => setState(paused ? "Paused" : "Live", paused ? "warn" : "ok"),
    );
    source.addEventListener("events", (message) => {
      const data = JSON.parse(message.data);
      received += data.events.length;
      skippedByServer += data.skipped;
      enqueue(data.events);
    });
    // Alerts ride the same stream: the badge and the Alerts view listen (app.js).
    source.addEventListener("alerts", (message) => {
      document.dispatchEvent(new CustomEvent("nms:alerts", { detail: JSON.parse(message.data) }));
    });
    source.addEventListener("error", async () => {
      setState("Reconnecting…", "warn");
      // A closed stream may mean the session ended: check, and go to login if so.
      const response = await fetch("/api/me", { credentials: "same-origin" }).catch(() => null);
      if (response?.status === 401) location.replace("/login");
    });
  }

  function enqueue(events) {
    if (events.length === 0) return;
    pending = events.concat(pending);
    if (pending.length > MAX_ROWS) {
      if (paused) missed += pending.length - MAX_ROWS;
      pending.length = MAX_ROWS;
    }
    if (paused) {
      showNotice();
      return;
    }
    frame ||= requestAnimationFrame(draw);
  }

  function draw() {
    frame = 0;
    if (pending.length === 0) return;
    const passes = matcher();
    const fragment = document.createDocumentFragment();
    for (const event of pending) {
      const row = eventRow(event);
      rowEvents.set(row, event);
      row.hidden = !passes(event);
      fragment.append(row);
    }
    pending = [];
    tbody.prepend(fragment);
    while (tbody.rows.length > MAX_ROWS) tbody.lastElementChild.remove();
    empty.hidden = tbody.rows.length > 0;
    showNotice();
  }

  function showNotice() {
    const parts = [];
    if (paused) parts.push(`Paused: ${count(pending.length + missed)} new event(s) waiting.`);
    if (skippedByServer > 0) {
      parts.push(
        `${
          count(skippedByServer)
        } event(s) arrived too fast to show; use Search to see all of them.`,
      );
    }
    notice.textContent = parts.join(" ");
    notice.hidden = parts.length === 0;
  }

  function refilter() {
    const passes = matcher();
    for (const row of tbody.rows) {
      const event = rowEvents.get(row);
      if (event) row.hidden = !passes(event);
    }
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      tbody.replaceChildren();
      pending = [];
      skippedByServer = 0;
      empty.hidden = false;
      connect();
    }, FILTER_DEBOUNCE_MS);
  }

  form.addEventListener("input", refilter);
  form.addEventListener("submit", (event) => event.preventDefault());

  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pauseButton.setAttribute("aria-pressed", String(paused));
    pauseButton.textContent = paused ? "Resume" : "Pause";
    setState(paused ? "Paused" : "Live", paused ? "warn" : "ok");
    if (!paused) {
      missed = 0;
      frame ||= requestAnimationFrame(draw);
    }
    showNotice();
  });

  byId("live-clear").addEventListener("click", () => {
    tbody.replaceChildren();
    pending = [];
    missed = 0;
    skippedByServer = 0;
    empty.hidden = false;
    showNotice();
  });

  setInterval(() => {
    const seconds = (performance.now() - rateStart) / 1000;
    rate.textContent = `${count(Math.round(received / seconds))} events/s shown`;
    received = 0;
    rateStart = performance.now();
  }, 5000);

  connect();
  return {};
}
