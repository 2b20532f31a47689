// deno-lint-ignore-file no-console -- a benchmark's output is its result, printed for the person running it
/**
 * `deno task bench`: ingest throughput over the real protocol into a real
 * SQLite file, against the raw node:sqlite insert rate of the same schema
 * measured in the same run.
 *
 * Usage: deno run -A tests/bench/ingest.ts [--events N] [--clients K] [--workers 1,2,4]
 *          [--runs R] [--rules on|off|on,off] [--workload realistic|attack]
 *          [--text-index-max-lag EVENTS] [--text-index-max-catchup SECONDS]
 *
 * Besides the rate, each run reports how far the full-text index trailed when
 * the last event was acknowledged, and how long it took to catch up after.
 * `--rules on,off` runs both, alternating within each round, and reports what
 * the rules cost: the median over rounds of 1 - (rate with rules / rate
 * without) of the same round, and the same for the server's CPU time per event
 * (steadier on a shared machine). `--workload attack` sends a brute force's auth
 * log (every line a failed ssh password from one address) instead of the
 * realistic mix.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { parseLogLine } from "../../server/log_formats/mod.ts";
import { openSqliteStore } from "../../server/store/sqlite_store.ts";
import {
  DEFERRED_INDEX_STEP_ROWS,
  indexDeferredStep,
} from "../../server/store/sqlite_deferred_indexes.ts";
import { transaction } from "../../server/store/transaction.ts";
import { runClients, sampleLine, spawnServer, WORKLOADS } from "./_load.ts";
import { benchArgs, choiceOption, numberOption } from "./_args.ts";

const values = benchArgs(import.meta.url, {
  events: { type: "string", default: "1000000" },
  clients: { type: "string", default: "4" },
  workers: { type: "string", default: "1,2,4" },
  runs: { type: "string", default: "1" },
  rules: { type: "string", default: "on" },
  workload: { type: "string", default: "realistic" },
  "text-index-max-lag": { type: "string" },
  "text-index-max-catchup": { type: "string" },
});
const EVENTS = numberOption("events", values.events, { min: 1 });
const CLIENTS = numberOption("clients", values.clients, { min: 1 });
const WORKERS = values.workers.split(",").map((w) => numberOption("workers", w, { min: 1 }));
const RUNS = numberOption("runs", values.runs, { min: 1 });
/** Whether the built-in detection rules run, per configuration measured in each round. */
const RULES = values.rules.split(",").map((r) => choiceOption("rules", r, ["on", "off"]) === "on");
/** The lines the clients send. */
const WORKLOAD = choiceOption("workload", values.workload, WORKLOADS);
/** The server's `--text-index-max-lag`, when given. */
const TEXT_INDEX_MAX_LAG = optionalNumber("text-index-max-lag", { integer: true });
/** The server's `--text-index-max-catchup`, when given. */
const TEXT_INDEX_MAX_CATCHUP = optionalNumber("text-index-max-catchup", { integer: false });

/** A numeric option passed on to the server, checked here so a typo ends with one line. */
function optionalNumber(
  name: "text-index-max-lag" | "text-index-max-catchup",
  limits: { integer: boolean },
): string | undefined {
  const value = values[name];
  return value === undefined ? undefined : String(numberOption(name, value, limits));
}
/** The full-text settings given, as the server's flags. */
const TEXT_INDEX_FLAGS = [
  ...(TEXT_INDEX_MAX_LAG === undefined ? [] : ["--text-index-max-lag", TEXT_INDEX_MAX_LAG]),
  ...(TEXT_INDEX_MAX_CATCHUP === undefined
    ? []
    : ["--text-index-max-catchup", TEXT_INDEX_MAX_CATCHUP]),
];

/** How far the full-text index trails, read from the server's database; closed with `close()`. */
function textIndexLag(dbPath: string): { (): number; close(): void } {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  const statement = db.prepare(
    "SELECT (SELECT coalesce(max(id), 0) FROM logs) - value AS lag FROM meta WHERE key = 'fts_indexed_upto'",
  );
  return Object.assign(() => Number((statement.get() as { lag: number }).lag), {
    close: () => db.close(),
  });
}

