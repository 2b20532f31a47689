/**
 * Ingest over the real protocol into PostgreSQL with one and with two
 * nms-server collectors sharing the database, beside the raw `COPY` of the
 * same rows into the same schema measured in the same round, and SQLite for
 * reference. Per collector it reports the CPU time it used (and PostgreSQL's
 * for its connections) and the time its connections spent waiting on locks,
 * sampled from `pg_stat_activity` during the run.
 *
 * Usage: deno run -A tests/bench/postgres.ts --store postgres://user@host:port/db
 *          [--events N] [--clients K] [--workers W] [--runs R] [--rules on|off]
 *
 * Every configuration gets a fresh schema (`nms_bench_<random>`), dropped at
 * the end. Rounds alternate the configurations; medians are printed last.
 *
 * @module
 */

import postgres from "postgres";
import { parseLogLine } from "../../server/log_formats/mod.ts";
import { openPostgresStore } from "../../server/store/postgres_store.ts";
import { BinaryCopyEncoder } from "../../server/store/_postgres_copy.ts";
import { noDelaySockets } from "../../server/store/_postgres_socket.ts";
import { runClients, sampleLine, type ServerProcess, spawnServer } from "./_load.ts";
import { benchArgs, choiceOption, numberOption, usageError } from "./_args.ts";

const values = benchArgs(import.meta.url, {
  store: { type: "string", default: Deno.env.get("NMS_STORE") ?? "" },
  events: { type: "string", default: "200000" },
  clients: { type: "string", default: "4" },
  workers: { type: "string", default: "1" },
  runs: { type: "string", default: "1" },
  rules: { type: "string", default: "off" },
});
if (!values.store.startsWith("postgres://") && !values.store.startsWith("postgresql://")) {
  usageError(`--store expects a postgres://user@host:port/db URL, got "${values.store}"`);
}
const BASE_URL = values.store;
const CLIENTS = numberOption("clients", values.clients, { min: 1 });
const EVENTS = Math.floor(numberOption("events", values.events, { min: 1 }) / CLIENTS) * CLIENTS;
const WORKERS = String(numberOption("workers", values.workers, { min: 1 }));
const RUNS = numberOption("runs", values.runs, { min: 1 });
/** The built-in detection rules are off by default here, to isolate the store. */
const RULES_ON = choiceOption("rules", values.rules, ["on", "off"]) === "on";

/** Interval between two samples of the collectors' wait events, in ms. */
const WAIT_SAMPLE_MS = 25;

/** Columns of the raw COPY: what a collector writes, its ids left to the sequence. */
const RAW_COLUMNS = "received_at, ts, host, program, pid, severity, facility, raw, message, " +
  "flags, stream_id, pos";

/** Writes one line of the report on stdout. */
function print(line: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
}

