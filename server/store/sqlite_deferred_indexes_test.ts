/**
 * The SQLite store's indexes of events by host and by origin, filled behind
 * ingest: what the insert writes, what a step takes in, queries and resends
 * across the indexes' reach, retention and the migration of an older file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SQLITE_MIGRATIONS } from "./migrations.ts";
import { DEFERRED_INDEX_MAX_STEP_ROWS } from "./sqlite_deferred_indexes.ts";
import { openSqliteStore } from "./sqlite_store.ts";
import { makeBatch, type TestEvent } from "./store_conformance.ts";
import { APPEND_STATUS, type EventQuery, type Store } from "./store.ts";

const DAY_MS = 86_400_000;

async function withStore(work: (store: Store, path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nms-host-index-" });
  const path = join(dir, "nms.db");
  const store = await openSqliteStore(path, { sync: "normal" });
  try {
    await work(store, path);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `sql` on a second connection to the file and returns its rows. */
function read(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path);
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

function indexEntries(path: string): string[] {
  return read(path, "SELECT host, id FROM logs_by_host ORDER BY id").map((r) =>
    `${r.host}:${r.id}`
  );
}

function originEntries(path: string): string[] {
  return read(path, "SELECT stream_id, pos FROM logs_by_origin ORDER BY stream_id, pos")
    .map((r) => `${r.stream_id}:${r.pos}`);
}

/** Events of one stream at the given positions. */
function atPositions(positions: number[], stream = "s"): TestEvent[] {
  return positions.map((position) => ({ stream, position, message: `${stream} at ${position}` }));
}

const STORED = APPEND_STATUS.stored;
const DUP = APPEND_STATUS.duplicate;

/** Time of event n of {@linkcode fleetEvents}: a second apart, event 7 late by a minute. */
const eventTs = (n: number) => 1_000_000 + n * 1000 - (n === 7 ? 60_000 : 0);

/**
 * Events 1..count, of hosts a, b and c in turn, every tenth without a host;
 * each at position n of stream `fleet`, but every fifth without an origin.
 */
function fleetEvents(count: number, first = 1): TestEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const n = first + i;
    return {
      ts: eventTs(n),
      ...(n % 5 === 0 ? {} : { stream: "fleet", position: n }),
      host: n % 10 === 0 ? null : ["a", "b", "c"][n % 3]!,
      program: n % 2 === 0 ? "sshd" : "cron",
      message: `event ${n} ${n % 4 === 0 ? "panic" : "calm"}`,
    };
  });
}

Deno.test("appendEvents() writes no entry of the host and origin indexes, and indexDeferred() takes rows in once minRows have gathered", async () => {
  await withStore(async (store, path) => {
    await store.appendEvents([makeBatch(fleetEvents(9))]);
    assert.deepEqual(indexEntries(path), []);
    const indexes = read(
      path,
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'logs'",
    ).map((r) => r.name);
    assert.deepEqual(indexes, ["logs_ts"], "no index on logs is keyed by host or origin");
    assert.equal(await store.indexDeferred!(10), 0, "fewer rows than minRows wait");
    await store.appendEvents([makeBatch(fleetEvents(2, 10))]);
    assert.equal(await store.indexDeferred!(10), 11);
    // Event 10 has no host: it has no entry, but the step went past it.
    assert.deepEqual(
      indexEntries(path),
      ["b:1", "c:2", "a:3", "b:4", "c:5", "a:6", "b:7", "c:8", "a:9", "c:11"],
    );
    assert.equal(await store.indexDeferred!(0), 0, "nothing above the index");
  });
});

