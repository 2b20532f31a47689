/**
 * The PostgreSQL ingest path with several collectors on one database: a
 * reader that follows ids (the console's live view, `logs --follow`, the
 * statistics, the full-text indexer) neither skips nor repeats a group that
 * commits after a group with higher ids; a COPY that fails is retried; and a
 * database of the previous schema upgrades with its exactly-once keys.
 * See docs/decisions/0013-postgres-ingest.md.
 *
 * Ignored with the reason when no PostgreSQL is reachable; see
 * tests/_harness/postgres.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { pgTestTarget, requirePg, testSchema } from "../../tests/_harness/postgres.ts";
import { waitFor } from "../../tests/_harness/wait_for.ts";
import { openPostgresStore, type PostgresStore } from "./postgres_store.ts";
import { PARTITION_MS, POSTGRES_MIGRATIONS } from "./postgres_migrations.ts";
import { APPEND_STATUS, type EventRecord, type Store } from "./store.ts";
import { makeBatch, TEST_RECEIVED_AT } from "./store_conformance.ts";

const pg = await pgTestTarget();
const ignore = requirePg(pg) !== undefined;

const OPTIONS = { maxConnections: 2, partitionDaysAhead: 1 };

/** A connection to the test schema, outside any store. */
function connect(schema: string): postgres.Sql {
  return postgres(pg.url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
}

/** A reader that follows new events by id, as the live view and `logs --follow` do. */
class Follower {
  readonly seen: EventRecord[] = [];
  #cursor = 0;
  constructor(readonly store: Store) {}

  /** Reads everything new; returns how many events it got. */
  async poll(): Promise<number> {
    let got = 0;
    for (;;) {
      const page = await this.store.queryEvents({ afterId: this.#cursor, limit: 50 });
      this.seen.push(...page);
      got += page.length;
      if (page.length === 0) return got;
      this.#cursor = page.at(-1)!.id;
    }
  }
}

/** Every event of the store, in id order. */
async function allEvents(store: Store): Promise<EventRecord[]> {
  return (await store.queryEvents({ limit: 10_000 })).reverse();
}

Deno.test({
  name:
    "PostgresStore: a follower neither skips nor repeats a group that commits after a group with higher ids",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const a = await openPostgresStore(schema.url, OPTIONS);
    const b = await openPostgresStore(schema.url, OPTIONS);
    const reader = await openPostgresStore(schema.url, OPTIONS);
    const blocker = connect(schema.name);
    const release = Promise.withResolvers<void>();
    try {
      const follower = new Follower(reader);
      await a.appendEvents([makeBatch([{ stream: "a", position: 1, message: "a1" }])]);
      await follower.poll();
      // Collector A's next group stalls after its rows are written: the row of
      // its syslog sender is locked by a transaction that stays open.
      await blocker`INSERT INTO sources (address, transport, first_seen, last_seen)
        VALUES ('192.0.2.1', 'udp', 0, 0)`;
      const held = Promise.withResolvers<number>();
      const blocking = blocker.begin(async (tx) => {
        const [row] = await tx`SELECT pg_backend_pid() AS pid FROM sources
          WHERE address = '192.0.2.1' FOR UPDATE`;
        held.resolve(Number(row!.pid));
        await release.promise;
      });
      const blockerPid = await held.promise;
      const slow = a.appendEvents([
        makeBatch([2, 3, 4].map((p) => ({ stream: "a", position: p, message: `a${p}` })), {
          sources: [{
            address: "192.0.2.1",
            transport: "udp",
            hostname: null,
            events: 3,
            unparsed: 0,
            at: TEST_RECEIVED_AT,
          }],
        }),
      ]);
      const watch = connect(schema.name);
      try {
        await waitFor(async () => {
          const [row] = await watch`SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE ${blockerPid} = ANY(pg_blocking_pids(pid))`;
          return row!.n > 0 ? true : undefined;
        }, { timeoutMs: 10_000, message: "collector A waiting with its rows written" });
      } finally {
        await watch.end();
      }
      // Collector B commits a group that took its ids after A's.
      const statuses = await b.appendEvents([
        makeBatch([1, 2].map((p) => ({ stream: "b", position: p, message: `b${p}` }))),
      ]);
      assert.deepEqual([...statuses[0]!], [APPEND_STATUS.stored, APPEND_STATUS.stored]);
      // B's rows are committed, but below them A's are still in flight: the
      // follower must not move past them, nor may the newest-first read that
      // the live view starts from.
      assert.equal(await follower.poll(), 0, "nothing is readable above a group in flight");
      assert.deepEqual((await reader.queryEvents({ limit: 1 })).map((e) => e.message), ["a1"]);
      assert.deepEqual(
        (await reader.digestEvents(0, { limit: 10, markSubstrings: [] })).length,
        1,
        "the statistics follow the same horizon",
      );
      release.resolve();
      await blocking;
      await slow;
      await waitFor(async () => (await follower.poll(), follower.seen.length >= 6 || undefined), {
        timeoutMs: 10_000,
        message: "every event followed",
      });
      const messages = follower.seen.map((e) => e.message);
      assert.deepEqual(messages, ["a1", "a2", "a3", "a4", "b1", "b2"], "in id order, none skipped");
      assert.deepEqual(follower.seen, await allEvents(reader), "none repeated");
      // The full-text indexer follows the same horizon: every event is indexed once.
      while (await reader.indexText(2) > 0);
      assert.equal(await reader.countEvents({ text: "a3" }), 1);
    } finally {
      release.resolve();
      await blocker.end();
      await Promise.all([a.close(), b.close(), reader.close()]);
    }
  },
});

Deno.test({
  name:
    "PostgresStore: a follower polling while two collectors append at once sees every event once, and reported ids are right",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const collectors = [
      await openPostgresStore(schema.url, OPTIONS),
      await openPostgresStore(schema.url, OPTIONS),
    ];
    const reader = await openPostgresStore(schema.url, OPTIONS);
    try {
      const follower = new Follower(reader);
      let writing = true;
      const following = (async () => {
        while (writing) await follower.poll();
      })();
      /** Groups per collector, of varying size so that their transactions overlap unevenly. */
      const groups = 40;
      /** The id each collector's store reported for a message (collector 1 asks for them). */
      const reported = new Map<number, string>();
      await Promise.all(collectors.map(async (store, c) => {
        for (let g = 0; g < groups; g++) {
          const size = 1 + ((g * 7 + c * 3) % 25);
          const messages = Array.from({ length: size }, (_, i) => `c${c} g${g} e${i}`);
          const ids = c === 1 ? new Float64Array(size) : null;
          await store.appendEvents(
            [makeBatch(messages.map((message, i) => ({
              stream: `collector-${c}`,
              position: g * 100 + i + 1,
              message,
            })))],
            { eventIds: [ids] },
          );
          ids?.forEach((id, i) => reported.set(id, messages[i]!));
        }
      }));
      writing = false;
      await following;
      await follower.poll();
      const all = await allEvents(reader);
      assert.ok(all.length > 2 * groups);
      for (const event of all) {
        if (reported.has(event.id)) assert.equal(reported.get(event.id), event.message);
      }
      assert.equal(reported.size, all.filter((e) => e.message.startsWith("c1 ")).length);
      assert.equal(new Set(follower.seen.map((e) => e.id)).size, follower.seen.length, "repeated");
      assert.deepEqual(follower.seen.map((e) => e.id), all.map((e) => e.id), "skipped");
    } finally {
      await Promise.all([...collectors.map((s) => s.close()), reader.close()]);
    }
  },
});

Deno.test({
  name: "PostgresStore: a group whose COPY fails on a dropped partition is stored on its retry",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const store = await openPostgresStore(schema.url, OPTIONS);
    const sql = connect(schema.name);
    try {
      await store.appendEvents([makeBatch([{ stream: "s", position: 1, message: "one" }])]);
      // The store believes the day's partition exists; it is dropped behind its back.
      const day = new Date(Math.floor(TEST_RECEIVED_AT / PARTITION_MS) * PARTITION_MS)
        .toISOString().slice(0, 10).replaceAll("-", "");
      await sql.unsafe(`DROP TABLE logs_${day}`);
      const statuses = await store.appendEvents([
        makeBatch([{ stream: "s", position: 2, message: "two" }]),
      ]);
      assert.deepEqual([...statuses[0]!], [APPEND_STATUS.stored]);
      assert.deepEqual((await allEvents(store)).map((e) => e.message), ["two"]);
      // The connection is usable afterwards.
      assert.equal(await store.countEvents(), 1);
    } finally {
      await sql.end();
      await store.close();
    }
  },
});

