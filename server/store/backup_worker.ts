/**
 * Entry point of the backup's worker: copies a database with SQLite's online
 * backup in a single step (one read transaction: a consistent copy while
 * writers go on) on its own read-only connection, and posts how it went, so
 * the thread that started it stays free to show progress
 * (server/store/sqlite_maintenance.ts). Not `VACUUM INTO`: Deno's node:sqlite
 * allows no attached database, which it needs, without `--allow-all`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { backup, DatabaseSync } from "node:sqlite";

/** How long the copy waits for a writer's lock before failing, in ms. */
const BACKUP_BUSY_TIMEOUT_MS = 10_000;

/** Pages per backup step: all of them (-1), so the copy is one consistent snapshot. */
const ALL_PAGES = -1;

self.onmessage = async (event: MessageEvent<{ source: string; target: string }>) => {
  const { source, target } = event.data;
  try {
    const db = new DatabaseSync(source, { readOnly: true });
    try {
      db.exec(`PRAGMA busy_timeout = ${BACKUP_BUSY_TIMEOUT_MS}`);
      await backup(db, target, { rate: ALL_PAGES });
    } finally {
      db.close();
    }
    self.postMessage({ ok: true });
  } catch (error) {
    self.postMessage({ ok: false, message: (error as Error).message });
  }
};
