// Agents: one page of registered nodes at a time, filtered, sorted and counted
// by the server (GET /api/agents), with the status it computes from its clock
// and the connection state. Refreshed every REFRESH_MS while visible.
// Syslog sources are listed below them (sources.js).

import { api } from "./api.js";
import { byId, el, toast } from "./dom.js";
import { ago, bytes, count, dateTime, duration } from "./format.js";
import { createSourcesTable } from "./sources.js";

const REFRESH_MS = 1000;

const STATUS = {
  alive: { label: "Alive", class: "status-alive", help: "heartbeat on time" },
  late: { label: "Late", class: "status-late", help: "one heartbeat missed" },
  disconnected: {
    label: "Disconnected",
    class: "status-disconnected",
    help: "connection lost without goodbye, or 3 heartbeats missed",
  },
  stopped: { label: "Stopped", class: "status-stopped", help: "said goodbye on a clean shutdown" },
  "never_seen": {
    label: "Never seen",
    class: "status-never",
    help: "registered, never sent a heartbeat",
  },
};

export function createAgentsView() {
  const tbody = byId("agents-table").tBodies[0];
  const summary = byId("agent-summary");
  const updated = byId("agents-updated");
  const emptyNote = byId("agents-empty");
  const sources = createSourcesTable();
  const form = byId("agents-filters");
  const range = byId("agents-range");
  const prev = byId("agents-prev");
  const next = byId("agents-next");
  let timer = 0;
  // The pages walked to the current one: "next" follows the server's cursor
  // (as cheap deep in the list as at its start), "previous" steps back.
  /** @type {{offset: number, after: string | null}[]} */
  let pages = [{ offset: 0, after: null }];
  /** @type {string | null} cursor of the page after this one */
  let nextCursor = null;
  let total = 0;
  /** @type {Map<string, string> | null} status per hostname at the last refresh */
  let previous = null;

  function query() {
    const data = new FormData(form);
    return {
      status: data.get("status"),
      name: data.get("name"),
      os: data.get("os"),
      version: data.get("version"),
      address: data.get("address"),
      match: data.get("prefix") ? "prefix" : "contains",
      sort: data.get("sort"),
      order: data.get("desc") ? "desc" : "asc",
      limit: data.get("limit"),
      ...(current().after === null ? { offset: current().offset } : { after: current().after }),
    };
  }

  function current() {
    return pages[pages.length - 1];
  }

  async function refresh() {
    try {
      const data = await api("/api/agents", { params: query() });
      render(data);
      updated.textContent = `Updated ${new Date(data.now).toLocaleTimeString()}`;
    } catch (e) {
      updated.textContent = `Update failed: ${e.message}`;
    }
  }

  // A new filter starts at the first page; previous statuses belong to another list.
  function restart() {
    pages = [{ offset: 0, after: null }];
    previous = null;
    refresh();
  }
  form.addEventListener("input", restart);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    restart();
  });
  prev.addEventListener("click", () => {
    if (pages.length > 1) pages.pop();
    else {
      const offset = Math.max(0, current().offset - Number(form.elements.limit.value));
      pages = [{ offset, after: null }];
    }
    previous = null;
    refresh();
  });
  next.addEventListener("click", () => {
    if (nextCursor === null) return;
    pages.push({
      offset: current().offset + Number(form.elements.limit.value),
      after: nextCursor,
    });
    previous = null;
    refresh();
  });

  function render(data) {
    const counts = data.counts;
    total = data.total;
    nextCursor = data.next;
    const offset = current().offset;
    if (data.agents.length === 0 && offset > 0 && total > 0) {
      // The list shrank below this page: show its last page.
      pages = [{
        offset: Math.max(0, Math.floor((total - 1) / data.limit) * data.limit),
        after: null,
      }];
      refresh();
      return;
    }
    const last = offset + data.agents.length;
    range.textContent = total === 0 ? "" : `${count(offset + 1)}–${count(last)} of ${count(total)}`;
    prev.disabled = offset === 0;
    next.disabled = nextCursor === null;
    summary.replaceChildren(
      ...Object.entries(STATUS).map(([key, s]) =>
        el("li", { class: `card ${s.class}` }, [
          el("span", { class: "card-value", text: count(counts[key]) }),
          el("span", { class: "card-label", text: s.label }),
        ])
      ),
    );
    // Announce status changes (toast is a polite live region), not every refresh.
    const changes = [];
    const statuses = new Map(data.agents.map((a) => [a.hostname, a.status]));
    if (previous) {
      for (const [host, status] of statuses) {
        if (previous.get(host) !== status) {
          changes.push(`${host} is ${STATUS[status]?.label ?? status}`);
        }
      }
    }
    previous = statuses;
    if (changes.length > 0 && changes.length <= 3) toast(changes.join("; "));
    else if (changes.length > 3) toast(`${changes.length} nodes changed status`);
    // The server's order: pages stay stable while statuses change.
    tbody.replaceChildren(...data.agents.map((a) => row(a, data.now)));
    const filtered = ["status", "name", "os", "version", "address"].some((k) => query()[k]);
    emptyNote.hidden = total > 0 || filtered;
    byId("agents-legend").textContent =
      `Heartbeat every ${data.heartbeatSeconds} s. Late after one missed heartbeat; Disconnected when the connection drops without goodbye or after ${
        3 * data.heartbeatSeconds
      } s of silence.`;
  }

  function row(a, now) {
    const s = STATUS[a.status] ?? STATUS.never_seen;
    const cell = (label, options, children) =>
      el("td", { ...options, attrs: { ...options.attrs, "data-label": label } }, children);
    const tr = el("tr", { class: "agent-row" }, [
      el("td", { class: "first" }, [
        el("span", { class: `status ${s.class}`, text: s.label, attrs: { title: s.help } }),
      ]),
      el("td", { class: "strong", text: a.hostname }),
      cell("Address", { class: "mono", text: a.address }),
      cell("OS", { text: a.os }),
      cell("Agent", { class: "mono", text: a.version }),
      cell("Registered", {
        text: dateTime(a.registeredAt),
        attrs: { title: new Date(a.registeredAt).toISOString() },
      }),
      cell("Last heartbeat", {
        text: ago(a.lastHeartbeat, now),
        attrs: a.lastHeartbeat ? { title: dateTime(a.lastHeartbeat) } : {},
      }),
      cell("Uptime", { text: duration(a.uptimeSeconds) }),
      cell("Events (1 h)", { class: "num", text: count(a.eventsLastHour) }),
      cell("Lag", { class: "num", text: bytes(a.lagBytes) }),
    ]);
    tr.dataset.hostname = a.hostname;
    tr.dataset.status = a.status;
    return tr;
  }

  return {
    enter() {
      refresh();
      timer = setInterval(refresh, REFRESH_MS);
      sources.start();
    },
    leave() {
      clearInterval(timer);
      sources.stop();
      previous = null;
    },
  };
}