Deno.test("queryEvents() and countEvents() by host read the indexed rows and the rows above the index as one", async () => {
  await withStore(async (store) => {
    // Event 59, the last one indexed below, is of host c.
    const all = fleetEvents(59);
    await store.appendEvents([makeBatch(all)]);
    const queries: EventQuery[] = [
      { host: "a" },
      { host: "c" },
      { host: "a", limit: 7 },
      { host: "b", limit: 5, afterId: 0 },
      { host: "b", limit: 5, afterId: 40 },
      { host: "b", limit: 50, afterId: 55 },
      { host: "c", beforeId: 45, limit: 4 },
      { host: "c", program: "sshd" },
      { host: "a", text: "panic" },
      { host: "a", sinceMs: eventTs(20), untilMs: eventTs(70) },
      { host: "b", sinceMs: eventTs(50), limit: 4 },
      { host: "a", untilMs: eventTs(30), program: "cron" },
      { host: "b", untilMs: eventTs(5), limit: 2, afterId: 1 },
      { host: "nowhere" },
    ];
    /** The ids a query must return, and how many match its filters without cursors. */
    const expected = (query: EventQuery) => {
      const filtered = all.flatMap((e, i) =>
        e.host === query.host &&
          (query.program === undefined || e.program === query.program) &&
          (query.text === undefined || e.message!.includes(query.text)) &&
          (query.sinceMs === undefined || e.ts! >= query.sinceMs) &&
          (query.untilMs === undefined || e.ts! < query.untilMs)
          ? [i + 1]
          : []
      );
      const page = filtered.filter((id) =>
        (query.afterId === undefined || id > query.afterId) &&
        (query.beforeId === undefined || id < query.beforeId)
      );
      const ordered = query.afterId === undefined ? page.reverse() : page;
      return { ids: ordered.slice(0, query.limit ?? 100), total: filtered.length };
    };
    const check = async (when: string) => {
      for (const query of queries) {
        const { ids, total } = expected(query);
        const got = (await store.queryEvents(query)).map((e) => e.id);
        assert.deepEqual(got, ids, `${when}: ${JSON.stringify(query)}`);
        // Counts take the filters and leave the cursors aside.
        assert.equal(
          await store.countEvents(query),
          total,
          `${when}: count ${JSON.stringify(query)}`,
        );
        assert.equal(
          await store.countEvents(query, { atMost: 3 }),
          Math.min(3, total),
          `${when}: count at most 3 of ${JSON.stringify(query)}`,
        );
      }
    };
    await check("nothing indexed");
    assert.equal(await store.indexDeferred!(0), 59);
    await check("all indexed");
    const more = fleetEvents(31, 60);
    await store.appendEvents([makeBatch(more)]);
    all.push(...more);
    await check("59 indexed, 31 above");
  });
});

Deno.test("a query by host answers the indexed rows from the index", async () => {
  await withStore(async (store, path) => {
    await store.appendEvents([makeBatch(fleetEvents(30))]);
    assert.equal(await store.indexDeferred!(0), 30);
    await store.appendEvents([makeBatch(fleetEvents(3, 31))]);
    // Entries taken out behind the store's back: those rows are no longer found by host.
    read(path, "DELETE FROM logs_by_host WHERE host = 'a' AND id > 20");
    const found = (await store.queryEvents({ host: "a" })).map((e) => e.id);
    assert.deepEqual(found, [33, 18, 15, 12, 9, 6, 3]);
    assert.equal(await store.countEvents({ host: "a" }), 7);
  });
});

