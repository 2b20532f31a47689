/**
 * Entry point of the backup's worker: runs one `VACUUM INTO` of a database
 * on its own read-only connection and posts how it went, so the thread that
 * started it stays free to show progress (server/store/sqlite_maintenance.ts).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { DatabaseSync } from "node:sqlite";

/** How long the copy waits for a writer's lock before failing, in ms. */
const BACKUP_BUSY_TIMEOUT_MS = 10_000;

self.onmessage = (event: MessageEvent<{ source: string; target: string }>) => {
  const { source, target } = event.data;
  try {
    const db = new DatabaseSync(source, { readOnly: true });
    try {
      db.exec(`PRAGMA busy_timeout = ${BACKUP_BUSY_TIMEOUT_MS}`);
      db.prepare("VACUUM INTO ?").run(target);
    } finally {
      db.close();
    }
    self.postMessage({ ok: true });
  } catch (error) {
    self.postMessage({ ok: false, message: (error as Error).message });
  }
};
