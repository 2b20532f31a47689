/**
 * The one helper through which the SQLite store runs every write.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";

/**
 * Runs `work` inside `BEGIN IMMEDIATE … COMMIT`; on any error rolls back and
 * rethrows, so a failed write leaves nothing behind.
 *
 * @param db An open database.
 * @param work The writes; must be synchronous (node:sqlite is).
 * @returns What `work` returned.
 * @example
 * ```ts
 * transaction(db, () => db.prepare("DELETE FROM logs WHERE id < ?").run(10));
 * ```
 */
export function transaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}
