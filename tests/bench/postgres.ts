/**
 * Ingest over the real protocol into PostgreSQL with one and with two
 * nms-server processes sharing the database, beside SQLite, in one run; plus
 * the raw PostgreSQL insert rate of the same schema (no protocol, no server)
 * and the CPU time each side used, to show where the bottleneck is.
 *
 * Usage: deno run -A tests/bench/postgres.ts --store postgres://user@host:port/db
 *          [--events N] [--clients K] [--workers W]
 *
 * Each configuration gets a fresh schema (`nms_bench_<random>`), dropped at the end.
 *
 * @module
 */

import postgres from "postgres";
import { openPostgresStore } from "../../server/store/postgres_store.ts";
import type { EventBatch } from "../../server/store/store.ts";
import { runClients, sampleLine, type ServerProcess, spawnServer } from "./_load.ts";
import { benchArgs, numberOption, usageError } from "./_args.ts";

const values = benchArgs(import.meta.url, {
  store: { type: "string", default: Deno.env.get("NMS_STORE") ?? "" },
  events: { type: "string", default: "200000" },
  clients: { type: "string", default: "4" },
  workers: { type: "string", default: "1" },
});
if (!values.store.startsWith("postgres://") && !values.store.startsWith("postgresql://")) {
  usageError(`--store expects a postgres://user@host:port/db URL, got "${values.store}"`);
}
const BASE_URL = values.store;
const EVENTS = numberOption("events", values.events, { min: 1 });
const CLIENTS = numberOption("clients", values.clients, { min: 1 });
const WORKERS = String(numberOption("workers", values.workers, { min: 1 }));

/** Rows per transaction of the raw baseline, like a busy group commit. */
const RAW_ROWS_PER_TRANSACTION = 10_000;

/** Writes one line of the report on stdout. */
function print(line: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
}

function format(rate: number): string {
  return `${Math.round(rate).toLocaleString("en-US")} events/s`;
}

/** CPU seconds (user + system) used so far by the processes whose command name is `name`. */
async function cpuSecondsOf(name: string): Promise<number> {
  let ticks = 0;
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (comm !== name) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks / 100;
}

/** A fresh schema URL and a function that drops it. */
function benchSchema(): { url: string; drop(): Promise<void> } {
  const name = `nms_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const url = new URL(BASE_URL);
  url.searchParams.set("schema", name);
  return {
    url: url.href,
    async drop() {
      const sql = postgres(BASE_URL, { max: 1, onnotice: () => {} });
      try {
        await sql`DROP SCHEMA IF EXISTS ${sql(name)} CASCADE`;
      } finally {
        await sql.end();
      }
    },
  };
}

/**
 * The store's own appendEvents into a fresh schema, in 10,000-row groups: no
 * protocol, no workers. With 2 writers, two stores (as two servers would)
 * append at once, each its own stream.
 */
async function rawPostgresRate(writers: number): Promise<number> {
  const schema = benchSchema();
  const stores = [];
  for (let w = 0; w < writers; w++) {
    stores.push(await openPostgresStore(schema.url, { maxConnections: 1 }));
  }
  try {
    const now = Date.now();
    const lines = Array.from({ length: RAW_ROWS_PER_TRANSACTION }, (_, i) => sampleLine(0, i));
    const positions = new Array(writers).fill(0);
    const batch = (writer: number): EventBatch => {
      const n = RAW_ROWS_PER_TRANSACTION;
      return {
        count: n,
        receivedAt: now,
        agentId: null,
        ts: new Float64Array(n).fill(now),
        host: new Array(n).fill("web-0"),
        program: new Array(n).fill("sshd"),
        pid: new Int32Array(n).fill(812),
        severity: new Int8Array(n).fill(6),
        facility: new Int8Array(n).fill(4),
        message: lines.map((line) => line.slice(32)),
        raw: lines,
        flags: new Uint8Array(n),
        stream: new Array(n).fill(`raw-${writer}`),
        position: Float64Array.from({ length: n }, () => ++positions[writer]),
      };
    };
    await stores[0]!.ensurePartitions(now);
    const groups = Math.max(1, Math.floor(EVENTS / RAW_ROWS_PER_TRANSACTION / writers));
    const start = performance.now();
    await Promise.all(stores.map(async (store, w) => {
      for (let t = 0; t < groups; t++) await store.appendEvents([batch(w)]);
    }));
    return (groups * writers * RAW_ROWS_PER_TRANSACTION) / ((performance.now() - start) / 1000);
  } finally {
    for (const store of stores) await store.close();
    await schema.drop();
  }
}

interface Measure {
  readonly rate: number;
  readonly serverCpu: number;
  readonly postgresCpu: number;
  readonly wallSeconds: number;
}

/** Runs the clients spread over `servers` and measures rate and CPU. */
async function measure(servers: ServerProcess[]): Promise<Measure> {
  const cpu = async () => {
    let total = 0;
    for (const s of servers) total += await s.cpuSeconds();
    return total;
  };
  const serverBefore = await cpu();
  const pgBefore = await cpuSecondsOf("postgres");
  const perServer = Math.ceil(CLIENTS / servers.length);
  const perClient = Math.floor(EVENTS / (perServer * servers.length));
  const elapsed = await Promise.all(servers.map((s) => runClients(s.port, perServer, perClient)));
  const wallSeconds = Math.max(...elapsed) / 1000;
  return {
    rate: (perClient * perServer * servers.length) / wallSeconds,
    serverCpu: (await cpu()) - serverBefore,
    postgresCpu: (await cpuSecondsOf("postgres")) - pgBefore,
    wallSeconds,
  };
}

function line(label: string, m: Measure): void {
  print(
    `${label.padEnd(36)} ${format(m.rate).padStart(18)}   wall ${m.wallSeconds.toFixed(1)} s, ` +
      `CPU: nms-server ${m.serverCpu.toFixed(1)} s, postgres ${m.postgresCpu.toFixed(1)} s`,
  );
}

const dir = await Deno.makeTempDir({ prefix: "nms-bench-pg-" });
const extra = ["--workers", WORKERS, "--http-port", "0"];
try {
  print(
    `NMS PostgreSQL ingest benchmark: ${EVENTS.toLocaleString("en-US")} events, ${CLIENTS} ` +
      `pipelining clients, --workers ${WORKERS}, ${navigator.hardwareConcurrency} CPUs, durable commits`,
  );
  for (const writers of [1, 2]) {
    const label = `raw appendEvents, ${writers} writer${writers > 1 ? "s" : ""}`;
    print(
      `${label.padEnd(36)} ${
        format(await rawPostgresRate(writers)).padStart(18)
      }   (10,000-row groups, no protocol)`,
    );
  }

  const sqlite = await spawnServer(await Deno.makeTempDir({ dir }), extra);
  try {
    line("SQLite, 1 server", await measure([sqlite]));
  } finally {
    await sqlite.stop();
  }

  for (const count of [1, 2]) {
    const schema = benchSchema();
    const servers: ServerProcess[] = [];
    try {
      // Started one after the other: the first migrates the new schema.
      for (let i = 0; i < count; i++) {
        servers.push(
          await spawnServer(await Deno.makeTempDir({ dir }), [...extra, "--store", schema.url]),
        );
      }
      line(`PostgreSQL, ${count} server${count > 1 ? "s" : ""}`, await measure(servers));
    } finally {
      for (const s of servers) await s.stop();
      await schema.drop();
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