/** Polls until the full-text index has reached the newest event; returns the seconds it took. */
async function textIndexCatchUp(lag: () => number): Promise<number> {
  const start = performance.now();
  while (lag() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  return (performance.now() - start) / 1000;
}

/**
 * Events sent and indexed before a run with `--text-index-max-catchup`, so the
 * server has measured its catch-up rate, as a running server has (a fresh one
 * assumes a conservative rate: server/ingest/text_index_lag.ts).
 */
const CATCHUP_WARMUP_EVENTS = 200_000;

/** Rows per multi-row INSERT and per transaction of the raw baseline. */
const RAW_ROWS_PER_INSERT = 500;
const RAW_ROWS_PER_TRANSACTION = 10_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function format(rate: number): string {
  return `${Math.round(rate).toLocaleString("en-US")} events/s`;
}

/**
 * Raw node:sqlite: multi-row INSERTs into the server's own schema, with the
 * steps of its deferred indexes, no protocol, no threads.
 */
async function rawInsertRate(dir: string): Promise<number> {
  const path = join(dir, "raw.db");
  await (await openSqliteStore(path)).close(); // creates the exact schema, indexes included
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  const columns =
    "received_at, ts, host, agent_id, program, pid, severity, facility, message, raw, flags, stream_id, pos, msg_start, msgid, structured_data";
  // The same 16 columns the server's INSERT binds (the last two are NULL for agent lines).
  const tuple = `(${Array(16).fill("?").join(",")})`;
  const insert = db.prepare(
    `INSERT INTO logs (${columns}) VALUES ${Array(RAW_ROWS_PER_INSERT).fill(tuple).join(",")}`,
  );
  db.exec("INSERT INTO streams (key) VALUES ('raw')");
  const width = 16;
  const params: (string | number | null)[] = new Array(RAW_ROWS_PER_INSERT * width);
  // The same rows the server stores: the bench's lines, parsed before the clock starts.
  const now = Date.now();
  const rows = Array.from({ length: EVENTS }, (_, i) => {
    const line = sampleLine(i % CLIENTS, Math.floor(i / CLIENTS), WORKLOAD);
    return { line, parsed: parseLogLine(line, now) };
  });
  const start = performance.now();
  let pos = 0;
  for (let t = 0; t < EVENTS / RAW_ROWS_PER_TRANSACTION; t++) {
    db.exec("BEGIN");
    for (let s = 0; s < RAW_ROWS_PER_TRANSACTION / RAW_ROWS_PER_INSERT; s++) {
      for (let r = 0; r < RAW_ROWS_PER_INSERT; r++) {
        const o = r * width;
        const { line, parsed } = rows[pos]!;
        params[o] = now;
        params[o + 1] = parsed.ts;
        params[o + 2] = parsed.host;
        params[o + 3] = 1;
        params[o + 4] = parsed.program;
        params[o + 5] = parsed.pid;
        params[o + 6] = parsed.severity;
        params[o + 7] = parsed.facility;
        params[o + 8] = null; // the message is the end of raw, as the server stores it
        params[o + 9] = line;
        params[o + 10] = 0;
        params[o + 11] = 1;
        params[o + 12] = ++pos;
        params[o + 13] = line.length - parsed.message.length;
        params[o + 14] = null;
        params[o + 15] = null;
      }
      insert.run(...params);
    }
    db.exec("COMMIT");
    // The indexes of hosts and origins, filled behind the inserts as the server's writer does.
    transaction(db, () => indexDeferredStep(db, DEFERRED_INDEX_STEP_ROWS));
  }
  const elapsed = performance.now() - start;
  db.close();
  return EVENTS / (elapsed / 1000);
}

const dir = await Deno.makeTempDir({ prefix: "nms-bench-" });
try {
  console.log(
    `NMS ingest benchmark: ${
      EVENTS.toLocaleString("en-US")
    } ${WORKLOAD} events, ${CLIENTS} pipelining clients, ` +
      `${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}, durable commits (synchronous=FULL)`,
  );
  // This machine's speed drifts by tens of percent from minute to minute, so
  // each round measures the baseline and then every configuration right
  // after it; ratios are taken within a round.
  interface Figures {
    rates: number[];
    ratios: number[];
    perCpu: number[];
    lagsAtStop: number[];
    catchUps: number[];
  }
  const raw: number[] = [];
  /** One configuration: workers and rules. */
  const configs = WORKERS.flatMap((workers) => RULES.map((rules) => ({ workers, rules })));
  const key = (c: { workers: number; rules: boolean }) => `${c.workers}/${c.rules}`;
  const figures = new Map<string, Figures>(
    configs.map((
      c,
    ) => [key(c), { rates: [], ratios: [], perCpu: [], lagsAtStop: [], catchUps: [] }]),
  );
  /** Per workers: 1 - rate with rules / rate without, of each round. */
  const costs = new Map<number, number[]>(WORKERS.map((w) => [w, []]));
  /** Per workers: 1 - events per server CPU-second with rules / without, of each round. */
  const cpuCosts = new Map<number, number[]>(WORKERS.map((w) => [w, []]));
  for (let r = 0; r < RUNS; r++) {
    const baseline = await rawInsertRate(await Deno.makeTempDir({ dir }));
    raw.push(baseline);
    // Alternate the order of rules on and off between rounds, so drift favours neither.
    const order = r % 2 === 0 ? configs : [...configs].reverse();
    const roundRates = new Map<string, number>();
    const roundPerCpu = new Map<string, number>();
    for (const { workers, rules } of order) {
      const f = figures.get(key({ workers, rules }))!;
      const serverDir = await Deno.makeTempDir({ dir });
      const server = await spawnServer(serverDir, [
        "--workers",
        String(workers),
        ...(rules ? [] : ["--no-builtin-rules"]),
        ...TEXT_INDEX_FLAGS,
      ]);
      const lag = textIndexLag(join(serverDir, "nms.db"));
      try {
        if (TEXT_INDEX_MAX_CATCHUP !== undefined) {
          await runClients(server.port, CLIENTS, Math.floor(CATCHUP_WARMUP_EVENTS / CLIENTS));
          await textIndexCatchUp(lag);
        }
        const cpuBefore = await server.cpuSeconds();
        const ms = await runClients(
          server.port,
          CLIENTS,
          Math.floor(EVENTS / CLIENTS),
          "EVENT",
          WORKLOAD,
        );
        const cpu = (await server.cpuSeconds()) - cpuBefore;
        const rate = EVENTS / (ms / 1000);
        f.rates.push(rate);
        roundRates.set(key({ workers, rules }), rate);
        roundPerCpu.set(key({ workers, rules }), EVENTS / cpu);
        f.ratios.push(rate / baseline);
        f.perCpu.push(EVENTS / cpu);
        f.lagsAtStop.push(lag());
        f.catchUps.push(await textIndexCatchUp(lag));
      } finally {
        lag.close();
        await server.stop();
      }
    }
    for (const workers of WORKERS) {
      const on = roundRates.get(key({ workers, rules: true }));
      const off = roundRates.get(key({ workers, rules: false }));
      if (on !== undefined && off !== undefined) costs.get(workers)!.push(1 - on / off);
      const cpuOn = roundPerCpu.get(key({ workers, rules: true }));
      const cpuOff = roundPerCpu.get(key({ workers, rules: false }));
      if (cpuOn !== undefined && cpuOff !== undefined) {
        cpuCosts.get(workers)!.push(1 - cpuOn / cpuOff);
      }
    }
  }
  const range = (values: number[]) =>
    `${format(median(values))} (min ${format(Math.min(...values))}, max ${
      format(Math.max(...values))
    })`;
  console.log(`baseline  raw node:sqlite multi-row INSERT, same schema: ${range(raw)}`);
  let best = 0;
  let bestRatio = 0;
  for (const { workers, rules } of configs) {
    const f = figures.get(key({ workers, rules }))!;
    best = Math.max(best, median(f.rates));
    bestRatio = Math.max(bestRatio, median(f.ratios));
    console.log(
      `nms       --workers ${workers}, rules ${rules ? "on" : "off"}: ${
        range(f.rates)
      }, ratio to the same round's raw ${median(f.ratios).toFixed(2)} (${
        Math.min(...f.ratios).toFixed(2)
      }–${Math.max(...f.ratios).toFixed(2)}), ${format(median(f.perCpu))} per server CPU-second`,
    );
    console.log(
      `          full-text index when the load stopped: ${
        median(f.lagsAtStop).toLocaleString("en-US")
      } events behind, caught up ${median(f.catchUps).toFixed(1)} s later (max ${
        Math.max(...f.catchUps).toFixed(1)
      } s)${TEXT_INDEX_FLAGS.length === 0 ? "" : `, ${TEXT_INDEX_FLAGS.join(" ")}`}`,
    );
  }
  for (const [workers, cost] of costs) {
    if (cost.length === 0) continue;
    console.log(
      `rules     --workers ${workers}: the rules cost ${
        (median(cost) * 100).toFixed(1)
      }% of ${WORKLOAD} ingest (median of ${cost.length} rounds; ${
        cost.map((c) => `${(c * 100).toFixed(1)}%`).join(", ")
      }), ${(median(cpuCosts.get(workers)!) * 100).toFixed(1)}% of the server's CPU per event (${
        cpuCosts.get(workers)!.map((c) => `${(c * 100).toFixed(1)}%`).join(", ")
      })`,
    );
  }
  console.log(`result    best ${format(best)}, best median ratio ${bestRatio.toFixed(2)} x raw`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