Deno.test({
  name:
    "PostgresStore: logs can be distributed by stream_id: no unique key, no NULL stream_id, days kept",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const store = await openPostgresStore(schema.url, OPTIONS);
    const sql = connect(schema.name);
    try {
      await store.appendEvents([
        makeBatch([
          { stream: "s", position: 1, host: "a", message: "from a stream" },
          { host: "a", message: "no stream, host a" },
          { host: "a", message: "no stream, host a again" },
          { host: "b", message: "no stream, host b" },
          { host: null, message: "no stream, no host" },
        ]),
      ]);
      const [nulls] = await sql`SELECT count(*)::int AS n FROM logs WHERE stream_id IS NULL`;
      assert.equal(nulls!.n, 0, "every row has a distribution value");
      const buckets = await sql`SELECT host, array_agg(DISTINCT stream_id) AS ids FROM logs
        WHERE pos IS NULL GROUP BY host ORDER BY host`;
      assert.equal(buckets.length, 3);
      for (const row of buckets) {
        assert.equal(row.ids.length, 1, "one host's events stay together");
        assert.ok(Number(row.ids[0]) < 0, "buckets are apart from stream ids");
      }
      const [unique] = await sql`SELECT count(*)::int AS n FROM pg_index
        WHERE indisunique AND indrelid IN (SELECT 'logs'::regclass
          UNION SELECT inhrelid FROM pg_inherits WHERE inhparent = 'logs'::regclass)`;
      assert.equal(unique!.n, 0, "logs has no unique key");
      const key = await sql`SELECT a.attname FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = 'stream_positions'::regclass AND i.indisprimary`;
      assert.deepEqual(key.map((r) => r.attname), ["stream_id"]);
      const [partitioned] = await sql`SELECT count(*)::int AS n FROM pg_partitioned_table
        WHERE partrelid = 'logs'::regclass`;
      assert.equal(partitioned!.n, 1, "logs stays partitioned by day");
    } finally {
      await sql.end();
      await store.close();
    }
  },
});

