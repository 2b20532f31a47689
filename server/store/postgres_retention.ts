/**
 * Retention and storage figures of the PostgreSQL store: whole daily
 * partitions are dropped (no row-by-row delete, no bloat, no VACUUM needed),
 * and only the day straddling an age cutoff is trimmed row by row.
 *
 * @module
 */

import type { Sql } from "postgres";
import { PARTITION_MS } from "./postgres_migrations.ts";
import type { PrunePolicy, PruneStep, StorageInfo } from "./store.ts";

/** Most alerts deleted by one retention step. */
const MAX_ALERTS_PER_STEP = 1_000;

/** One daily partition of `logs` or `logs_text`. */
interface Partition {
  readonly name: string;
  /** Start of its day, ms since the epoch. */
  readonly dayStart: number;
  readonly bytes: number;
  /** PostgreSQL's row estimate (from the last ANALYZE), 0 when unknown. */
  readonly rows: number;
  readonly isLog: boolean;
}

async function partitions(sql: Sql): Promise<Partition[]> {
  const rows = await sql`
    SELECT c.relname, i.inhparent = 'logs'::regclass AS is_log,
      pg_total_relation_size(c.oid) AS bytes, c.reltuples
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent IN ('logs'::regclass, 'logs_text'::regclass)`;
  return rows.flatMap((row) => {
    const match = /(\d{4})(\d{2})(\d{2})$/.exec(String(row.relname));
    if (!match) return [];
    return [{
      name: String(row.relname),
      dayStart: Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])),
      bytes: Number(row.bytes),
      rows: Math.max(0, Number(row.reltuples)),
      isLog: row.is_log === true,
    }];
  });
}

/**
 * Bytes the store's tables take in its schema (indexes and TOAST included).
 *
 * @param sql A pool on the store's schema.
 * @returns The size in bytes.
 * @example
 * ```ts
 * console.log(await postgresUsedBytes(sql));
 * ```
 */
export async function postgresUsedBytes(sql: Sql): Promise<number> {
  const [row] = await sql`
    SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes FROM pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'm')`;
  return Number(row!.bytes);
}

/**
 * One bounded retention step. Age: every partition whose day ends at or
 * before the cutoff is dropped whole, then at most `maxRows` older events of
 * the day straddling the cutoff are deleted. Size: while the tables take more
 * than `maxBytes`, the oldest day is dropped (one per step), never the day of
 * the newest event. Alerts last updated before the cutoff go too.
 *
 * @param sql A pool on the store's schema.
 * @param policy Limits and bounds (`reclaimBytes` does not apply: dropped tables free their files at once).
 * @returns Events deleted (estimated from PostgreSQL's statistics for dropped days), bytes freed, whether more is left.
 * @example
 * ```ts
 * await prunePostgres(sql, { receivedBeforeMs: Date.now() - 30 * 86_400_000, maxRows: 10_000 });
 * ```
 */
export async function prunePostgres(sql: Sql, policy: PrunePolicy): Promise<PruneStep> {
  const maxRows = Math.max(0, Math.trunc(policy.maxRows));
  const cutoff = policy.receivedBeforeMs === undefined
    ? undefined
    : Math.floor(policy.receivedBeforeMs);
  let deleted = 0;
  let reclaimedBytes = 0;
  let more = false;
  if (maxRows === 0 || (cutoff === undefined && policy.maxBytes === undefined)) {
    return { deleted, reclaimedBytes, more };
  }
  const drop = async (before: number) => {
    const gone = (await partitions(sql)).filter((p) => p.dayStart + PARTITION_MS <= before);
    if (gone.length === 0) return;
    await sql`SELECT nms_drop_log_partitions(${before})`;
    for (const p of gone) {
      reclaimedBytes += p.bytes;
      if (p.isLog) deleted += p.rows;
    }
  };
  // The day of the newest event is never dropped whole, so that event always stays.
  const [newest] = await sql`SELECT received_at FROM logs ORDER BY id DESC LIMIT 1`;
  if (!newest) return { deleted, reclaimedBytes, more };
  const keepFrom = Number(newest.received_at) - (Number(newest.received_at) % PARTITION_MS);
  if (cutoff !== undefined) {
    await drop(Math.min(cutoff - (cutoff % PARTITION_MS), keepFrom));
    // The day straddling the cutoff, row by row; the newest event always stays.
    const ids = await sql`
      DELETE FROM logs WHERE id IN (
        SELECT id FROM logs WHERE received_at < ${cutoff}
          AND id < (SELECT max(id) FROM logs)
        ORDER BY id LIMIT ${maxRows})
      RETURNING id`;
    if (ids.length > 0) {
      await sql`DELETE FROM logs_text WHERE id = ANY(${
        sql.array(ids.map((r) => Number(r.id)), 20)
      }::bigint[])`;
    }
    deleted += ids.length;
    more = ids.length === maxRows;
    await sql`DELETE FROM alerts WHERE id IN (
      SELECT id FROM alerts WHERE updated_at < ${cutoff} LIMIT ${MAX_ALERTS_PER_STEP})`;
  }
  if (policy.maxBytes !== undefined && await postgresUsedBytes(sql) > policy.maxBytes) {
    const oldest = (await partitions(sql)).filter((p) => p.isLog && p.dayStart < keepFrom)
      .map((p) => p.dayStart).sort((a, b) => a - b)[0];
    if (oldest !== undefined) {
      await drop(oldest + PARTITION_MS);
      more = await postgresUsedBytes(sql) > policy.maxBytes;
    }
  }
  return { deleted: Math.round(deleted), reclaimedBytes, more };
}

/**
 * The oldest stored event and the size of the store's tables.
 *
 * @param sql A pool on the store's schema.
 * @returns The figures; `fileBytes` equals `usedBytes` (PostgreSQL has no single file).
 * @example
 * ```ts
 * const info = await postgresStorageInfo(sql);
 * ```
 */
export async function postgresStorageInfo(sql: Sql): Promise<StorageInfo> {
  const [oldest] = await sql`SELECT received_at, ts FROM logs ORDER BY id LIMIT 1`;
  const bytes = await postgresUsedBytes(sql);
  return {
    oldestReceivedAt: oldest ? Number(oldest.received_at) : null,
    oldestEventTs: oldest ? Number(oldest.ts) : null,
    usedBytes: bytes,
    fileBytes: bytes,
  };
}