function rate(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** CPU seconds (user + system) a process has used so far, 0 when it is gone. */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** A connection to the base database for the bench's own queries. */
function admin(max = 1, applicationName = "nms-bench"): postgres.Sql {
  return postgres(BASE_URL, {
    max,
    onnotice: () => {},
    socket: noDelaySockets(),
    connection: { application_name: applicationName },
  } as postgres.Options<Record<string, never>>);
}

/** A fresh schema, migrated, and a function that drops it. */
async function benchSchema(): Promise<
  { name: string; url(app: string): string; drop(): Promise<void> }
> {
  const name = `nms_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const url = (app: string) => {
    const u = new URL(BASE_URL);
    u.searchParams.set("schema", name);
    u.searchParams.set("application_name", app);
    return u.href;
  };
  const store = await openPostgresStore(url("nms-bench-setup"), { maxConnections: 1 });
  await store.ensurePartitions(Date.now());
  await store.close();
  return {
    name,
    url,
    async drop() {
      const sql = admin();
      try {
        await sql`DROP SCHEMA IF EXISTS ${sql(name)} CASCADE`;
      } finally {
        await sql.end();
      }
    },
  };
}

/** PostgreSQL backends by application name, with the CPU each has used so far. */
async function backendCpu(
  sql: postgres.Sql,
  apps: readonly string[],
): Promise<Map<number, number>> {
  const rows = await sql`SELECT pid FROM pg_stat_activity WHERE application_name = ANY(${apps})`;
  const cpu = new Map<number, number>();
  for (const row of rows) cpu.set(Number(row.pid), await cpuSeconds(Number(row.pid)));
  return cpu;
}

/** CPU used by the backends of `apps` since `before` was taken (new backends count whole). */
async function backendCpuSince(
  sql: postgres.Sql,
  apps: readonly string[],
  before: Map<number, number>,
): Promise<number> {
  let total = 0;
  for (const [pid, now] of await backendCpu(sql, apps)) total += now - (before.get(pid) ?? 0);
  return total;
}

/**
 * Samples the wait events of the backends of `apps` until stopped. Returns,
 * per wait (`Lock:transactionid`, `LWLock:WALWrite`, …), the estimated
 * seconds spent in it summed over the backends.
 */
function sampleWaits(
  sql: postgres.Sql,
  apps: readonly string[],
): () => Promise<Map<string, number>> {
  const waits = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const rows = await sql`SELECT wait_event_type, wait_event FROM pg_stat_activity
        WHERE application_name = ANY(${apps}) AND state = 'active' AND wait_event IS NOT NULL`;
      for (const row of rows) {
        const key = `${row.wait_event_type}:${row.wait_event}`;
        waits.set(key, (waits.get(key) ?? 0) + WAIT_SAMPLE_MS / 1000);
      }
      const rest = WAIT_SAMPLE_MS - (performance.now() - started);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return waits;
  };
}

/** The events the clients send, as a collector stores them: one stream per client. */
function sampleRows(): { text: Uint8Array; binary: Uint8Array } {
  const now = Date.now();
  const perClient = EVENTS / CLIENTS;
  const binary = new BinaryCopyEncoder();
  const binaryChunks: Uint8Array[] = [];
  let text = "";
  const textChunks: Uint8Array[] = [];
  const escape = (s: string) =>
    s.replace(/[\\\t\n\r]/g, (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c]!);
  for (let c = 0; c < CLIENTS; c++) {
    for (let i = 0; i < perClient; i++) {
      const raw = sampleLine(c, i);
      const p = parseLogLine(raw, now);
      const ts = Math.floor(p.ts ?? now);
      text += `${now}\t${ts}\t${p.host === null ? "\\N" : escape(p.host)}\t${
        p.program === null ? "\\N" : escape(p.program)
      }\t${p.pid ?? "\\N"}\t${p.severity ?? "\\N"}\t${p.facility ?? "\\N"}\t${escape(raw)}\t${
        escape(p.message)
      }\t0\t${c + 1}\t${i + 1}\n`;
      if (text.length > 1 << 20) {
        textChunks.push(new TextEncoder().encode(text));
        text = "";
      }
      binary.row(12);
      binary.int64(now);
      binary.int64(ts);
      if (p.host === null) binary.null();
      else binary.text(p.host);
      if (p.program === null) binary.null();
      else binary.text(p.program);
      if (p.pid === null) binary.null();
      else binary.int32(p.pid);
      if (p.severity === null) binary.null();
      else binary.int16(p.severity);
      if (p.facility === null) binary.null();
      else binary.int16(p.facility);
      binary.text(raw);
      binary.text(p.message);
      binary.int16(0);
      binary.int64(c + 1);
      binary.int64(i + 1);
      if (binary.length > 1 << 20) binaryChunks.push(binary.take());
    }
  }
  binary.end();
  binaryChunks.push(binary.take());
  textChunks.push(new TextEncoder().encode(text));
  const join = (chunks: Uint8Array[]) => {
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) (all.set(c, at), at += c.length);
    return all;
  };
  return { text: join(textChunks), binary: join(binaryChunks) };
}

/** One raw COPY: the figures of a configuration. */
interface Measure {
  readonly rate: number;
  /** PostgreSQL CPU per event, µs. */
  readonly pgMicros: number;
}

/**
 * COPY of all the rows in one statement, into the `logs` of a fresh schema
 * (or into an unpartitioned table of the same columns and indexes), as
 * `psql`'s `\copy` would: the data encoded before the clock starts.
 */
async function rawCopy(
  data: Uint8Array,
  format: "text" | "binary",
  partitioned: boolean,
): Promise<Measure> {
  const schema = await benchSchema();
  const app = "nms-bench-raw";
  const sql = postgres(BASE_URL, {
    max: 1,
    onnotice: () => {},
    socket: noDelaySockets(),
    connection: { search_path: schema.name, application_name: app },
  } as postgres.Options<Record<string, never>>);
  try {
    let table = "logs";
    if (!partitioned) {
      table = "logs_flat";
      await sql`CREATE TABLE logs_flat (LIKE logs INCLUDING ALL)`;
    }
    await sql`SELECT 1`;
    const before = await backendCpu(sql, [app]);
    const start = performance.now();
    const stream = await sql.unsafe(
      `COPY ${table} (${RAW_COLUMNS}) FROM STDIN${format === "binary" ? " (FORMAT binary)" : ""}`,
    ).writable();
    await new Promise<void>((resolve, reject) => {
      stream.on("error", reject);
      for (let at = 0; at < data.length; at += 1 << 20) {
        stream.write(data.subarray(at, at + (1 << 20)));
      }
      stream.end(resolve);
    });
    const seconds = (performance.now() - start) / 1000;
    const pg = await backendCpuSince(sql, [app], before);
    return { rate: EVENTS / seconds, pgMicros: (pg / EVENTS) * 1e6 };
  } finally {
    await sql.end();
    await schema.drop();
  }
}

/** Figures of collectors ingesting over the protocol. */
interface CollectorMeasure extends Measure {
  /** Events per CPU-second of the collectors (nms-server processes). */
  readonly perCollectorCpu: number;
  /** Collector CPU per event, µs. */
  readonly collectorMicros: number;
  /** Seconds the collectors' connections waited on heavyweight locks (summed). */
  readonly lockWait: number;
  readonly wallSeconds: number;
  /** Every wait sampled, in seconds. */
  readonly waits: Map<string, number>;
}

/** Runs the clients spread over `count` collectors on a fresh schema. */
async function collectors(count: number, dir: string): Promise<CollectorMeasure> {
  const schema = await benchSchema();
  const apps = Array.from({ length: count }, (_, i) => `nms-bench-collector-${i + 1}`);
  const servers: ServerProcess[] = [];
  const sql = admin(2);
  try {
    for (const app of apps) {
      servers.push(
        await spawnServer(await Deno.makeTempDir({ dir }), [
          "--workers",
          WORKERS,
          "--http-port",
          "0",
          ...(RULES_ON ? [] : ["--no-builtin-rules"]),
          "--store",
          schema.url(app),
        ]),
      );
    }
    const cpu = async () => {
      let total = 0;
      for (const s of servers) total += await s.cpuSeconds();
      return total;
    };
    const serverBefore = await cpu();
    const pgBefore = await backendCpu(sql, apps);
    const stopSampling = sampleWaits(sql, apps);
    const perServer = CLIENTS / count;
    const elapsed = await Promise.all(
      servers.map((s) => runClients(s.port, perServer, EVENTS / CLIENTS)),
    );
    const waits = await stopSampling();
    const wallSeconds = Math.max(...elapsed) / 1000;
    const serverCpu = (await cpu()) - serverBefore;
    const pg = await backendCpuSince(sql, apps, pgBefore);
    let lockWait = 0;
    for (const [key, seconds] of waits) if (key.startsWith("Lock:")) lockWait += seconds;
    return {
      rate: EVENTS / wallSeconds,
      pgMicros: (pg / EVENTS) * 1e6,
      perCollectorCpu: EVENTS / serverCpu,
      collectorMicros: (serverCpu / EVENTS) * 1e6,
      lockWait,
      wallSeconds,
      waits,
    };
  } finally {
    for (const s of servers) await s.stop();
    await sql.end();
    await schema.drop();
  }
}

/** One SQLite server, for reference. */
async function sqlite(dir: string): Promise<number> {
  const server = await spawnServer(await Deno.makeTempDir({ dir }), [
    "--workers",
    WORKERS,
    ...(RULES_ON ? [] : ["--no-builtin-rules"]),
  ]);
  try {
    return EVENTS / (await runClients(server.port, CLIENTS, EVENTS / CLIENTS) / 1000);
  } finally {
    await server.stop();
  }
}

const dir = await Deno.makeTempDir({ prefix: "nms-bench-pg-" });
try {
  print(
    `NMS PostgreSQL ingest benchmark: ${rate(EVENTS)} events, ${CLIENTS} pipelining clients, ` +
      `--workers ${WORKERS}, rules ${RULES_ON ? "on" : "off"}, ` +
      `${navigator.hardwareConcurrency} CPUs, durable commits, ${RUNS} round${RUNS > 1 ? "s" : ""}`,
  );
  const data = sampleRows();
  const rounds: {
    text: Measure;
    binary: Measure;
    flat: Measure;
    one: CollectorMeasure;
    two: CollectorMeasure;
    sqlite: number;
  }[] = [];
  const raw = (label: string, m: Measure) =>
    print(
      `  ${label.padEnd(44)} ${rate(m.rate).padStart(9)} rows/s    PostgreSQL ${
        m.pgMicros.toFixed(2)
      } µs/row`,
    );
  const nms = (label: string, m: CollectorMeasure, best: number) =>
    print(
      `  ${label.padEnd(44)} ${rate(m.rate).padStart(9)} events/s  ${
        (m.rate / best).toFixed(2)
      }x raw COPY, ` +
        `${rate(m.perCollectorCpu)} events per collector CPU-s (${
          m.collectorMicros.toFixed(1)
        } µs), ` +
        `PostgreSQL ${m.pgMicros.toFixed(2)} µs/event, lock waits ${
          (m.lockWait * 1000).toFixed(0)
        } ms ` +
        `of ${m.wallSeconds.toFixed(1)} s`,
    );
  for (let r = 0; r < RUNS; r++) {
    print(`round ${r + 1}`);
    const text = await rawCopy(data.text, "text", true);
    raw("raw COPY text, one statement", text);
    const binary = await rawCopy(data.binary, "binary", true);
    raw("raw COPY binary, one statement", binary);
    const flat = await rawCopy(data.binary, "binary", false);
    raw("raw COPY binary, logs not partitioned", flat);
    const best = Math.max(text.rate, binary.rate);
    const one = await collectors(1, dir);
    nms("NMS on PostgreSQL, 1 collector", one, best);
    const two = await collectors(2, dir);
    nms("NMS on PostgreSQL, 2 collectors", two, best);
    const sorted = [...two.waits].sort((a, b) => b[1] - a[1]);
    const list = (waits: [string, number][]) =>
      waits.map(([key, s]) => `${key} ${(s * 1000).toFixed(0)} ms`).join(", ") || "none";
    print(
      `  ${"waits sampled, 2 collectors".padEnd(44)} on locks: ${
        list(sorted.filter(([key]) => key.startsWith("Lock:")))
      }; other: ${list(sorted.filter(([key]) => !key.startsWith("Lock:")).slice(0, 4))}`,
    );
    const reference = await sqlite(dir);
    print(
      `  ${"NMS on SQLite, 1 server (reference)".padEnd(44)} ${
        rate(reference).padStart(9)
      } events/s`,
    );
    rounds.push({ text, binary, flat, one, two, sqlite: reference });
  }
  const med = (pick: (round: (typeof rounds)[number]) => number) => median(rounds.map(pick));
  const bestOf = (round: (typeof rounds)[number]) => Math.max(round.text.rate, round.binary.rate);
  print(`medians of ${RUNS} round${RUNS > 1 ? "s" : ""}`);
  print(
    `  raw COPY text ${rate(med((r) => r.text.rate))} rows/s, binary ${
      rate(med((r) => r.binary.rate))
    } rows/s, binary unpartitioned ${rate(med((r) => r.flat.rate))} rows/s`,
  );
  print(
    `  1 collector ${rate(med((r) => r.one.rate))} events/s = ${
      med((r) => r.one.rate / bestOf(r)).toFixed(2)
    }x raw COPY, ` +
      `${rate(med((r) => r.one.perCollectorCpu))} events per collector CPU-s, lock waits ${
        (med((r) => r.one.lockWait) * 1000).toFixed(0)
      } ms`,
  );
  print(
    `  2 collectors ${rate(med((r) => r.two.rate))} events/s = ${
      med((r) => r.two.rate / bestOf(r)).toFixed(2)
    }x raw COPY, ` +
      `${med((r) => r.two.rate / r.one.rate).toFixed(2)}x 1 collector, ` +
      `${rate(med((r) => r.two.perCollectorCpu))} events per collector CPU-s, lock waits ${
        (med((r) => r.two.lockWait) * 1000).toFixed(0)
      } ms`,
  );
  print(`  SQLite ${rate(med((r) => r.sqlite))} events/s`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
