/**
 * Runs the Store conformance suite against PostgreSQL (one fresh schema per
 * case), then the PostgreSQL-only behaviour: concurrent migration, daily
 * partitions and their retention, NUL bytes, connection errors.
 *
 * Without a reachable PostgreSQL these tests are ignored with the reason;
 * `NMS_TEST_REQUIRE_PG=1` turns that into a failure. See
 * tests/_harness/postgres.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { pgTestTarget, requirePg, testSchema } from "../../tests/_harness/postgres.ts";
import { openPostgresStore, type PostgresStore } from "./postgres_store.ts";
import { PARTITION_DAYS_AHEAD, PARTITION_MS, POSTGRES_MIGRATIONS } from "./postgres_migrations.ts";
import { APPEND_STATUS, StoreError } from "./store.ts";
import { makeBatch, storeConformance } from "./store_conformance.ts";

const pg = await pgTestTarget();
const ignoreReason = requirePg(pg);
const ignore = ignoreReason !== undefined;

/** Fewer partitions ahead than in production: each case creates a new schema. */
const TEST_OPTIONS = { maxConnections: 2, partitionDaysAhead: 1 };

storeConformance("PostgresStore", async () => {
  const schema = testSchema(pg);
  const store = await openPostgresStore(schema.url, TEST_OPTIONS);
  return {
    store,
    openAnother: () => openPostgresStore(schema.url, TEST_OPTIONS),
    async cleanup() {
      await store.close();
      await schema.drop();
    },
  };
}, { concurrentWriters: true, ...(ignoreReason === undefined ? {} : { ignoreReason }) });

/** Runs a query on the test schema through a separate connection. */
async function inspect<T>(schema: string, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(pg.url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  try {
    return await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

Deno.test({
  name: "openPostgresStore() migrates once when several servers open a new schema at once",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresStore(schema.url, { maxConnections: 1 })),
    );
    try {
      await Promise.all(stores.map((s, i) => s.createUser(`user${i}`, "h", "viewer")));
      assert.equal(await stores[0]!.countUsers(), 4);
      const versions = await inspect(
        schema.name,
        (sql) => sql`SELECT version FROM nms_migrations ORDER BY version`,
      );
      assert.deepEqual(versions.map((r) => r.version), POSTGRES_MIGRATIONS.map((_, i) => i + 1));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  },
});

Deno.test({
  name: "PostgresStore creates daily partitions ahead and drops whole days for retention",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const store = await openPostgresStore(schema.url, { maxConnections: 2 });
    try {
      const day = 19_700; // 2023-12-09
      const at = (d: number) => d * PARTITION_MS + 3_600_000;
      await store.appendEvents([
        makeBatch([{ stream: "s", position: 1, message: "old" }], { receivedAt: at(day) }),
        makeBatch([{ stream: "s", position: 2, message: "new" }], {
          receivedAt: at(day + 2),
        }),
      ]);
      const partitions = async () =>
        (await inspect(
          schema.name,
          (sql) =>
            sql`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'logs'::regclass ORDER BY c.relname`,
        )).map((r) => String(r.relname));
      const created = await partitions();
      assert.equal(created[0], "logs_20231209");
      assert.equal(
        created.at(-1),
        "logs_20231218",
        `${PARTITION_DAYS_AHEAD} days ahead of the newest`,
      );
      assert.equal(created.length, 2 + PARTITION_DAYS_AHEAD + 1);

      // Everything received before day + 2 goes, as whole tables.
      assert.equal(await store.dropPartitionsBefore((day + 2) * PARTITION_MS), 2);
      assert.equal((await partitions())[0], "logs_20231211");
      assert.deepEqual((await store.queryEvents({})).map((e) => e.message), ["new"]);
      // The old day's exactly-once keys went with it; the new day's are kept.
      const again = await store.appendEvents([
        makeBatch([{ stream: "s", position: 2, message: "new again" }], {
          receivedAt: at(day + 2),
        }),
      ]);
      assert.deepEqual([...again[0]!], [APPEND_STATUS.duplicate]);
      // A day whose partition was dropped is recreated when written again.
      await store.appendEvents([
        makeBatch([{ message: "late" }], { receivedAt: at(day) }),
      ]);
      assert.equal(await store.countEvents(), 2);
    } finally {
      await store.close();
    }
  },
});

/** Registers nodes `n00`, `n01`, … at 1,000 ms; returns their ids in that order. */
async function registerNodes(store: PostgresStore, count: number): Promise<number[]> {
  const registered = await store.applyAgentChanges(
    Array.from({ length: count }, (_, i) => ({
      kind: "register" as const,
      registration: {
        hostname: `n${String(i).padStart(2, "0")}`,
        version: "1",
        os: "x",
        address: "a",
        at: 1_000,
      },
    })),
  );
  return registered.map((r) => r.agentId);
}

