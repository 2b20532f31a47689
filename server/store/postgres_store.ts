/**
 * {@linkcode Store} on PostgreSQL through the `postgres` driver: a connection
 * pool, bulk inserts of whole columns with `unnest`, one transaction per
 * appended group, daily log partitions and an exactly-once `origins` table
 * shared by every server on the database. See
 * docs/decisions/0009-postgres-store.md.
 *
 * @module
 */

import { nullableNumber, nullableString, toAgent, toAlert, toUser } from "./_rows.ts";
import postgres, {
  type PendingQuery,
  type Row as SqlRow,
  type Sql,
  type TransactionSql,
} from "postgres";
import { parsePostgresUrl } from "./_postgres_url.ts";
import type { SecurityStore } from "./security_store.ts";
import { PostgresSecurityStore } from "./postgres_security_store.ts";
import {
  ADVISORY_LOCK_CLASS,
  migratePostgres,
  PARTITION_DAYS_AHEAD,
  PARTITION_MS,
} from "./postgres_migrations.ts";
import type { SyncMode } from "./sqlite_store.ts";
import { postgresStorageInfo, prunePostgres } from "./postgres_retention.ts";
import {
  type AgentRecord,
  type AgentRegistration,
  type AlertQuery,
  type AlertRecord,
  type AlertUpsert,
  APPEND_STATUS,
  type AppendOptions,
  type CountOptions,
  DEFAULT_ALERT_QUERY_LIMIT,
  type DigestOptions,
  type EventBatch,
  type EventDigest,
  type EventQuery,
  type EventRecord,
  type GroupAlerts,
  type HeartbeatRecord,
  MAX_ALERT_EVENT_IDS,
  MAX_ALERT_QUERY_LIMIT,
  type PrunePolicy,
  type PruneStep,
  type Role,
  type SourceRecord,
  type SourceUpdate,
  type StorageInfo,
  type Store,
  StoreError,
  type UserRecord,
} from "./store.ts";
import { checkUserName } from "./user_name.ts";

/** Options of {@linkcode openPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * Most connections this store opens (they are opened when first needed).
   * @default {4}
   */
  maxConnections?: number;
  /**
   * `full` waits for PostgreSQL to flush each commit to disk before an event
   * is acknowledged; `normal` sets `synchronous_commit = off` (a database
   * crash may lose the last acknowledged commits).
   * @default {"full"}
   */
  sync?: SyncMode;
  /**
   * Seconds after which an idle connection is closed; 0 keeps them open.
   * @default {0}
   */
  idleTimeoutSeconds?: number;
  /**
   * Seconds to wait for a connection to be established.
   * @default {10}
   */
  connectTimeoutSeconds?: number;
  /**
   * Days of log partitions created ahead of the day being written.
   * @default {PARTITION_DAYS_AHEAD}
   */
  partitionDaysAhead?: number;
}

/** Largest page {@linkcode Store.queryEvents} returns whatever the caller asks. */
export const MAX_QUERY_LIMIT = 10_000;

/** Default page size of {@linkcode Store.queryEvents}. */
const DEFAULT_QUERY_LIMIT = 100;

/**
 * Rows per bulk `INSERT ... SELECT FROM unnest(...)`. Each statement binds 13
 * array parameters whatever its row count; this bounds the size of one
 * message to the server (a few MB), not the transaction, which holds the
 * whole group.
 */
const MAX_ROWS_PER_INSERT = 5_000;

/** Times a group is retried after a deadlock or a missing partition. */
const MAX_APPEND_ATTEMPTS = 3;

/** PostgreSQL type ids used to bind arrays. */
const INT2 = 21;
const INT4 = 23;
const INT8 = 20;
const TEXT = 25;

/** SQLSTATEs the append retries: deadlock, serialization failure, no partition for a row. */
const RETRY_CODES = new Set(["40P01", "40001", "23514"]);

/** PostgreSQL text cannot hold NUL; it is stored as U+FFFD instead (docs/decisions/0009). */
function clean(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text;
}

function cleanOrNull(text: string | null | undefined): string | null {
  return text === null || text === undefined ? null : clean(text);
}

/** Escapes LIKE wildcards so that a search term matches literally. */
function likeLiteral(term: string): string {
  return "%" + clean(term).replace(/[\\%_]/g, (c) => "\\" + c) + "%";
}

/** Most words of a full-text query that are used; the rest are ignored (as in the SQLite store). */
const MAX_TEXT_WORDS = 8;

/**
 * Turns user keywords into a tsquery of prefix terms built only from letter
 * and digit runs (so no tsquery syntax in the input is ever interpreted) and
 * the words that each line must contain, case-insensitively.
 */
