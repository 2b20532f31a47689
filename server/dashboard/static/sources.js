// Syslog sources, listed beside the agents on the Agents view: every device
// or relay that sends plain syslog (GET /api/sources, docs/SYSLOG.md), with a
// status the server computes from the time of its last message (syslog has
// no heartbeat). Hostnames come from the senders: text only.

import { api } from "./api.js";
import { byId, el } from "./dom.js";
import { ago, count, dateTime } from "./format.js";

/** Refresh interval while the Agents view is open, in ms (status changes after minutes). */
const REFRESH_MS = 5000;
/** Most sources drawn (the API lists up to 10,000, most recently seen first). */
const MAX_ROWS = 500;

const STATUS = {
  active: { label: "Active", class: "status-alive", help: "a message arrived recently" },
  silent: { label: "Silent", class: "status-late", help: "no message for a while" },
};

const TRANSPORTS = { udp: "UDP", tcp: "TCP", tls: "TLS" };

export function createSourcesTable() {
  const tbody = byId("sources-table").tBodies[0];
  const emptyNote = byId("sources-empty");
  const countPill = byId("sources-count");
  const legend = byId("sources-legend");
  let timer = 0;

  async function refresh() {
    try {
      render(await api("/api/sources"));
    } catch (e) {
      legend.textContent = `Update failed: ${e.message}`;
    }
  }

  function render(data) {
    const sorted = [...data.sources].sort((a, b) =>
      (a.status === "silent") - (b.status === "silent") || b.lastSeen - a.lastSeen
    );
    tbody.replaceChildren(...sorted.slice(0, MAX_ROWS).map((s) => row(s, data.now)));
    emptyNote.hidden = sorted.length > 0;
    const active = sorted.filter((s) => s.status === "active").length;
    countPill.textContent = sorted.length === 0
      ? ""
      : `${count(active)} active · ${count(sorted.length - active)} silent`;
    const minutes = Math.round(data.silentAfterSeconds / 60);
    legend.textContent = `Silent after ${
      minutes >= 1 ? `${minutes} min` : `${data.silentAfterSeconds} s`
    } without a message.${
      sorted.length > MAX_ROWS
        ? ` Showing ${MAX_ROWS} of ${count(sorted.length)}: nms-server sources lists all.`
        : ""
    }`;
  }

  function row(s, now) {
    const status = STATUS[s.status] ?? STATUS.silent;
    const cell = (label, options) =>
      el("td", { ...options, attrs: { ...options.attrs, "data-label": label } });
    const tr = el("tr", { class: "source-row" }, [
      el("td", { class: "first" }, [
        el("span", {
          class: `status ${status.class}`,
          text: status.label,
          attrs: { title: status.help },
        }),
      ]),
      el("td", { class: "strong mono", text: s.address }),
      cell("Hostname", { text: s.hostname ?? "—" }),
      cell("Transport", { text: TRANSPORTS[s.transport] ?? s.transport }),
      cell("First seen", {
        text: dateTime(s.firstSeen),
        attrs: { title: new Date(s.firstSeen).toISOString() },
      }),
      cell("Last message", { text: ago(s.lastSeen, now), attrs: { title: dateTime(s.lastSeen) } }),
      cell("Events", { class: "num", text: count(s.events) }),
      cell("Unparsed", {
        class: `num${s.unparsed > 0 ? " warn-text" : ""}`,
        text: count(s.unparsed),
        attrs: { title: "Lines no known format matched, stored whole" },
      }),
    ]);
    tr.dataset.address = s.address;
    tr.dataset.status = s.status;
    return tr;
  }

  return {
    start() {
      refresh();
      timer = setInterval(refresh, REFRESH_MS);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
