/**
 * What the SQLite store's full-text index (`logs_fts`, see migrations.ts)
 * holds for an event, and how an event leaves it.
 *
 * The index is contentless and keeps no per-row sizes (`content = ''`,
 * `columnsize = 0`), which fills faster than with the sizes
 * (docs/decisions/0003-ingest-hot-path.md). Such an index cannot delete an
 * entry by rowid alone; FTS5's `'delete'` command takes the rowid together
 * with the text that was indexed, so that text is one SQL expression over the
 * `logs` row, used both to fill the index and to remove from it. A row's
 * columns never change once stored, so the expression gives the same text
 * each time.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";

/**
 * The indexed text of a `logs` row: the program, then the message (stored, or
 * the end of `raw` from `msg_start`). substr() counts code points where
 * msg_start counts UTF-16 units: they differ only after an astral character
 * before the message, and then by a character or two of indexed text, never in
 * what is stored or shown.
 */
export const INDEXED_TEXT_SQL =
  "coalesce(program || ' ', '') || coalesce(message, substr(raw, msg_start + 1))";

/**
 * Removes events `first`..`last` from the full-text index, as far as the
 * indexer has reached (`fts_indexed_upto`): an entry that is not in the index
 * must not be deleted from it. Call it before the rows leave `logs` (the text
 * is read from them), inside the same transaction.
 *
 * @param db The writer's connection, inside a transaction.
 * @param first First id to remove.
 * @param last Last id to remove.
 * @returns Entries removed.
 * @example
 * ```ts
 * unindexEvents(db, 1, 1_000);
 * ```
 */
export function unindexEvents(db: DatabaseSync, first: number, last: number): number {
  const upto = db.prepare("SELECT value FROM meta WHERE key = 'fts_indexed_upto'").get() as {
    value: number;
  };
  const end = Math.min(last, Number(upto.value));
  if (end < first) return 0;
  const statement = db.prepare(
    `INSERT INTO logs_fts (logs_fts, rowid, text)
     SELECT 'delete', id, ${INDEXED_TEXT_SQL} FROM logs WHERE id BETWEEN ? AND ?`,
  );
  return Number(statement.run(first, end).changes);
}