function fullTextQuery(text: string): { tsquery: string | null; words: string[] } {
  const words = text.toLowerCase().split(/\s+/).filter((w) => w !== "").slice(0, MAX_TEXT_WORDS);
  const terms = words.flatMap((w) => w.match(/[\p{L}\p{N}]+/gu) ?? []).map((t) => `'${t}':*`);
  return { tsquery: terms.length > 0 ? terms.join(" & ") : null, words };
}

/** Which half of a full-text query to filter for (see `#textParts`), or null for no split. */
type TextPart = { part: "indexed" | "tail"; upto: number } | null;

type Row = Record<string, unknown>;

/**
 * Opens a PostgreSQL store and migrates its schema (several servers may do so
 * at once; an advisory lock makes the first one migrate).
 *
 * @param url `postgres://user[:password]@host[:port]/database[?schema=NAME]`;
 *   other query parameters (`sslmode`, …) go to the driver.
 * @param options Pool size and durability.
 * @returns The store; close it with `close()`.
 * @throws {StoreError} When the URL is malformed or the database unreachable.
 * @example
 * ```ts
 * const store = await openPostgresStore("postgres://postgres@127.0.0.1:5432/nms");
 * console.log(await store.countEvents());
 * await store.close();
 * ```
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const target = parsePostgresUrl(url);
  const sql = postgres(target.connect, {
    max: options.maxConnections ?? 4,
    idle_timeout: options.idleTimeoutSeconds || undefined,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    onnotice: () => {},
    connection: {
      application_name: "nms-server",
      search_path: `"${target.schema}"`,
      ...(options.sync === "normal" ? { synchronous_commit: "off" } : {}),
    },
  });
  try {
    await migratePostgres(sql, target.schema);
  } catch (error) {
    await sql.end({ timeout: 0 });
    if (error instanceof StoreError) throw error;
    throw new StoreError(
      `Cannot open PostgreSQL store ${target.redacted}: ${(error as Error).message}`,
      "invalid",
    );
  }
  return new PostgresStore(sql, options.partitionDaysAhead ?? PARTITION_DAYS_AHEAD);
}

/** The PostgreSQL {@linkcode Store}; also offers partition retention. */
export class PostgresStore implements Store {
  readonly #sql: Sql;
  /** Stream key → row id. Stream rows are never deleted, so the cache never goes stale. */
  readonly #streams = new Map<string, number>();
  /** Days (since the epoch) whose log partition is known to exist. */
  readonly #days = new Set<number>();
  readonly #daysAhead: number;
  #closed = false;

  /** Use {@linkcode openPostgresStore}. */
  constructor(sql: Sql, partitionDaysAhead: number = PARTITION_DAYS_AHEAD) {
    this.#daysAhead = Math.max(0, Math.trunc(partitionDaysAhead));
    this.#sql = sql;
    this.security = new PostgresSecurityStore(sql);
  }

  /** Tokens, lockout counters and audit trail (issue 5), on the same pool. */
  readonly security: SecurityStore;

