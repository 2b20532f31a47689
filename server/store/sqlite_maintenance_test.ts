/**
 * Retention steps, backups and the pre-migration copy of the SQLite store.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SQLITE_MIGRATIONS } from "./migrations.ts";
import { backupSqliteFile } from "./sqlite_maintenance.ts";
import { openSqliteStore, SQLITE_PAGE_SIZE, TEXT_INDEX_AUTOMERGE } from "./sqlite_store.ts";
import { makeBatch } from "./store_conformance.ts";
import type { Store } from "./store.ts";

const DAY_MS = 86_400_000;

async function withStore(work: (store: Store, dir: string, path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nms-maint-" });
  const path = join(dir, "nms.db");
  const store = await openSqliteStore(path, { sync: "normal" });
  try {
    await work(store, dir, path);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Appends `count` events received at `receivedAt`, each ~`bytes` long. */
async function append(store: Store, count: number, receivedAt: number, bytes = 40) {
  const pad = "x".repeat(Math.max(0, bytes - 30));
  for (let done = 0; done < count; done += 1000) {
    const n = Math.min(1000, count - done);
    const events = Array.from({ length: n }, (_, i) => ({
      message: `sshd login failed ${receivedAt} ${done + i} ${pad}`,
    }));
    await store.appendEvents([makeBatch(events, { receivedAt })]);
  }
}

Deno.test("pruneEvents() deletes events received before the cutoff in bounded steps", async () => {
  await withStore(async (store) => {
    const now = Date.now();
    await append(store, 2500, now - 10 * DAY_MS);
    await append(store, 100, now);
    while (await store.indexText!(10_000) > 0) { /* index everything */ }
    const policy = { receivedBeforeMs: now - 5 * DAY_MS, maxRows: 1000 };
    const first = await store.pruneEvents!(policy);
    assert.equal(first.deleted, 1000);
    assert.equal(first.more, true);
    await store.pruneEvents!(policy);
    const last = await store.pruneEvents!(policy);
    assert.deepEqual([last.deleted, last.more], [500, false]);
    assert.equal(await store.countEvents(), 100);
    // The full-text index forgot them too.
    assert.equal((await store.queryEvents({ text: "sshd", limit: 10_000 })).length, 100);
    const info = await store.storageInfo!();
    assert.equal(info.oldestReceivedAt, now);
  });
});

/** Row ids the full-text index holds for `word`, read from the file. */
function indexedIds(path: string, word: string): number[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare("SELECT rowid FROM logs_fts WHERE logs_fts MATCH ? ORDER BY rowid")
      .all(word) as { rowid: number }[]).map((row) => row.rowid);
  } finally {
    db.close();
  }
}

Deno.test("pruneEvents() removes exactly the indexed events from the full-text index when the indexer is midway", async () => {
  await withStore(async (store, _dir, path) => {
    const now = Date.now();
    await append(store, 3000, now - 10 * DAY_MS);
    await append(store, 100, now);
    // The indexer has reached event 1,500: half the old events are indexed.
    assert.equal(await store.indexText!(1500), 1500);
    const policy = { receivedBeforeMs: now - 5 * DAY_MS, maxRows: 1000 };
    while ((await store.pruneEvents!(policy)).more) { /* every step */ }
    assert.equal(await store.countEvents(), 100);
    while (await store.indexText!(10_000) > 0) { /* index the rest */ }
    const kept = (await store.queryEvents({ limit: 1000 })).map((e) => e.id).sort((a, b) => a - b);
    // An entry deleted twice, or one never indexed, would leave the index wrong or unreadable.
    assert.deepEqual(indexedIds(path, "sshd"), kept);
    assert.deepEqual(indexedIds(path, String(now - 10 * DAY_MS)), []);
  });
});

Deno.test("pruneEvents() keeps the newest event so that ids are never reused", async () => {
  await withStore(async (store) => {
    const old = Date.now() - 10 * DAY_MS;
    await append(store, 10, old);
    const step = await store.pruneEvents!({ receivedBeforeMs: Date.now(), maxRows: 100 });
    assert.equal(step.deleted, 9);
    const [kept] = await store.queryEvents({ limit: 10 });
    await append(store, 1, Date.now());
    const [newest] = await store.queryEvents({ limit: 1 });
    assert.ok(newest!.id > kept!.id);
  });
});

Deno.test("pruneEvents() with maxBytes deletes the oldest events and shrinks the file", async () => {
  await withStore(async (store, _dir, path) => {
    const now = Date.now();
    await append(store, 20_000, now, 200);
    const before = (await store.storageInfo!()).fileBytes!;
    assert.ok(before > 4_000_000, `database of ${before} bytes`);
    const maxBytes = Math.floor(before / 2);
    let steps = 0;
    for (;;) {
      const step = await store.pruneEvents!({
        maxBytes,
        maxRows: 2000,
        reclaimBytes: 1024 * 1024 * 1024,
      });
      steps++;
      if (!step.more) break;
      assert.ok(steps < 100, "retention does not converge");
    }
    const info = await store.storageInfo!();
    assert.ok(info.usedBytes! <= maxBytes, `${info.usedBytes} used, limit ${maxBytes}`);
    assert.ok(info.fileBytes! <= maxBytes * 1.1, `file of ${info.fileBytes} bytes`);
    const left = await store.countEvents();
    assert.ok(left > 0 && left < 20_000, `${left} events left`);
    // Oldest went first: what is left is the end of the sequence.
    const [newest] = await store.queryEvents({ limit: 1 });
    assert.match(newest!.message, / 19999 /);
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      assert.equal(
        (db.prepare("PRAGMA auto_vacuum").get() as { auto_vacuum: number }).auto_vacuum,
        2,
      );
    } finally {
      db.close();
    }
  });
});