Deno.test({
  name: "PostgresStore vacuums agents itself after a set number of changed nodes",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const vacuums = () =>
      inspect(schema.name, async (sql) => {
        const [row] = await sql`SELECT vacuum_count FROM pg_stat_user_tables
          WHERE schemaname = ${schema.name} AND relname = 'agents'`;
        return Number(row!.vacuum_count);
      });
    const beats = (ids: number[]) =>
      ids.map((agentId) => ({
        kind: "heartbeat" as const,
        heartbeat: { agentId, uptimeSeconds: 1, lagBytes: null, at: 2_000 },
      }));
    const store = await openPostgresStore(schema.url, { ...TEST_OPTIONS, agentsVacuumChanges: 10 });
    let ids: number[];
    try {
      ids = await registerNodes(store, 5);
      await store.applyAgentChanges(beats(ids.slice(1)));
    } finally {
      await store.close();
    }
    assert.equal(await vacuums(), 0, "9 changes: not yet");
    const again = await openPostgresStore(schema.url, { ...TEST_OPTIONS, agentsVacuumChanges: 10 });
    try {
      await again.applyAgentChanges(beats(ids));
      await again.applyAgentChanges(beats(ids));
    } finally {
      // close() waits for a vacuum that is running.
      await again.close();
    }
    assert.equal(await vacuums(), 1, "10 changes: one vacuum");
  },
});

Deno.test({
  name: "PostgresStore pages one status right when the last page's counts are stale",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const store = await openPostgresStore(schema.url, TEST_OPTIONS);
    try {
      const ids = await registerNodes(store, 40);
      const cutoffs = { lateBefore: 500, silentBefore: 100 };
      // Every node alive: the counts this page leaves say stopped is rare.
      assert.equal((await store.queryAgents({ cutoffs })).counts.alive, 40);
      await store.applyAgentChanges(
        ids.slice(4).map((agentId) => ({ kind: "stop" as const, agentId, at: 2_000 })),
      );
      // Now 36 of 40 are stopped; pages deep into them, and the few alive.
      const stopped = await store.queryAgents({
        cutoffs,
        status: "stopped",
        offset: 30,
        limit: 10,
      });
      assert.deepEqual(stopped.agents.map((a) => a.hostname), [
        "n34",
        "n35",
        "n36",
        "n37",
        "n38",
        "n39",
      ]);
      assert.equal(stopped.counts.stopped, 36);
      const alive = await store.queryAgents({ cutoffs, status: "alive", offset: 2, limit: 10 });
      assert.deepEqual(alive.agents.map((a) => a.hostname), ["n02", "n03"]);
    } finally {
      await store.close();
    }
  },
});

Deno.test({
  name: "PostgresStore stores NUL characters, which PostgreSQL text cannot hold, as U+FFFD",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const store = await openPostgresStore(schema.url, { maxConnections: 1 });
    try {
      await store.appendEvents([makeBatch([{ host: "a\0b", message: "x\0y", raw: "\0" }])]);
      const [event] = await store.queryEvents({ host: "a\0b", contains: "\0" });
      assert.equal(event?.message, "x\uFFFDy");
      assert.equal(event?.raw, "\uFFFD");
      // A NUL in a user name is refused by the user-name rule; looking it up is harmless.
      await assert.rejects(() => store.createUser("u\0", "h", "viewer"), /Invalid user name/);
      assert.equal(await store.findUser("u\0"), undefined);
    } finally {
      await store.close();
    }
  },
});

Deno.test({
  name: "openPostgresStore() rejects a schema newer than the program",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    await (await openPostgresStore(schema.url, { maxConnections: 1 })).close();
    await inspect(
      schema.name,
      (sql) => sql`INSERT INTO nms_migrations (version, name) VALUES (999, 'from the future')`,
    );
    await assert.rejects(
      () => openPostgresStore(schema.url, { maxConnections: 1 }),
      (error: unknown) => error instanceof StoreError && /schema version 999/.test(error.message),
    );
  },
});

Deno.test("openPostgresStore() names the unreachable server without its password", async () => {
  // A port that was just free: nothing listens there.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    () =>
      openPostgresStore(`postgres://nms:s3cret@127.0.0.1:${port}/nms`, {
        connectTimeoutSeconds: 2,
      }),
    (error: unknown) =>
      error instanceof StoreError && error.message.includes(`127.0.0.1:${port}/nms`) &&
      !error.message.includes("s3cret"),
  );
});

Deno.test("openPostgresStore() rejects a malformed schema name", async () => {
  await assert.rejects(
    () => openPostgresStore("postgres://u@127.0.0.1/db?schema=x;drop"),
    (error: unknown) => error instanceof StoreError && error.code === "invalid",
  );
});