  /**
   * Makes sure the daily partitions from the day of `atMs` to
   * `partitionDaysAhead` days later exist.
   *
   * @param atMs A receive time, ms since the epoch.
   * @example
   * ```ts
   * await store.ensurePartitions(Date.now());
   * ```
   */
  async ensurePartitions(atMs: number): Promise<void> {
    const day = Math.floor(atMs / PARTITION_MS);
    if (this.#days.has(day) && this.#days.has(day + this.#daysAhead)) return;
    const last = day + this.#daysAhead;
    await this.#sql`SELECT nms_ensure_log_partitions(${day}, ${last})`;
    for (let d = day; d <= last; d++) this.#days.add(d);
  }

  /**
   * Retention: drops every daily log partition that ends at or before
   * `cutoffMs` (whole tables, no row-by-row delete) and the exactly-once keys
   * received before it.
   *
   * @param cutoffMs Receive time, ms since the epoch, before which events go.
   * @returns How many partitions were dropped.
   * @example
   * ```ts
   * await store.dropPartitionsBefore(Date.now() - 30 * 86_400_000);
   * ```
   */
  async dropPartitionsBefore(cutoffMs: number): Promise<number> {
    const [row] = await this.#sql`SELECT nms_drop_log_partitions(${Math.floor(cutoffMs)}) AS n`;
    this.#days.clear();
    return Number(row!.n);
  }

  /** Finds or creates the row ids of stream keys not in the cache yet. */
  async #resolveStreams(keys: Set<string>): Promise<void> {
    // Sorted: two servers inserting overlapping keys take their locks in the
    // same order, so they cannot deadlock each other.
    const missing = [...keys].filter((key) => !this.#streams.has(key)).sort();
    if (missing.length === 0) return;
    const array = this.#sql.array(missing.map(clean), TEXT);
    await this.#sql`INSERT INTO streams (key) SELECT unnest(${array}::text[])
      ON CONFLICT (key) DO NOTHING`;
    const rows = await this.#sql`SELECT id, key FROM streams WHERE key = ANY(${array}::text[])`;
    const byCleanKey = new Map(rows.map((r) => [String(r.key), Number(r.id)]));
    for (const key of missing) this.#streams.set(key, byCleanKey.get(clean(key))!);
  }

  async appendEvents(
    batches: readonly EventBatch[],
    options: AppendOptions = {},
  ): Promise<Uint8Array[]> {
    const keys = new Set<string>();
    const receiveTimes = new Set<number>();
    for (const batch of batches) {
      receiveTimes.add(batch.receivedAt);
      for (let i = 0; i < batch.count; i++) {
        const key = batch.stream[i];
        if (key !== null && key !== undefined) keys.add(key);
      }
    }
    await this.#resolveStreams(keys);
    for (let attempt = 1;; attempt++) {
      for (const at of receiveTimes) await this.ensurePartitions(at);
      try {
        return await this.#sql.begin(async (tx) => {
          const statuses = await this.#append(tx, batches, options.eventIds);
          if (options.alerts) await this.#storeGroupAlerts(tx, options.alerts, statuses);
          return statuses;
        });
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= MAX_APPEND_ATTEMPTS || !code || !RETRY_CODES.has(code)) throw error;
        // A partition may have been dropped by retention meanwhile: check again.
        this.#days.clear();
      }
    }
  }

  async #append(
    tx: TransactionSql,
    batches: readonly EventBatch[],
    eventIds: AppendOptions["eventIds"],
  ): Promise<Uint8Array[]> {
    const statuses = batches.map((batch) => new Uint8Array(batch.count));
    // 1. Claim every origin in origins; the ones PostgreSQL returns are new.
    //    Within the group only an origin's first occurrence may be stored.
    const firstOf = new Map<string, [number, number]>();
    const originStream: number[] = [];
    const originPos: number[] = [];
    const originAt: number[] = [];
    batches.forEach((batch, b) => {
      for (let i = 0; i < batch.count; i++) {
        const key = batch.stream[i];
        if (key === null || key === undefined) continue;
        const streamId = this.#streams.get(key)!;
        const origin = `${streamId}:${batch.position[i]}`;
        if (firstOf.has(origin)) {
          statuses[b]![i] = APPEND_STATUS.duplicate;
          continue;
        }
        firstOf.set(origin, [b, i]);
        originStream.push(streamId);
        originPos.push(batch.position[i]!);
        originAt.push(batch.receivedAt);
      }
    });
    if (originStream.length > 0) {
      // Claimed in key order so that two servers claiming overlapping origins
      // wait for each other instead of deadlocking.
      const order = originStream.map((_, i) => i).sort((a, c) =>
        originStream[a]! - originStream[c]! || originPos[a]! - originPos[c]!
      );
      const claimed = await tx`
        INSERT INTO origins (stream_id, pos, received_at)
        SELECT * FROM unnest(${tx.array(order.map((i) => originStream[i]!), INT8)}::bigint[],
          ${tx.array(order.map((i) => originPos[i]!), INT8)}::bigint[],
          ${tx.array(order.map((i) => originAt[i]!), INT8)}::bigint[])
        ON CONFLICT DO NOTHING
        RETURNING stream_id, pos`;
      const fresh = new Set(claimed.map((r) => `${r.stream_id}:${r.pos}`));
      for (const [origin, [b, i]] of firstOf) {
        if (!fresh.has(origin)) statuses[b]![i] = APPEND_STATUS.duplicate;
      }
    }
    // 2. Ids become visible in commit order: the insert and the commit of one
    //    group at a time per schema, across all servers, so a reader following
    //    `afterId` never skips a row committed late with a lower id.
    await tx`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_CLASS}, hashtext(current_schema() || ':ingest'))`;
    // 3. Insert the new events, column by column.
    let columns = emptyColumns();
    /** Batch and index of each row of `columns`, when ids are wanted. */
    let origin: number[] = [];
    const inserts: Promise<unknown>[] = [];
    const flush = () => {
      if (columns.ts.length === 0) return;
      const c = columns;
      const rows = origin;
      const insert = tx`
        INSERT INTO logs (received_at, ts, host, agent_id, program, pid, severity, facility,
          message, raw, flags, stream_id, pos, msgid, structured_data)
        SELECT * FROM unnest(${tx.array(c.receivedAt, INT8)}::bigint[],
          ${tx.array(c.ts, INT8)}::bigint[], ${tx.array(c.host, TEXT)}::text[],
          ${tx.array(c.agentId, INT8)}::bigint[], ${tx.array(c.program, TEXT)}::text[],
          ${tx.array(c.pid, INT4)}::integer[], ${tx.array(c.severity, INT2)}::smallint[],
          ${tx.array(c.facility, INT2)}::smallint[], ${tx.array(c.message, TEXT)}::text[],
          ${tx.array(c.raw, TEXT)}::text[], ${tx.array(c.flags, INT2)}::smallint[],
          ${tx.array(c.streamId, INT8)}::bigint[], ${tx.array(c.pos, INT8)}::bigint[],
          ${tx.array(c.msgid, TEXT)}::text[], ${tx.array(c.structuredData, TEXT)}::text[])
        ${eventIds ? tx`RETURNING id` : tx``}`;
      // Sent at once, so that PostgreSQL inserts this chunk while the next one is built.
      insert.execute();
      // RETURNING gives the rows in insertion order, which is unnest's order.
      inserts.push(
        eventIds
          ? insert.then((ids) =>
            ids.forEach((row, k) => {
              const target = eventIds[rows[2 * k]!];
              if (target) target[rows[2 * k + 1]!] = Number(row.id);
            })
          )
          : insert,
      );
      // The driver reads the arrays when the statement runs: start new ones.
      columns = emptyColumns();
      origin = [];
    };
    batches.forEach((batch, b) => {
      const status = statuses[b]!;
      for (let i = 0; i < batch.count; i++) {
        if (status[i] !== APPEND_STATUS.stored) continue;
        const key = batch.stream[i];
        const streamId = key === null || key === undefined ? null : this.#streams.get(key)!;
        const pid = batch.pid[i]!;
        const severity = batch.severity[i]!;
        const facility = batch.facility[i]!;
        columns.receivedAt.push(Math.floor(batch.receivedAt));
        const ts = batch.ts[i]!;
        columns.ts.push(Number.isFinite(ts) ? Math.floor(ts) : Math.floor(batch.receivedAt));
        columns.host.push(cleanOrNull(batch.host[i]));
        columns.agentId.push(batch.agentId);
        columns.program.push(cleanOrNull(batch.program[i]));
        columns.pid.push(pid < 0 ? null : pid);
        columns.severity.push(severity < 0 ? null : severity);
        columns.facility.push(facility < 0 ? null : facility);
        columns.message.push(clean(batch.message[i]!));
        columns.raw.push(clean(batch.raw[i]!));
        columns.flags.push(batch.flags[i]!);
        columns.streamId.push(streamId);
        columns.pos.push(streamId === null ? null : batch.position[i]!);
        columns.msgid.push(cleanOrNull(batch.msgid?.[i]));
        columns.structuredData.push(cleanOrNull(batch.structuredData?.[i]));
        if (eventIds) origin.push(b, i);
        if (columns.ts.length >= MAX_ROWS_PER_INSERT) flush();
      }
    });
    flush();
    // Syslog senders, in the same transaction (serialized by the lock above).
    const sources = batches.flatMap((batch) => batch.sources ?? []);
    if (sources.length > 0) inserts.push(upsertSources(tx, sources));
    // The statements are pipelined on the transaction's connection.
    await Promise.all(inserts);
    return statuses;
  }

  async registerAgent(registration: AgentRegistration): Promise<number> {
    const r = registration;
    const [row] = await this.#sql`
      INSERT INTO agents (hostname, version, os, address, first_seen, last_seen)
      VALUES (${clean(r.hostname)}, ${clean(r.version)}, ${clean(r.os)}, ${clean(r.address)},
        ${r.at}, ${r.at})
      ON CONFLICT (hostname) DO UPDATE SET version = excluded.version, os = excluded.os,
        address = excluded.address, last_seen = excluded.last_seen, stopped_at = NULL
      RETURNING id`;
    return Number(row!.id);
  }

  async recordHeartbeat(heartbeat: HeartbeatRecord): Promise<void> {
    await this.#sql`
      UPDATE agents SET last_seen = ${heartbeat.at}, last_heartbeat = ${heartbeat.at},
        uptime_seconds = ${heartbeat.uptimeSeconds},
        lag_bytes = coalesce(${heartbeat.lagBytes}::bigint, lag_bytes), stopped_at = NULL
      WHERE id = ${heartbeat.agentId}`;
  }

  async markAgentStopped(agentId: number, at: number): Promise<void> {
    await this.#sql`UPDATE agents SET stopped_at = ${at}, last_seen = ${at} WHERE id = ${agentId}`;
  }

  async listAgents(): Promise<AgentRecord[]> {
    return (await this.#sql`SELECT * FROM agents ORDER BY hostname COLLATE "C"`).map(toAgent);
  }

  async listSources(): Promise<SourceRecord[]> {
    const rows = await this.#sql`SELECT * FROM sources
      ORDER BY coalesce(hostname, address) COLLATE "C", address COLLATE "C"`;
    return rows.map(toSource);
  }

  async findUser(username: string): Promise<UserRecord | undefined> {
    const [row] = await this.#sql`SELECT * FROM users WHERE username = ${clean(username)}`;
    return row ? toUser(row) : undefined;
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.#sql`SELECT * FROM users ORDER BY username COLLATE "C"`).map(toUser);
  }

  async createUser(username: string, passwordHash: string, role: Role): Promise<UserRecord> {
    checkUserName(username);
    try {
      const [row] = await this.#sql`
        INSERT INTO users (username, password_hash, role, created_at)
        VALUES (${clean(username)}, ${passwordHash}, ${role}, ${Date.now()}) RETURNING *`;
      return toUser(row!);
    } catch (error) {
      if ((error as { code?: string }).code === "23505") {
        throw new StoreError(`User ${username} already exists`, "conflict");
      }
      throw error;
    }
  }

  async setPasswordHash(username: string, passwordHash: string): Promise<boolean> {
    const result = await this.#sql`
      UPDATE users SET password_hash = ${passwordHash} WHERE username = ${clean(username)}`;
    return result.count > 0;
  }

  async removeUser(username: string): Promise<boolean> {
    const result = await this.#sql`DELETE FROM users WHERE username = ${clean(username)}`;
    return result.count > 0;
  }

  async countUsers(): Promise<number> {
    const [row] = await this.#sql`SELECT count(*) AS n FROM users`;
    return Number(row!.n);
  }

  async queryEvents(query: EventQuery): Promise<EventRecord[]> {
    const sql = this.#sql;
    const limit = Math.max(1, Math.min(query.limit ?? DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT));
    const ascending = query.afterId !== undefined;
    const select = async (part: TextPart) => {
      const where = eventFilter(sql, query, part);
      if (query.beforeId !== undefined) where.push(sql`id < ${Math.ceil(query.beforeId)}`);
      if (query.afterId !== undefined) where.push(sql`id > ${Math.floor(query.afterId)}`);
      const order = ascending ? sql`id ASC` : sql`id DESC`;
      const rows = await sql`SELECT * FROM logs WHERE ${and(sql, where)} ORDER BY ${order}
        LIMIT ${limit}`;
      return rows.map(toEvent);
    };
    const parts = await this.#textParts(query);
    if (parts === null) return await select(null);
    // Indexed ids are all below the tail's: newest first means tail first.
    const [first, second] = ascending ? parts : [parts[1], parts[0]];
    const rows = await select(first);
    if (rows.length < limit) rows.push(...(await select(second)).slice(0, limit - rows.length));
    return rows;
  }

  /**
   * A full-text query runs as two queries that each use an index: the events
   * the full-text index covers (ids from `logs_text`), and the newer ones it
   * has not reached yet (a scan of the id range above it).
   */
  async #textParts(query: EventQuery): Promise<[TextPart, TextPart] | null> {
    if (query.text === undefined || fullTextQuery(query.text).tsquery === null) return null;
    const [row] = await this.#sql`SELECT value FROM nms_meta WHERE key = 'text_indexed_upto'`;
    const upto = Number(row?.value ?? 0);
    return [{ part: "indexed", upto }, { part: "tail", upto }];
  }

  async countEvents(query?: EventQuery, options: CountOptions = {}): Promise<number> {
    const sql = this.#sql;
    const count = async (part: TextPart, atMost: number | undefined) => {
      const where = query ? eventFilter(sql, query, part) : [];
      // The inner LIMIT stops the scan at `atMost` matches.
      const [row] = atMost === undefined
        ? await sql`SELECT count(*) AS n FROM logs WHERE ${and(sql, where)}`
        : await sql`SELECT count(*) AS n FROM (SELECT 1 FROM logs WHERE ${and(sql, where)}
            LIMIT ${Math.max(0, Math.trunc(atMost))}) AS matches`;
      return Number(row!.n);
    };
    const parts = query ? await this.#textParts(query) : null;
    if (parts === null) return await count(null, options.atMost);
    const tail = await count(parts[1], options.atMost);
    const rest = options.atMost === undefined ? undefined : Math.max(0, options.atMost - tail);
    return tail + (rest === 0 ? 0 : await count(parts[0], rest));
  }

  /**
   * Adds up to `maxRows` events, oldest first, to the full-text index
   * (`logs_text`). Several servers may call it at once: an advisory lock
   * makes them take turns, and ids become visible in commit order (see
   * `#append`), so no event is skipped.
   *
   * @param maxRows Most events indexed by this step.
   * @returns How many were indexed (0 when the index is complete).
   * @example
   * ```ts
   * while (await store.indexText(5_000) > 0);
   * ```
   */
  async indexText(maxRows: number): Promise<number> {
    const limit = Math.max(1, Math.trunc(maxRows));
    return await this.#sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_CLASS}, hashtext(current_schema() || ':text'))`;
      const [meta] = await tx`SELECT value FROM nms_meta WHERE key = 'text_indexed_upto'`;
      const upto = Number(meta?.value ?? 0);
      // Letter/digit runs only, as FTS5's unicode61 tokenizer sees them (SQLite store).
      const [done] = await tx`
        WITH batch AS (
          SELECT id, received_at, program, message FROM logs WHERE id > ${upto}
          ORDER BY id LIMIT ${limit}
        ), added AS (
          INSERT INTO logs_text (id, received_at, words)
          SELECT id, received_at, to_tsvector('simple',
            regexp_replace(coalesce(program, '') || ' ' || message, '[^[:alnum:]]+', ' ', 'g'))
          FROM batch
          RETURNING id
        )
        SELECT count(*) AS n, max(id) AS last FROM added`;
      const indexed = Number(done!.n);
      if (indexed > 0) {
        await tx`UPDATE nms_meta SET value = ${Number(done!.last)}
          WHERE key = 'text_indexed_upto'`;
      }
      return indexed;
    }) as number;
  }

  /**
   * Events the full-text index has not reached: ids above its mark. Ids from
   * a sequence can have gaps, so this can only overstate the lag.
   *
   * @returns The number of events behind, at most.
   */
  async textIndexLag(): Promise<number> {
    const [row] = await this.#sql`
      SELECT coalesce((SELECT max(id) FROM logs), 0)
        - coalesce((SELECT value FROM nms_meta WHERE key = 'text_indexed_upto'), 0) AS lag`;
    return Math.max(0, Number(row!.lag));
  }

  async eventHistogram(
    range: { sinceMs: number; untilMs: number; bucketMs: number },
  ): Promise<{ start: number; count: number }[]> {
    const bucket = Math.max(1, Math.trunc(range.bucketMs));
    const rows = await this.#sql`
      SELECT (ts / ${bucket}) * ${bucket} AS start, count(*) AS n FROM logs
      WHERE ts >= ${Math.floor(range.sinceMs)} AND ts < ${Math.floor(range.untilMs)}
      GROUP BY 1 ORDER BY 1`;
    return rows.map((row) => ({ start: Number(row.start), count: Number(row.n) }));
  }

  // --- Web console reads (server/dashboard/) ---

  async digestEvents(afterId: number, options: DigestOptions): Promise<EventDigest[]> {
    const sql = this.#sql;
    const limit = Math.max(1, Math.min(Math.trunc(options.limit), MAX_QUERY_LIMIT));
    const marks = options.markSubstrings.filter((m) => m !== "").map(likeLiteral);
    const marked = marks.length
      ? sql`message LIKE ANY (${sql.array(marks, TEXT)}::text[])`
      : sql`FALSE`;
    const rows = await sql`
      SELECT id, ts, host, program, severity, agent_id, ${marked} AS marked FROM logs
      WHERE id > ${Math.floor(afterId)} ORDER BY id LIMIT ${limit}`;
    return rows.map((row) => ({
      id: Number(row.id),
      ts: Number(row.ts),
      host: nullableString(row.host),
      program: nullableString(row.program),
      severity: nullableNumber(row.severity),
      agentId: nullableNumber(row.agent_id),
      marked: row.marked === true,
    }));
  }

  async firstEventIdSince(sinceMs: number): Promise<number | null> {
    const [row] = await this.#sql`SELECT id FROM logs WHERE ts >= ${Math.ceil(sinceMs)}
      ORDER BY ts, id LIMIT 1`;
    return row ? Number(row.id) : null;
  }

  async setUserRole(username: string, role: Role): Promise<boolean> {
    const result = await this.#sql`UPDATE users SET role = ${role} WHERE username = ${
      clean(username)
    }`;
    return result.count > 0;
  }

  // --- Alerts (server/rules/). Event ids are not filled by appendEvents here yet. ---

  /**
   * A group's alerts inside its events' transaction, under a savepoint: a
   * failure undoes only them and is reported in `group.error`.
   */
  async #storeGroupAlerts(
    tx: TransactionSql,
    group: GroupAlerts,
    statuses: readonly Uint8Array[],
  ): Promise<void> {
    // A retried transaction collects again: only the last attempt's alerts count.
    group.stored.length = 0;
    delete group.error;
    try {
      const upserts = group.collect(statuses);
      if (upserts.length === 0) return;
      const stored = await tx.savepoint((sp) => this.#foldAlerts(sp, upserts, group.at));
      group.stored.push(...(stored as unknown as AlertRecord[]));
    } catch (error) {
      group.error = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** Stores or folds alerts inside an open transaction. */
  async #foldAlerts(
    tx: TransactionSql,
    alerts: readonly AlertUpsert[],
    at: number,
  ): Promise<AlertRecord[]> {
    // Servers sharing the database fold one at a time.
    await tx`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_CLASS}, hashtext(current_schema() || ':alerts'))`;
    const out: AlertRecord[] = [];
    for (const alert of alerts) {
      const key = clean(alert.foldKey);
      const [last] = await tx`SELECT id, first_seen, last_seen, event_ids FROM alerts
        WHERE fold_key = ${key} ORDER BY id DESC LIMIT 1`;
      const folds = last !== undefined && alert.foldWindowMs > 0 &&
        alert.firstSeen - Number(last.last_seen) <= alert.foldWindowMs &&
        Number(last.first_seen) - alert.lastSeen <= alert.foldWindowMs;
      const first = Math.floor(alert.firstSeen);
      const lastSeen = Math.floor(alert.lastSeen);
      const description = clean(alert.description);
      if (folds) {
        const ids = (JSON.parse(String(last.event_ids)) as number[]).concat(alert.eventIds);
        const [row] = await tx`UPDATE alerts SET level = ${alert.level},
          description = ${description},
          event_ids = ${JSON.stringify(ids.slice(0, MAX_ALERT_EVENT_IDS))},
          first_seen = least(first_seen, ${first}), last_seen = greatest(last_seen, ${lastSeen}),
          count = count + ${alert.count}, updated_at = ${Math.floor(at)}
          WHERE id = ${last.id} RETURNING *`;
        out.push(toAlert(row!));
      } else {
        const [row] = await tx`INSERT INTO alerts (rule_id, level, description, fold_key, fields,
          event_ids, first_seen, last_seen, count, updated_at)
          VALUES (${alert.ruleId}, ${alert.level}, ${description}, ${key},
            ${clean(JSON.stringify(alert.fields))},
            ${JSON.stringify(alert.eventIds.slice(0, MAX_ALERT_EVENT_IDS))}, ${first},
            ${lastSeen}, ${alert.count}, ${Math.floor(at)})
          RETURNING *`;
        out.push(toAlert(row!));
      }
    }
    return out;
  }

  async listAlerts(query: AlertQuery = {}): Promise<AlertRecord[]> {
    const limit = Math.max(
      1,
      Math.min(Math.trunc(query.limit ?? DEFAULT_ALERT_QUERY_LIMIT), MAX_ALERT_QUERY_LIMIT),
    );
    const rows = await this.#sql`SELECT * FROM alerts
      WHERE ${and(this.#sql, alertFilter(this.#sql, query))}
      ORDER BY updated_at DESC, id DESC LIMIT ${limit}`;
    return rows.map(toAlert);
  }

  async countAlerts(query: AlertQuery = {}): Promise<number> {
    const [row] = await this.#sql`SELECT count(*) AS n FROM alerts
      WHERE ${and(this.#sql, alertFilter(this.#sql, query))}`;
    return Number(row!.n);
  }

  // --- Retention and storage (issue 10): whole daily partitions, see postgres_retention.ts ---

  pruneEvents(policy: PrunePolicy): Promise<PruneStep> {
    return prunePostgres(this.#sql, policy).finally(() => this.#days.clear());
  }

  storageInfo(): Promise<StorageInfo> {
    return postgresStorageInfo(this.#sql);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sql.end({ timeout: 5 });
  }
}

// --- Alerts (server/rules/) ---

/** Conditions of an {@linkcode AlertQuery}. */
function alertFilter(sql: Sql, query: AlertQuery): PendingQuery<SqlRow[]>[] {
  const where: PendingQuery<SqlRow[]>[] = [];
  if (query.sinceMs !== undefined) where.push(sql`updated_at >= ${Math.ceil(query.sinceMs)}`);
  if (query.minLevel !== undefined) where.push(sql`level >= ${query.minLevel}`);
  return where;
}

/**
 * Conditions (to be joined with AND) for the filters of an {@linkcode EventQuery},
 * cursors excluded. Shared by queries and counts.
 */
function eventFilter(
  sql: Sql,
  query: EventQuery,
  textPart: TextPart = null,
): PendingQuery<SqlRow[]>[] {
  const where: PendingQuery<SqlRow[]>[] = [];
  if (query.host !== undefined) where.push(sql`host = ${clean(query.host)}`);
  if (query.program !== undefined) where.push(sql`program = ${clean(query.program)}`);
  if (query.contains !== undefined && query.contains !== "") {
    // strpos() is literal: no wildcard or escape in the term means anything.
    where.push(sql`strpos(raw, ${clean(query.contains)}) > 0`);
  }
  if (query.text !== undefined) {
    const text = fullTextQuery(query.text);
    if (text.tsquery !== null && textPart?.part === "indexed") {
      where.push(sql`id <= ${textPart.upto}`);
      where.push(sql`id IN (SELECT id FROM logs_text
        WHERE words @@ to_tsquery('simple', ${text.tsquery}))`);
    } else if (textPart?.part === "tail") {
      where.push(sql`id > ${textPart.upto}`);
    }
    for (const word of text.words) {
      where.push(sql`strpos(lower(raw), lower(${clean(word)})) > 0`);
    }
  }
  if (query.maxSeverity !== undefined) where.push(sql`severity <= ${query.maxSeverity}`);
  if (query.sinceMs !== undefined) where.push(sql`ts >= ${Math.ceil(query.sinceMs)}`);
  if (query.untilMs !== undefined) where.push(sql`ts < ${Math.ceil(query.untilMs)}`);
  return where;
}

/** Joins conditions with AND; no condition is TRUE. */
function and(sql: Sql, where: PendingQuery<SqlRow[]>[]): PendingQuery<SqlRow[]> {
  return where.length === 0 ? sql`TRUE` : where.reduce((all, next) => sql`${all} AND ${next}`);
}

/**
 * Applies syslog senders' updates, merged per address first (one statement
 * may not update a row twice) and in address order (no deadlock between servers).
 */
async function upsertSources(tx: TransactionSql, updates: readonly SourceUpdate[]): Promise<void> {
  const merged = new Map<string, {
    hostname: string | null;
    transport: string;
    firstAt: number;
    lastAt: number;
    events: number;
    unparsed: number;
  }>();
  for (const u of updates) {
    const m = merged.get(u.address);
    if (!m) {
      merged.set(u.address, {
        hostname: u.hostname,
        transport: u.transport,
        firstAt: u.at,
        lastAt: u.at,
        events: u.events,
        unparsed: u.unparsed,
      });
      continue;
    }
    m.hostname = u.hostname ?? m.hostname;
    m.transport = u.transport;
    m.lastAt = Math.max(m.lastAt, u.at);
    m.events += u.events;
    m.unparsed += u.unparsed;
  }
  const addresses = [...merged.keys()].sort();
  const rows = addresses.map((a) => merged.get(a)!);
  await tx`
    INSERT INTO sources (address, hostname, transport, first_seen, last_seen, events, unparsed)
    SELECT * FROM unnest(${tx.array(addresses.map(clean), TEXT)}::text[],
      ${tx.array(rows.map((r) => cleanOrNull(r.hostname)), TEXT)}::text[],
      ${tx.array(rows.map((r) => r.transport), TEXT)}::text[],
      ${tx.array(rows.map((r) => Math.floor(r.firstAt)), INT8)}::bigint[],
      ${tx.array(rows.map((r) => Math.floor(r.lastAt)), INT8)}::bigint[],
      ${tx.array(rows.map((r) => r.events), INT8)}::bigint[],
      ${tx.array(rows.map((r) => r.unparsed), INT8)}::bigint[])
    ON CONFLICT (address) DO UPDATE SET hostname = coalesce(excluded.hostname, sources.hostname),
      transport = excluded.transport, last_seen = greatest(sources.last_seen, excluded.last_seen),
      events = sources.events + excluded.events, unparsed = sources.unparsed + excluded.unparsed`;
}

/** Column arrays of one bulk insert into logs. */
function emptyColumns() {
  return {
    receivedAt: [] as number[],
    ts: [] as number[],
    host: [] as (string | null)[],
    agentId: [] as (number | null)[],
    program: [] as (string | null)[],
    pid: [] as (number | null)[],
    severity: [] as (number | null)[],
    facility: [] as (number | null)[],
    message: [] as string[],
    raw: [] as string[],
    flags: [] as number[],
    streamId: [] as (number | null)[],
    pos: [] as (number | null)[],
    msgid: [] as (string | null)[],
    structuredData: [] as (string | null)[],
  };
}

function toEvent(row: Row): EventRecord {
  return {
    id: Number(row.id),
    receivedAt: Number(row.received_at),
    ts: Number(row.ts),
    host: nullableString(row.host),
    agentId: nullableNumber(row.agent_id),
    program: nullableString(row.program),
    pid: nullableNumber(row.pid),
    severity: nullableNumber(row.severity),
    facility: nullableNumber(row.facility),
    message: String(row.message),
    raw: String(row.raw),
    flags: Number(row.flags),
    msgid: nullableString(row.msgid),
    structuredData: nullableString(row.structured_data),
  };
}

function toSource(row: Row): SourceRecord {
  return {
    id: Number(row.id),
    address: String(row.address),
    hostname: nullableString(row.hostname),
    transport: String(row.transport) as SourceRecord["transport"],
    firstSeen: Number(row.first_seen),
    lastSeen: Number(row.last_seen),
    events: Number(row.events),
    unparsed: Number(row.unparsed),
  };
}