Deno.test("appendEvents() refuses a resent origin whether its row is in the index, above it, or above it in a file opened again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-origins-" });
  const path = join(dir, "nms.db");
  let store = await openSqliteStore(path, { sync: "normal" });
  const send = async (positions: number[]) =>
    (await store.appendEvents([makeBatch(atPositions(positions))])).map((r) => [...r]);
  try {
    assert.deepEqual(await send([1, 2, 3]), [[STORED, STORED, STORED]]);
    assert.equal(await store.indexDeferred!(0), 3);
    assert.deepEqual(originEntries(path), ["1:1", "1:2", "1:3"]);
    assert.deepEqual(await send([4, 5, 6]), [[STORED, STORED, STORED]]);
    // 2 and 3 are in the index, 4 to 6 above it; 7, then 9, then 8 below it are new.
    assert.deepEqual(
      await send([2, 3, 4, 5, 6, 7, 9, 8, 8]),
      [[DUP, DUP, DUP, DUP, DUP, STORED, STORED, STORED, DUP]],
    );
    await store.close();
    // Opened again, as after a restart: the origins above the index are read back from the file.
    store = await openSqliteStore(path, { sync: "normal" });
    assert.deepEqual(await send([3, 6, 8, 9, 10]), [[DUP, DUP, DUP, DUP, STORED]]);
    assert.equal(await store.indexDeferred!(0), 7);
    assert.deepEqual(await send([1, 7, 10, 11]), [[DUP, DUP, DUP, STORED]]);
    assert.equal(await store.countEvents(), 11);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("appendEvents() that fails forgets the origins it had taken, so that their resend is stored", async () => {
  await withStore(async (store) => {
    await store.appendEvents([makeBatch(atPositions([1]))]);
    await store.appendEvents([makeBatch(atPositions([5]))]);
    const broken = makeBatch(atPositions([2, 3]));
    // A line the insert cannot take: the whole group rolls back.
    (broken.raw as unknown as (string | null)[])[1] = null;
    await assert.rejects(async () => await store.appendEvents([broken]));
    // Checked as resends are (below the highest stored), beside origins stored before.
    const again = await store.appendEvents([makeBatch(atPositions([6, 1, 5, 2, 3]))]);
    assert.deepEqual(again.map((r) => [...r]), [[STORED, DUP, DUP, STORED, STORED]]);
    assert.equal(await store.countEvents(), 5);
  });
});

Deno.test("appendEvents() that fails forgets a stream it created, whose row id the next new stream takes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-origins-" });
  const path = join(dir, "nms.db");
  let store = await openSqliteStore(path, { sync: "normal" });
  const send = async (events: TestEvent[]) =>
    (await store.appendEvents([makeBatch(events)])).map((r) => [...r]);
  try {
    await send(atPositions([1], "first"));
    const broken = makeBatch(atPositions([1, 2], "rolled-back"));
    (broken.raw as unknown as (string | null)[])[1] = null;
    await assert.rejects(async () => await store.appendEvents([broken]));
    // This stream takes the row id the rolled-back one had been given.
    assert.deepEqual(await send(atPositions([1], "next")), [[STORED]]);
    assert.deepEqual(await send(atPositions([1], "rolled-back")), [[STORED]]);
    await store.close();
    store = await openSqliteStore(path, { sync: "normal" });
    // Each line is known under its own stream after a restart.
    assert.deepEqual(
      await send([...atPositions([1], "rolled-back"), ...atPositions([1], "next")]),
      [[DUP, DUP]],
    );
    assert.equal(await store.countEvents(), 3);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("appendEvents() steps the deferred indexes itself once DEFERRED_INDEX_MAX_STEP_ROWS origins wait above them", async () => {
  await withStore(async (store, path) => {
    const upto = () =>
      read(path, "SELECT value FROM meta WHERE key = 'deferred_indexed_upto'")[0]!.value;
    const rows = DEFERRED_INDEX_MAX_STEP_ROWS;
    for (let done = 0; done < rows; done += 20_000) {
      const positions = Array.from({ length: Math.min(20_000, rows - done) }, (_, i) => done + i);
      await store.appendEvents([makeBatch(atPositions(positions))]);
    }
    assert.equal(upto(), 0, "no step while fewer wait");
    await store.appendEvents([makeBatch(atPositions([rows]))]);
    assert.equal(upto(), rows);
    const resend = await store.appendEvents([makeBatch(atPositions([0, rows - 1, rows]))]);
    assert.deepEqual(resend.map((r) => [...r]), [[DUP, DUP, DUP]]);
  });
});

Deno.test("indexDeferred() takes at most DEFERRED_INDEX_MAX_STEP_ROWS a step", async () => {
  await withStore(async (store, path) => {
    const rows = DEFERRED_INDEX_MAX_STEP_ROWS + 10;
    for (let done = 0; done < rows; done += 20_000) {
      const count = Math.min(20_000, rows - done);
      await store.appendEvents([makeBatch(Array.from({ length: count }, () => ({ host: "h" })))]);
    }
    assert.equal(await store.indexDeferred!(0), DEFERRED_INDEX_MAX_STEP_ROWS);
    assert.equal(await store.indexDeferred!(0), 10);
    assert.equal(read(path, "SELECT count(*) AS n FROM logs_by_host")[0]!.n, rows);
  });
});

Deno.test("pruneEvents() removes the deleted rows' entries from the host and origin indexes when they are midway", async () => {
  await withStore(async (store, path) => {
    const now = Date.now();
    await store.appendEvents([makeBatch(fleetEvents(40), { receivedAt: now - 10 * DAY_MS })]);
    await store.appendEvents([makeBatch(fleetEvents(20, 41), { receivedAt: now })]);
    // The index has reached event 25: some of the old events are in it.
    const db = new DatabaseSync(path);
    db.exec(
      "INSERT INTO logs_by_host SELECT host, id, ts FROM logs WHERE id <= 25 AND host IS NOT NULL",
    );
    db.exec(
      "INSERT INTO logs_by_origin SELECT stream_id, pos FROM logs WHERE id <= 25 AND stream_id IS NOT NULL",
    );
    db.exec("UPDATE meta SET value = 25 WHERE key = 'deferred_indexed_upto'");
    db.close();
    const policy = { receivedBeforeMs: now - 5 * DAY_MS, maxRows: 7 };
    while ((await store.pruneEvents!(policy)).more) { /* every step */ }
    assert.equal(await store.countEvents(), 20);
    assert.deepEqual(indexEntries(path), []);
    assert.deepEqual(originEntries(path), []);
    assert.equal(await store.indexDeferred!(0), 35);
    const kept = read(path, "SELECT host, id FROM logs WHERE host IS NOT NULL ORDER BY id")
      .map((r) => `${r.host}:${r.id}`);
    assert.deepEqual(indexEntries(path), kept);
    const keptOrigins = read(
      path,
      "SELECT stream_id, pos FROM logs WHERE stream_id IS NOT NULL ORDER BY stream_id, pos",
    ).map((r) => `${r.stream_id}:${r.pos}`);
    assert.deepEqual(originEntries(path), keptOrigins);
  });
});

Deno.test("openSqliteStore() moves an older file's hosts and origins into their indexes, and queries and resends find them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-migrate-hosts-" });
  try {
    const path = join(dir, "nms.db");
    const old = SQLITE_MIGRATIONS.findIndex((m) =>
      m.name === "host and origin indexes filled behind ingest"
    );
    assert.ok(old > 0);
    const db = new DatabaseSync(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, old)) db.exec(migration.sql);
    db.exec(`PRAGMA user_version = ${old}`);
    db.exec("INSERT INTO streams (id, key) VALUES (1, 's')");
    const insert = db.prepare(
      "INSERT INTO logs (received_at, ts, host, raw, stream_id, pos) VALUES (1, ?, ?, ?, ?, ?)",
    );
    for (let i = 1; i <= 9; i++) {
      const origin = i % 4 === 0 ? [null, null] : [1, i * 10];
      insert.run(i, i % 3 === 0 ? null : `h${i % 2}`, `line ${i}`, ...origin);
    }
    db.close();
    const store = await openSqliteStore(path);
    try {
      assert.deepEqual(indexEntries(path), ["h1:1", "h0:2", "h0:4", "h1:5", "h1:7", "h0:8"]);
      const upto = read(path, "SELECT value FROM meta WHERE key = 'deferred_indexed_upto'");
      assert.equal(upto[0]!.value, 9);
      assert.deepEqual((await store.queryEvents({ host: "h0" })).map((e) => e.id), [8, 4, 2]);
      assert.deepEqual(originEntries(path), [
        "1:10",
        "1:20",
        "1:30",
        "1:50",
        "1:60",
        "1:70",
        "1:90",
      ]);
      const resend = await store.appendEvents([makeBatch(atPositions([60, 80, 90, 100]))]);
      assert.deepEqual(resend.map((r) => [...r]), [[DUP, STORED, DUP, STORED]]);
      const indexes = read(
        path,
        "SELECT name FROM sqlite_master WHERE name IN ('logs_host_ts', 'logs_origin')",
      );
      assert.deepEqual(indexes, []);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
