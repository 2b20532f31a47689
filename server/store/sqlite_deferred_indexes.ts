/**
 * The SQLite store's indexes of events by host (`logs_by_host`) and by origin
 * (`logs_by_origin`, the exactly-once key), see migrations.ts: filled behind
 * ingest in steps of many rows rather than in each insert.
 *
 * A fleet sends about one row per host (and per stream) per second, so an
 * index kept in the insert puts each row on its host's or stream's own page
 * and every commit writes one page per sender. Filled
 * `DEFERRED_INDEX_STEP_ROWS` at a time, in key order, a step writes each page
 * once for all of its rows in the step. Events above `deferred_indexed_upto`
 * are in neither index yet: a query by host scans them by id, a range at most
 * about one step long, and the writer keeps their origins in memory
 * (`_recent_origins.ts`), so a resent line is refused at once.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";

/**
 * Events that gather above the indexes before a step adds them: the longest
 * range a query by host scans beside the index, and how many rows of each
 * host share one write of its page (a fleet's hosts each send a few of them).
 */
export const DEFERRED_INDEX_STEP_ROWS = 50_000;

/**
 * Most events one step adds, so that a step after a long backlog stays short;
 * also the most that may gather before an append steps first (a store whose
 * writer never calls `indexDeferred` keeps its memory of origins bounded).
 */
export const DEFERRED_INDEX_MAX_STEP_ROWS = 200_000;

/** Reads `deferred_indexed_upto` (column `value`); the store prepares it once for its hot path. */
export const DEFERRED_INDEXED_UPTO_SQL =
  "SELECT value FROM meta WHERE key = 'deferred_indexed_upto'";

/** Reads the newest event id (column `id`, 0 when there is none). */
export const NEWEST_EVENT_ID_SQL = "SELECT coalesce(max(id), 0) AS id FROM logs";

/**
 * The ids (`hid`) of a host's rows the index covers, in a time range when
 * asked, read from the index alone (it holds each row's `ts`).
 *
 * @param since Whether a lower bound of `ts` is a parameter.
 * @param until Whether an upper bound (excluded) of `ts` is a parameter.
 * @returns A SELECT whose parameters are the host, `deferred_indexed_upto`, then the bounds asked.
 * @example
 * ```ts
 * db.prepare(`SELECT count(*) AS n FROM (${hostIndexedIds(true, false)})`).get("web-1", 9, 0);
 * ```
 */
export function hostIndexedIds(since: boolean, until: boolean): string {
  return `SELECT id AS hid FROM logs_by_host WHERE host = ? AND id <= ?${
    since ? " AND ts >= ?" : ""
  }${until ? " AND ts < ?" : ""}`;
}

/**
 * The last event the indexes cover.
 *
 * @param db A connection to the store.
 * @returns `deferred_indexed_upto`: every event up to it is in both indexes.
 * @example
 * ```ts
 * const upto = deferredIndexedUpto(db);
 * ```
 */
export function deferredIndexedUpto(db: DatabaseSync): number {
  const row = db.prepare(DEFERRED_INDEXED_UPTO_SQL).get() as { value: number };
  return Number(row.value);
}

/** The newest event id, 0 when there is none. */
function newestEventId(db: DatabaseSync): number {
  const row = db.prepare(NEWEST_EVENT_ID_SQL).get() as { id: number };
  return Number(row.id);
}

/**
 * Adds the events above the indexes to them once at least `minRows` have
 * gathered, at most {@linkcode DEFERRED_INDEX_MAX_STEP_ROWS}. Call it inside a
 * transaction of the writer's connection.
 *
 * @param db The writer's connection, inside a transaction.
 * @param minRows Fewest events worth a step.
 * @returns The new `deferred_indexed_upto`, or null when fewer than `minRows` waited.
 * @example
 * ```ts
 * transaction(db, () => indexDeferredStep(db, DEFERRED_INDEX_STEP_ROWS));
 * ```
 */
export function indexDeferredStep(db: DatabaseSync, minRows: number): number | null {
  const upto = deferredIndexedUpto(db);
  const newest = newestEventId(db);
  if (newest <= upto || newest - upto < minRows) return null;
  const last = Math.min(newest, upto + DEFERRED_INDEX_MAX_STEP_ROWS);
  // One statement per index, in its key order: each page is written once per step.
  db.prepare(
    `INSERT INTO logs_by_host (host, id, ts)
     SELECT host, id, ts FROM logs WHERE id > ? AND id <= ? AND host IS NOT NULL ORDER BY host, id`,
  ).run(upto, last);
  // OR IGNORE: an origin is stored once (the writer checks), and a step must never stick on one.
  db.prepare(
    `INSERT OR IGNORE INTO logs_by_origin (stream_id, pos)
     SELECT stream_id, pos FROM logs WHERE id > ? AND id <= ? AND stream_id IS NOT NULL
     ORDER BY stream_id, pos`,
  ).run(upto, last);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'deferred_indexed_upto'").run(last);
  return last;
}

/**
 * The origins of the events above the indexes, `[stream id, position]`, for
 * the writer's memory of them after it opens the file.
 *
 * @param db The writer's connection, inside a transaction.
 * @param upto `deferred_indexed_upto`.
 * @returns Stream ids and positions, in pairs.
 */
export function originsAbove(db: DatabaseSync, upto: number): number[] {
  const rows = db.prepare(
    "SELECT stream_id, pos FROM logs NOT INDEXED WHERE id > ? AND stream_id IS NOT NULL",
  ).all(upto) as { stream_id: number; pos: number }[];
  return rows.flatMap((row) => [Number(row.stream_id), Number(row.pos)]);
}

/**
 * Removes events `first`..`last` from both indexes, as far as they have
 * reached. Call it before the rows leave `logs` (their keys are read from
 * them), inside the same transaction.
 *
 * @param db The writer's connection, inside a transaction.
 * @param first First id to remove.
 * @param last Last id to remove.
 * @returns Entries removed.
 * @example
 * ```ts
 * unindexDeferred(db, 1, 1_000);
 * ```
 */
export function unindexDeferred(db: DatabaseSync, first: number, last: number): number {
  const end = Math.min(last, deferredIndexedUpto(db));
  if (end < first) return 0;
  const hosts = db.prepare(
    `DELETE FROM logs_by_host WHERE (host, id) IN
       (SELECT host, id FROM logs WHERE id BETWEEN ? AND ? AND host IS NOT NULL)`,
  ).run(first, end);
  const origins = db.prepare(
    `DELETE FROM logs_by_origin WHERE (stream_id, pos) IN
       (SELECT stream_id, pos FROM logs WHERE id BETWEEN ? AND ? AND stream_id IS NOT NULL)`,
  ).run(first, end);
  return Number(hosts.changes) + Number(origins.changes);
}