Deno.test("backupSqliteFile() writes a readable private copy and refuses to overwrite", async () => {
  await withStore(async (store, dir, path) => {
    await append(store, 50, Date.now());
    const target = join(dir, "copy.db");
    const bytes = await backupSqliteFile(path, target);
    assert.ok(bytes > 0);
    assert.equal((await Deno.stat(target)).mode! & 0o777, 0o600);
    const copy = await openSqliteStore(target);
    try {
      assert.equal(await copy.countEvents(), 50);
    } finally {
      await copy.close();
    }
    await assert.rejects(backupSqliteFile(path, target), /the file exists/);
    await assert.rejects(
      backupSqliteFile(join(dir, "absent.db"), join(dir, "x.db")),
      /No database/,
    );
    // No temporary file is left behind.
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.filter((n) => n.includes(".tmp-")), []);
  });
});

Deno.test("openSqliteStore() copies an older database to <db>.bak-v<version> before migrating", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-migrate-" });
  try {
    const path = join(dir, "nms.db");
    const old = 2;
    const db = new DatabaseSync(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, old)) db.exec(migration.sql);
    db.exec(`PRAGMA user_version = ${old}`);
    db.exec(
      "INSERT INTO users (username, password_hash, role, created_at) VALUES ('ann', 'h', 'admin', 1)",
    );
    db.close();
    const store = await openSqliteStore(path);
    await store.close();
    const backup = new DatabaseSync(`${path}.bak-v${old}`, { readOnly: true });
    try {
      const version = backup.prepare("PRAGMA user_version").get() as { user_version: number };
      assert.equal(version.user_version, old);
      assert.equal((backup.prepare("SELECT count(*) AS n FROM users").get() as { n: number }).n, 1);
    } finally {
      backup.close();
    }
    // A current database is not copied again.
    const again = await openSqliteStore(path);
    await again.close();
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.filter((n) => n.includes(".bak-")), [`nms.db.bak-v${old}`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSqliteStore() rebuilds an older full-text index without row sizes, and search finds every event again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-migrate-fts-" });
  try {
    const path = join(dir, "nms.db");
    // The schema before the index lost its row sizes, with indexed events.
    const old = SQLITE_MIGRATIONS.findIndex((m) => m.name === "full-text index without row sizes");
    assert.ok(old > 0);
    const db = new DatabaseSync(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, old)) db.exec(migration.sql);
    db.exec(`PRAGMA user_version = ${old}`);
    db.exec(`INSERT INTO logs (received_at, ts, raw) VALUES (1, 1, 'kernel panic on boot')`);
    db.exec(`INSERT INTO logs_fts (rowid, text) VALUES (1, 'kernel panic on boot')`);
    db.exec(`UPDATE meta SET value = 1 WHERE key = 'fts_indexed_upto'`);
    db.close();
    const store = await openSqliteStore(path);
    try {
      const file = new DatabaseSync(path, { readOnly: true });
      const table = file.prepare("SELECT sql FROM sqlite_master WHERE name = 'logs_fts'").get() as {
        sql: string;
      };
      file.close();
      assert.match(table.sql, /columnsize = 0/);
      assert.equal(await store.textIndexLag!(), 1, "the event is to be indexed again");
      assert.equal((await store.queryEvents({ text: "panic" })).length, 1);
      assert.equal(await store.indexText!(100), 1);
      assert.deepEqual(indexedIds(path, "panic"), [1]);
      assert.equal((await store.queryEvents({ text: "panic" })).length, 1);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSqliteStore() creates 16 KiB pages and sets the full-text merge policy, also on an existing file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-layout-" });
  try {
    const fresh = join(dir, "fresh.db");
    await (await openSqliteStore(fresh)).close();
    // An existing file made with SQLite's defaults (4 KiB pages, FTS5's automerge).
    const older = join(dir, "older.db");
    const db = new DatabaseSync(older);
    for (const migration of SQLITE_MIGRATIONS) db.exec(migration.sql);
    db.exec(`PRAGMA user_version = ${SQLITE_MIGRATIONS.length}`);
    db.close();
    await (await openSqliteStore(older)).close();
    const read = (path: string) => {
      const file = new DatabaseSync(path, { readOnly: true });
      try {
        const page = file.prepare("PRAGMA page_size").get() as { page_size: number };
        const merge = file.prepare("SELECT v FROM logs_fts_config WHERE k = 'automerge'").get() as
          | { v: number }
          | undefined;
        return { pageSize: page.page_size, automerge: merge?.v };
      } finally {
        file.close();
      }
    };
    assert.deepEqual(read(fresh), { pageSize: SQLITE_PAGE_SIZE, automerge: TEXT_INDEX_AUTOMERGE });
    // The page size of an existing file stays; the merge policy is set.
    assert.deepEqual(read(older), { pageSize: 4096, automerge: TEXT_INDEX_AUTOMERGE });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
