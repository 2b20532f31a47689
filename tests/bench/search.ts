// deno-lint-ignore-file no-console -- a benchmark's output is its result, printed for the person running it
/**
 * Search on a large store: a rare keyword, a host + time range, and
 * per-minute counts for the last hour, each timed over repeated runs.
 *
 * Usage: deno run -A tests/bench/search.ts [--events 10000000] [--runs 20]
 *
 * @module
 */

import { join } from "node:path";
import { openSqliteStore } from "../../server/store/sqlite_store.ts";
import type { EventBatch } from "../../server/store/store.ts";
import { parseLogLine } from "../../server/log_formats/mod.ts";
import { benchArgs, numberOption } from "./_args.ts";
import { percentile, timeRuns } from "./_timing.ts";

/** Options of {@linkcode runSearchBench}. */
export interface SearchBenchOptions {
  /** Events stored before timing. @default {10000000} */
  events?: number;
  /** Timed runs of each query. @default {20} */
  runs?: number;
}

const HOSTS = 200;
const DAYS = 7;
const BATCH = 10_000;
/** One event in this many carries the rare word. */
const RARE_EVERY = 200_000;

function batchOf(start: number, count: number, total: number, now: number): EventBatch {
  const span = DAYS * 86_400_000;
  const batch: EventBatch = {
    count,
    receivedAt: now,
    agentId: null,
    ts: new Float64Array(count),
    host: new Array(count),
    program: new Array(count),
    pid: new Int32Array(count),
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
    const ts = now - span + Math.floor((i / total) * span);
    const host = `host-${i % HOSTS}`;
    const word = i % RARE_EVERY === 7 ? "zanzibar" : "deploy";
    const raw = `${new Date(ts).toISOString()} ${host} sshd[${
      i % 30000
    }]: Accepted publickey for ${word} from 10.${i % 250}.${(i >> 8) % 250}.${i % 7} port ${
      40000 + (i % 20000)
    } ssh2`;
    const parsed = parseLogLine(raw, now);
    batch.ts[k] = parsed.ts ?? ts;
    batch.host[k] = parsed.host;
    batch.program[k] = parsed.program;
    batch.pid[k] = parsed.pid ?? -1;
    batch.severity[k] = parsed.severity ?? -1;
    batch.message[k] = parsed.message;
    batch.raw[k] = raw;
  }
  return batch;
}

async function time(runs: number, query: () => Promise<unknown>): Promise<string> {
  const times = await timeRuns(runs, query);
  const at = (p: number) => percentile(times, p).toFixed(1);
  return `median ${at(0.5)} ms, p95 ${at(0.95)} ms`;
}

/**
 * Builds the store, indexes it, and prints the timings.
 *
 * @param options Size and repetitions.
 */
export async function runSearchBench(options: SearchBenchOptions = {}): Promise<void> {
  const total = options.events ?? 10_000_000;
  const runs = options.runs ?? 20;
  const dir = await Deno.makeTempDir({ prefix: "nms-search-bench-" });
  const store = await openSqliteStore(join(dir, "nms.db"), { sync: "normal" });
  try {
    const now = Date.now();
    const loadStart = performance.now();
    for (let start = 0; start < total; start += BATCH) {
      await store.appendEvents([batchOf(start, Math.min(BATCH, total - start), total, now)]);
      // As the writer does after each commit: the deferred indexes trail by less than a step.
      await store.indexDeferred?.();
    }
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const indexStart = performance.now();
    while (await store.indexText!(50_000) > 0) { /* until the index is complete */ }
    const indexSeconds = (performance.now() - indexStart) / 1000;
    console.log(
      `search    ${total.toLocaleString("en-US")} events stored in ${loadSeconds.toFixed(0)} s, ` +
        `full-text indexed in ${indexSeconds.toFixed(0)} s (${
          Math.round(total / indexSeconds).toLocaleString("en-US")
        } events/s)`,
    );
    const rare = await store.queryEvents({ text: "zanzibar", limit: 100 });
    console.log(
      `search    rare keyword (${rare.length} hits): ${await time(
        runs,
        () => store.queryEvents({ text: "zanzibar", limit: 100 }),
      )}`,
    );
    console.log(
      `search    host + last 6 hours, newest 100: ${await time(
        runs,
        () =>
          store.queryEvents({
            host: "host-42",
            sinceMs: now - 6 * 3_600_000,
            untilMs: now,
            limit: 100,
          }),
      )}`,
    );
    const minutes = await store.eventHistogram({
      sinceMs: now - 3_600_000,
      untilMs: now,
      bucketMs: 60_000,
    });
    console.log(
      `search    per-minute counts, last hour (${
        minutes.reduce((n, m) => n + m.count, 0).toLocaleString("en-US")
      } events): ${await time(
        runs,
        () => store.eventHistogram({ sinceMs: now - 3_600_000, untilMs: now, bucketMs: 60_000 }),
      )}`,
    );
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const values = benchArgs(import.meta.url, {
    events: { type: "string", default: "10000000" },
    runs: { type: "string", default: "20" },
  });
  await runSearchBench({
    events: numberOption("events", values.events, { min: 1 }),
    runs: numberOption("runs", values.runs, { min: 1 }),
  });
}
