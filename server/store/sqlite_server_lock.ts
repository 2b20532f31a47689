/**
 * One server per SQLite database: `serve` holds an exclusive SQLite lock on
 * `<database>.lock` while it runs, so a second server on the same file stops
 * at start with a clear error. The store's writer keeps the origins it
 * stored last in memory (`_recent_origins.ts`) and the highest position of
 * each stream: a second writer would not see them, and could store a resent
 * line twice. Several servers share one PostgreSQL database instead.
 *
 * The lock is SQLite's own (a `BEGIN EXCLUSIVE` kept open, without waiting),
 * which the kernel releases when the process dies, `kill -9` included.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { errorMessage } from "../../common/error_message.ts";
import { preparePrivateDatabase } from "./private_files.ts";
import { StoreError } from "./store.ts";

/** A held lock; {@linkcode SqliteServerLock.release} lets the next server in. */
export interface SqliteServerLock {
  /** Releases the lock. Idempotent. */
  release(): void;
}

/**
 * Takes the lock of the SQLite database at `path`, or fails at once. Creates
 * the database's directory first, as opening the store would.
 *
 * @param path The database file (`:memory:` takes no lock).
 * @returns The held lock.
 * @throws {StoreError} When another server holds it, or the lock file cannot be opened.
 * @example
 * ```ts
 * const lock = await lockSqliteServer("./data/nms.db");
 * try {
 *   // serve
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export async function lockSqliteServer(path: string): Promise<SqliteServerLock> {
  if (path === ":memory:") return { release() {} };
  await preparePrivateDatabase(path);
  const lockPath = `${path}.lock`;
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(lockPath);
  } catch (error) {
    throw new StoreError(`Cannot open ${lockPath}: ${errorMessage(error)}`, "invalid");
  }
  try {
    db.exec("PRAGMA busy_timeout = 0");
    // Nothing is ever written to it: no journal file beside it either (OFF is refused here).
    db.exec("PRAGMA journal_mode = MEMORY");
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
  } catch {
    db.close();
    throw new StoreError(
      `Another nms-server is using ${path} (it holds ${lockPath}): one SQLite database takes one server; several servers share a PostgreSQL database (docs/SCALING.md)`,
      "invalid",
    );
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}
