// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * The Agents view's API on a large fleet: `/api/agents` pages (status filter,
 * substring and prefix filters, deep offsets and cursors, every order) with
 * the counts per status, timed over real HTTP against nodes seeded through
 * the store and then 19,999 heartbeats (on PostgreSQL after a vacuum: the
 * most dead row versions the store lets pass), and one REGISTER's store cost
 * with that many nodes known beside one with a hundred (the baseline of the
 * same run).
 *
 * Usage: deno run -A tests/bench/agents_page.ts [--nodes 100000] [--runs 20] [--store <url>]
 *
 * @module
 */

import { startDashboard } from "../../server/dashboard/mod.ts";
import {
  AGENTS_VACUUM_CHANGES,
  openPostgresStore,
  openStore,
  type Store,
} from "../../server/store/mod.ts";
import type { AgentChange } from "../../server/store/store.ts";
import { benchArgs, numberOption } from "./_args.ts";
import { consoleGet } from "./_console_get.ts";
import { percentile, timeRuns } from "./_timing.ts";

const SEED_CHUNK = 10_000;
const HEARTBEAT_SECONDS = 30;

/**
 * Seeds `nodes` nodes with a mix of statuses, through the store's own
 * changes; returns the ids of the nodes seeded alive.
 */
async function seed(store: Store, nodes: number, now: number): Promise<number[]> {
  const alive: number[] = [];
  for (let start = 0; start < nodes; start += SEED_CHUNK) {
    const count = Math.min(SEED_CHUNK, nodes - start);
    const registers: AgentChange[] = Array.from({ length: count }, (_, j) => {
      const i = start + j;
      return {
        kind: "register",
        registration: {
          hostname: `host-${String(i).padStart(6, "0")}`,
          version: i % 10 === 0 ? "1.3.0" : "1.4.2",
          os: i % 3 === 0 ? "Alpine Linux" : "Debian GNU/Linux 12",
          address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:40000`,
          at: now - 600_000,
        },
      };
    });
    const results = await store.applyAgentChanges(registers);
    // 90% alive, 5% late, 3% silent, 1% lost, 1% stopped, by the clock of this chunk:
    // statuses are computed with the real clock, and a slow seed ages the first chunks.
    const chunkNow = Math.max(now, Date.now());
    const changes: AgentChange[] = results.flatMap(({ agentId }, j): AgentChange[] => {
      const bucket = (start + j) % 100;
      if (bucket < 90) alive.push(agentId);
      const at = bucket < 90 ? chunkNow : bucket < 95 ? chunkNow - 60_000 : chunkNow - 200_000;
      const beat: AgentChange = {
        kind: "heartbeat",
        heartbeat: { agentId, uptimeSeconds: 3600, lagBytes: 0, at },
      };
      if (bucket === 98) return [beat, { kind: "disconnect", agentId, at, lastContact: at }];
      if (bucket === 99) return [beat, { kind: "stop", agentId, at }];
      return [beat];
    });
    await store.applyAgentChanges(changes);
  }
  return alive;
}

/**
 * Heartbeats from alive nodes, one change each: the bench measures pages
 * after as many as a PostgreSQL store lets pass between two of its vacuums
 * of `agents`, each leaving a dead row version behind.
 */
async function heartbeats(store: Store, alive: readonly number[], count: number): Promise<void> {
  for (let start = 0; start < count; start += SEED_CHUNK) {
    const at = Date.now();
    const ids = Array.from(
      { length: Math.min(SEED_CHUNK, count - start) },
      (_, j) => alive[(start + j) % alive.length]!,
    );
    await store.applyAgentChanges(ids.map((agentId) => ({
      kind: "heartbeat",
      heartbeat: { agentId, uptimeSeconds: 3600, lagBytes: 0, at },
    })));
  }
}

async function time(runs: number, work: () => Promise<unknown>): Promise<string> {
  const times = await timeRuns(runs, work);
  const at = (p: number) => percentile(times, p);
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms`;
}

/** Median ms of one REGISTER of a new node through `Store.applyAgentChanges`. */
async function registerMs(store: Store, runs: number, now: number, tag: string): Promise<number> {
  let r = 0;
  const times = await timeRuns(runs, () =>
    store.applyAgentChanges([{
      kind: "register",
      registration: { hostname: `new-${tag}-${r++}`, version: "1", os: "x", address: "a", at: now },
    }]));
  return percentile(times, 0.5);
}

/** A store of the bench, how to drop it, and for PostgreSQL how to vacuum its nodes. */
interface BenchStore {
  store: Store;
  drop(): Promise<void>;
  /** Vacuums `agents` (PostgreSQL only), as the store does itself after enough changes. */
  vacuum?(): Promise<void>;
  /** The dead and live row versions of `agents` (PostgreSQL only). */
  rowVersions?(): Promise<string>;
}

async function openBenchStore(url: string | undefined): Promise<BenchStore> {
  if (url !== undefined) {
    const schema = `nms_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const full = new URL(url);
    full.searchParams.set("schema", schema);
    // The bench vacuums at the points it measures, in place of the store.
    const store = await openPostgresStore(full.href, { agentsVacuumChanges: 0 });
    const pg = await import("postgres");
    const connect = () =>
      pg.default(url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
    const run = async <T>(work: (sql: ReturnType<typeof connect>) => Promise<T>) => {
      const sql = connect();
      try {
        return await work(sql);
      } finally {
        await sql.end({ timeout: 5 });
      }
    };
    return {
      store,
      drop: () => run(async (sql) => void await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`),
      vacuum: () => run(async (sql) => void await sql`VACUUM agents`),
      rowVersions: () =>
        run(async (sql) => {
          const [row] = await sql`SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables
            WHERE schemaname = ${schema} AND relname = 'agents'`;
          const count = (value: unknown) => Number(value).toLocaleString("en-US");
          return `${count(row!.n_dead_tup)} dead row versions beside ${
            count(row!.n_live_tup)
          } live`;
        }),
    };
  }
  const dir = await Deno.makeTempDir({ prefix: "nms-agents-bench-" });
  const store = await openStore(`sqlite:${dir}/nms.db`, { sync: "normal" });
  return { store, drop: () => Deno.remove(dir, { recursive: true }) };
}

if (import.meta.main) {
  const values = benchArgs(import.meta.url, {
    nodes: { type: "string", default: "100000" },
    runs: { type: "string", default: "20" },
    store: { type: "string" },
  });
  const nodes = numberOption("nodes", values.nodes, { min: 1 });
  const runs = numberOption("runs", values.runs, { min: 1 });
  const now = Date.now();
  const small = await openBenchStore(values.store);
  const large = await openBenchStore(values.store);
  const store = large.store;
  try {
    await seed(small.store, 100, now);
    const start = performance.now();
    const alive = await seed(store, nodes, now);
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `agents    ${nodes.toLocaleString("en-US")} nodes seeded in ${seconds.toFixed(1)} s (${
        Math.round(2 * nodes / seconds).toLocaleString("en-US")
      } node changes/s through applyAgentChanges)`,
    );
    await large.vacuum?.();
    await heartbeats(store, alive, AGENTS_VACUUM_CHANGES - 1);
    console.log(
      `agents    then ${(AGENTS_VACUUM_CHANGES - 1).toLocaleString("en-US")} heartbeats, ${
        large.rowVersions === undefined
          ? "updated in place"
          : `the most the store lets pass between its vacuums: ${await large.rowVersions()}`
      }`,
    );
    const base = await registerMs(small.store, runs, now, "s");
    const known = await registerMs(store, runs, now, "l");
    console.log(
      `agents    one REGISTER: median ${known.toFixed(2)} ms with ${
        nodes.toLocaleString("en-US")
      } known, ${base.toFixed(2)} ms with 100 (baseline); ratio ${(known / base).toFixed(2)}`,
    );
    await using dashboard = await startDashboard({
      store,
      port: 0,
      hostname: "127.0.0.1",
      heartbeatSeconds: HEARTBEAT_SECONDS,
    });
    const get = await consoleGet(store, dashboard.url);
    const cases: [string, string][] = [
      ["first page (100), counts", "/api/agents"],
      ["status late", "/api/agents?status=late"],
      ["status disconnected", "/api/agents?status=disconnected"],
      [
        "status alive, page 500 at offset 50,000",
        "/api/agents?status=alive&limit=500&offset=50000",
      ],
      ["last page by name", `/api/agents?offset=${Math.max(0, nodes - 100)}`],
      ["name contains 0042", "/api/agents?name=0042"],
      ["os alpine + version 1.3", "/api/agents?os=alpine&version=1.3"],
      ["address 10.1.", "/api/agents?address=10.1."],
      ["order last heartbeat, newest", "/api/agents?sort=lastHeartbeat&order=desc"],
      ["order registered", "/api/agents?sort=registeredAt"],
      ["name prefix host-0042", "/api/agents?name=host-0042&match=prefix"],
      ["os prefix alpine + version 1.3", "/api/agents?os=alpine&version=1.3&match=prefix"],
      ["address prefix 10.1.", "/api/agents?address=10.1.&match=prefix"],
    ];
    // Cursor pages as deep as the offset pages above, the cursor taken from the page before.
    const deep = await get("/api/agents?status=alive&limit=500&offset=49500");
    const lastBefore = await get(`/api/agents?offset=${Math.max(0, nodes - 200)}`);
    if (deep.next !== null) {
      cases.push([
        "status alive, page 500 after a cursor at 50,000",
        `/api/agents?status=alive&limit=500&after=${deep.next}`,
      ]);
    }
    if (lastBefore.next !== null) {
      cases.push(["last page by name, after a cursor", `/api/agents?after=${lastBefore.next}`]);
    }
    for (const [name, path] of cases) {
      const result = await get(path);
      console.log(
        `agents    ${name} (${result.agents.length} of ${result.total}): ${await time(
          runs,
          () => get(path),
        )}`,
      );
    }
  } finally {
    await small.store.close();
    await store.close();
    await small.drop();
    await large.drop();
  }
}