/** Runs the migrations before the named one, as a server of the previous version would have. */
async function migrateBefore(sql: postgres.Sql, schema: string, name: string): Promise<void> {
  const stop = POSTGRES_MIGRATIONS.findIndex((m) => m.name === name);
  assert.ok(stop > 0, `migration ${name}`);
  await sql.begin(async (tx) => {
    await tx`CREATE SCHEMA ${tx(schema)}`;
    await tx`SET LOCAL search_path = ${tx(schema)}`;
    await tx`CREATE TABLE nms_migrations (version integer PRIMARY KEY, name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`;
    for (let i = 0; i < stop; i++) {
      await tx.unsafe(POSTGRES_MIGRATIONS[i]!.sql);
      await tx`INSERT INTO nms_migrations (version, name) VALUES (${i + 1}, ${
        POSTGRES_MIGRATIONS[i]!.name
      })`;
    }
  });
}

Deno.test({
  name:
    "openPostgresStore() upgrades a database of the previous schema and keeps its exactly-once keys",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    let store: PostgresStore | undefined;
    try {
      await migrateBefore(sql, schema.name, "ingest without a shared lock");
      // What the previous version stored: events of a stream and their origins.
      const day = Math.floor(TEST_RECEIVED_AT / PARTITION_MS);
      await sql.begin(async (tx) => {
        await tx`SET LOCAL search_path = ${tx(schema.name)}`;
        await tx`SELECT nms_ensure_log_partitions(${day}, ${day})`;
        await tx`INSERT INTO streams (id, key) VALUES (7, 'old-stream')`;
        for (const pos of [1, 2, 3]) {
          await tx`INSERT INTO logs (received_at, ts, message, raw, stream_id, pos)
            VALUES (${TEST_RECEIVED_AT}, ${TEST_RECEIVED_AT}, ${`old ${pos}`}, ${`old ${pos}`},
              7, ${pos})`;
          await tx`INSERT INTO origins (stream_id, pos, received_at)
            VALUES (7, ${pos}, ${TEST_RECEIVED_AT})`;
        }
      });
      store = await openPostgresStore(schema.url, OPTIONS);
      const statuses = await store.appendEvents([makeBatch([2, 3, 4].map((pos) => ({
        stream: "old-stream",
        position: pos,
        message: pos === 4 ? "new 4" : `old ${pos}`,
      })))]);
      assert.deepEqual([...statuses[0]!], [
        APPEND_STATUS.duplicate,
        APPEND_STATUS.duplicate,
        APPEND_STATUS.stored,
      ]);
      assert.deepEqual((await allEvents(store)).map((e) => e.message), [
        "old 1",
        "old 2",
        "old 3",
        "new 4",
      ]);
      const [gone] = await sql`SELECT to_regclass(${schema.name + ".origins"}) AS t`;
      assert.equal(gone!.t, null, "the origins table is replaced");
    } finally {
      await store?.close();
      await sql.end();
    }
  },
});
