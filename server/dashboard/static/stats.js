// Statistics: events per minute by severity, failed logins over time, top
// hosts and programs, for the last hour or day. Charts use uPlot (loaded as
// a classic script before this module); no hand-drawn canvas code.

import { api } from "./api.js";
import { byId, el } from "./dom.js";
import { count } from "./format.js";

const REFRESH_MS = 10_000;

/** Severity groups drawn as series: [label, colour, severities]. */
const GROUPS = [
  ["err and worse", "#f85149", [0, 1, 2, 3]],
  ["warning", "#d29922", [4]],
  ["notice", "#39c5cf", [5]],
  ["info", "#58a6ff", [6]],
  ["debug", "#8b949e", [7]],
  ["unknown", "#a371f7", [8]],
];

const AXIS = {
  stroke: "#9aa7b4",
  grid: { stroke: "rgba(139,148,158,0.15)", width: 1 },
  ticks: { stroke: "rgba(139,148,158,0.25)", width: 1 },
  font: "12px system-ui, sans-serif",
};

export function createStatsView() {
  let range = "hour";
  let timer = 0;
  let severityChart = null;
  let failedChart = null;
  const severityBox = byId("chart-severity");
  const failedBox = byId("chart-failed");
  const stateText = byId("stats-state");

  const resize = new ResizeObserver(() => {
    severityChart?.setSize(size(severityBox));
    failedChart?.setSize(size(failedBox));
  });
  resize.observe(severityBox);

  function size(box) {
    return { width: Math.max(260, box.clientWidth), height: box.clientWidth < 500 ? 180 : 240 };
  }

  function xs(summary) {
    const n = summary.failedLogins.length;
    return Array.from({ length: n }, (_, i) => (summary.startMs + i * summary.bucketMs) / 1000);
  }

  function drawSeverity(summary) {
    const data = [xs(summary)];
    for (const [, , severities] of GROUPS) {
      data.push(
        summary.failedLogins.map((_, i) =>
          severities.reduce((sum, s) => sum + summary.perMinuteBySeverity[s][i], 0)
        ),
      );
    }
    const series = [{}].concat(GROUPS.map(([label, colour]) => ({
      label,
      stroke: colour,
      width: 1.5,
      fill: `${colour}1f`,
      points: { show: false },
      value: (_, v) => (v === null ? "—" : v.toFixed(v < 10 ? 1 : 0)),
    })));
    severityChart?.destroy();
    severityChart = new uPlot(
      {
        ...size(severityBox),
        series,
        scales: { x: { time: true }, y: { range: (_, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [AXIS, { ...AXIS, label: "events / min", labelFont: AXIS.font, size: 60 }],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      },
      data,
      severityBox,
    );
  }

  function drawFailed(summary) {
    const data = [xs(summary), summary.failedLogins];
    failedChart?.destroy();
    failedChart = new uPlot(
      {
        ...size(failedBox),
        series: [{}, {
          label: "failed logins",
          stroke: "#ff7b72",
          fill: "rgba(255,123,114,0.45)",
          paths: uPlot.paths.bars({ size: [0.8, 40] }),
          points: { show: false },
        }],
        scales: { x: { time: true }, y: { range: (_, _min, max) => [0, Math.max(1, max * 1.15)] } },
        // Counts are whole numbers: no fractional ticks.
        axes: [AXIS, {
          ...AXIS,
          size: 50,
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000],
        }],
        cursor: { drag: { x: false, y: false } },
      },
      data,
      failedBox,
    );
  }

  function topList(id, items) {
    const max = Math.max(1, ...items.map((i) => i.count));
    const list = byId(id);
    if (items.length === 0) {
      list.replaceChildren(el("li", { class: "muted", text: "No events in this range." }));
      return;
    }
    list.replaceChildren(...items.map((item) => {
      const bar = el("span", { class: "bar-fill" });
      // A CSSOM property, not an inline style attribute: allowed by the page's CSP.
      bar.style.width = `${(100 * item.count) / max}%`;
      return el("li", {}, [
        el("span", { class: "bar-name", text: item.name }),
        el("span", { class: "bar-track", attrs: { "aria-hidden": "true" } }, [bar]),
        el("span", { class: "bar-count", text: count(item.count) }),
      ]);
    }));
  }

  function totals(summary, storage) {
    const errors = [0, 1, 2, 3].reduce(
      (sum, s) => sum + summary.perMinuteBySeverity[s].reduce((a, v) => a + v, 0),
      0,
    ) *
      (summary.bucketMs / 60000);
    const failed = summary.failedLogins.reduce((a, v) => a + v, 0);
    const minutes = summary.range === "hour" ? 60 : 1440;
    const cards = [
      ["Events", count(summary.total), ""],
      ["Events / min (avg)", count(Math.round(summary.total / minutes)), ""],
      ["Errors and worse", count(Math.round(errors)), errors > 0 ? "card-err" : ""],
      ["Failed logins", count(failed), failed > 0 ? "card-alert" : ""],
    ];
    // How far back the stored events go: the day on one line, the full time on hover.
    if (storage?.oldestReceivedAt) {
      const oldest = new Date(storage.oldestReceivedAt);
      cards.push([
        "Oldest event kept",
        oldest.toLocaleDateString(undefined, { dateStyle: "medium" }),
        "card-date",
        oldest.toLocaleString(),
      ]);
    }
    byId("stats-totals").replaceChildren(
      ...cards.map(([label, value, cls, title]) =>
        el("li", { class: `card ${cls}`, attrs: title ? { title } : undefined }, [
          el("span", { class: "card-value", text: value }),
          el("span", { class: "card-label", text: label }),
        ])
      ),
    );
  }

  async function refresh() {
    try {
      const summary = await api("/api/stats", { params: { range } });
      const storage = await api("/api/storage").catch(() => null);
      totals(summary, storage);
      drawSeverity(summary);
      drawFailed(summary);
      topList("top-hosts", summary.topHosts);
      topList("top-programs", summary.topPrograms);
      stateText.textContent = summary.complete
        ? `Updated ${new Date().toLocaleTimeString()}`
        : "Reading history… figures are still growing.";
      if (!summary.complete) {
        clearTimeout(refresh.soon);
        refresh.soon = setTimeout(refresh, 1500);
      }
    } catch (e) {
      stateText.textContent = `Update failed: ${e.message}`;
    }
  }

  for (const button of document.querySelectorAll("[data-range]")) {
    button.addEventListener("click", () => {
      range = button.dataset.range;
      for (const b of document.querySelectorAll("[data-range]")) {
        b.setAttribute("aria-pressed", String(b === button));
      }
      refresh();
    });
  }

  return {
    enter() {
      refresh();
      timer = setInterval(refresh, REFRESH_MS);
    },
    leave() {
      clearInterval(timer);
    },
  };
}
