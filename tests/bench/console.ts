// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * The web console's API on a large store: search pages (keyword, host + time
 * range, severity), counts, the statistics backlog, timed over real HTTP.
 *
 * Usage: deno run -A tests/bench/console.ts [--events 5000000] [--runs 10]
 *
 * @module
 */

import { join } from "node:path";
import { startDashboard } from "../../server/dashboard/mod.ts";
import { StatsCollector } from "../../server/dashboard/stats_collector.ts";
import { openSqliteStore } from "../../server/store/sqlite_store.ts";
import type { EventBatch } from "../../server/store/store.ts";
import { benchArgs, numberOption } from "./_args.ts";
import { consoleGet } from "./_console_get.ts";
import { percentile, timeRuns } from "./_timing.ts";

const HOSTS = 200;
const BATCH = 10_000;
const DAYS = 2;
/** One event in this many carries the rare word. */
const RARE_EVERY = 250_000;
const PROGRAMS: [string, number, string][] = [
  ["sshd", 6, "Accepted publickey for deploy from 10.0.4.2 port 50422 ssh2"],
  ["sshd", 5, "Failed password for root from 203.0.113.9 port 52311 ssh2"],
  ["nginx", 6, "GET /api/orders 200 12ms"],
  ["postgres", 3, "ERROR: deadlock detected"],
  ["kernel", 4, "TCP: Possible SYN flooding on port 443"],
  ["CRON", 6, "(root) CMD (/usr/local/bin/backup.sh)"],
];

function batchOf(start: number, count: number, total: number, now: number): EventBatch {
  const span = DAYS * 86_400_000;
  const batch: EventBatch = {
    count,
    receivedAt: now,
    agentId: null,
    ts: new Float64Array(count),
    host: new Array(count),
    program: new Array(count),
    pid: new Int32Array(count).fill(-1),
    severity: new Int8Array(count),
    facility: new Int8Array(count).fill(-1),
    message: new Array(count),
    raw: new Array(count),
    flags: new Uint8Array(count),
    stream: new Array(count).fill(null),
    position: new Float64Array(count).fill(-1),
  };
  for (let k = 0; k < count; k++) {
    const i = start + k;
    const [program, severity, text] = PROGRAMS[i % PROGRAMS.length]!;
    const message = i % RARE_EVERY === 7 ? `${text} zanzibar` : text;
    const ts = now - span + Math.floor((i / total) * span);
    batch.ts[k] = ts;
    batch.host[k] = `host-${i % HOSTS}`;
    batch.program[k] = program;
    batch.severity[k] = severity;
    batch.message[k] = message;
    batch.raw[k] = `${new Date(ts).toISOString()} host-${i % HOSTS} ${program}: ${message}`;
  }
  return batch;
}

async function time(runs: number, work: () => Promise<unknown>): Promise<string> {
  const times = await timeRuns(runs, work);
  const at = (p: number) => percentile(times, p);
  return `median ${at(0.5).toFixed(1)} ms, max ${at(1).toFixed(1)} ms`;
}

if (import.meta.main) {
  const values = benchArgs(import.meta.url, {
    events: { type: "string", default: "5000000" },
    runs: { type: "string", default: "10" },
  });
  const total = numberOption("events", values.events, { min: 1 });
  const runs = numberOption("runs", values.runs, { min: 1 });
  const dir = await Deno.makeTempDir({ prefix: "nms-console-bench-" });
  const store = await openSqliteStore(join(dir, "nms.db"), { sync: "normal" });
  try {
    const now = Date.now();
    let start = performance.now();
    for (let i = 0; i < total; i += BATCH) {
      await store.appendEvents([batchOf(i, Math.min(BATCH, total - i), total, now)]);
      // As the writer does after each commit: the deferred indexes trail by less than a step.
      await store.indexDeferred?.();
    }
    while (await store.indexText!(50_000) > 0) { /* until the full-text index is complete */ }
    console.log(
      `console   ${total.toLocaleString("en-US")} events stored and indexed in ${
        ((performance.now() - start) / 1000).toFixed(0)
      } s`,
    );
    await using dashboard = await startDashboard({ store, port: 0, hostname: "127.0.0.1" });
    const get = await consoleGet(store, dashboard.url);
    const day = 86_400_000;
    const cases: [string, string][] = [
      ["newest 100, no filter", "/api/logs"],
      ["rare keyword", "/api/logs?q=zanzibar"],
      ["common keyword, newest 100", "/api/logs?q=deadlock"],
      ["host + last 6 hours", `/api/logs?host=host-42&from=${now - 6 * 3_600_000}&to=${now}`],
      ["severity err, last day", `/api/logs?severity=err&from=${now - day}`],
      ["page 50 via cursor (host)", "CURSOR"],
      ["count: rare keyword", "/api/logs/count?q=zanzibar"],
      ["count: host (capped at 100,000)", "/api/logs/count?host=host-42"],
      ["count: host + last hour", `/api/logs/count?host=host-42&from=${now - 3_600_000}`],
    ];
    for (const [name, path] of cases) {
      if (path === "CURSOR") {
        let cursor = "";
        for (let page = 0; page < 49; page++) {
          cursor =
            (await get(`/api/logs?host=host-7${cursor ? `&cursor=${cursor}` : ""}`)).nextCursor;
        }
        console.log(
          `console   ${name}: ${await time(
            runs,
            () => get(`/api/logs?host=host-7&cursor=${cursor}`),
          )}`,
        );
        continue;
      }
      const result = await get(path);
      const size = "events" in result ? `${result.events.length} events` : `count ${result.count}`;
      console.log(`console   ${name} (${size}): ${await time(runs, () => get(path))}`);
    }
    const stats = new StatsCollector(store, { now: () => now });
    start = performance.now();
    let read = 0;
    while (!stats.caughtUp || read === 0) read += await stats.poll();
    console.log(
      `console   statistics backlog of the last day: ${read.toLocaleString("en-US")} events in ${
        ((performance.now() - start) / 1000).toFixed(1)
      } s; summary(day): ${await time(runs, () => Promise.resolve(stats.summary("day")))}`,
    );
    stats.close();
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}
