/**
 * {@linkcode Store} on PostgreSQL through the `postgres` driver: a connection
 * pool, one transaction per appended group stored with a binary `COPY`
 * (`_postgres_ingest.ts`), daily log partitions, and the ingest horizon that
 * keeps readers following ids exact while several servers write at once. See
 * docs/decisions/0009-postgres-store.md and 0013-postgres-ingest.md.
 *
 * @module
 */

import {
  nullableNumber,
  nullableString,
  toAgent,
  toAlert,
  toEvent,
  toSource,
  toUser,
} from "./_rows.ts";
import { errorMessage } from "../../common/error_message.ts";
import postgres, {
  type PendingQuery,
  type Row as SqlRow,
  type Sql,
  type TransactionSql,
} from "postgres";
import { parsePostgresUrl } from "./_postgres_url.ts";
import { clean, PostgresIngest } from "./_postgres_ingest.ts";
import { noDelaySockets } from "./_postgres_socket.ts";
import {
  applyPostgresAgentChanges,
  listPostgresAgentsFallenSilent,
  queryPostgresAgents,
  type StatusMix,
} from "./_postgres_agents.ts";
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
  type AgentChange,
  type AgentChangeResult,
  type AgentPage,
  type AgentQuery,
  type AgentRecord,
  type AgentRegistration,
  type AlertQuery,
  type AlertRecord,
  type AlertUpsert,
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
  type SilenceSpan,
  type SourceRecord,
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
  /**
   * Rows of `agents` changed (registrations, heartbeats, stops, disconnects)
   * after which the store vacuums that table itself; 0 leaves it to autovacuum.
   * @default {AGENTS_VACUUM_CHANGES}
   */
  agentsVacuumChanges?: number;
}

/**
 * Changed rows of `agents` between two vacuums of it by the store. Every
 * heartbeat writes a new version of its node's row (its indexed columns
 * change, so never in place), and autovacuum looks at most once a minute by
 * default: at 100,000 nodes that is two dead versions per node, which every
 * page of the console then steps over. A fixed count keeps them a bounded
 * number whatever the fleet's size.
 */
export const AGENTS_VACUUM_CHANGES = 20_000;

/** Largest page {@linkcode Store.queryEvents} returns whatever the caller asks. */
export const MAX_QUERY_LIMIT = 10_000;

/** Default page size of {@linkcode Store.queryEvents}. */
const DEFAULT_QUERY_LIMIT = 100;

/** Times a group is retried after a deadlock or a missing partition. */
const MAX_APPEND_ATTEMPTS = 3;

/**
 * Most time a transaction of the store may sit idle, in ms: PostgreSQL ends
 * it past that. A group in flight holds the ingest horizon back, so a writer
 * that hangs mid-transaction would otherwise stop every live view for good.
 */
const IDLE_TRANSACTION_TIMEOUT_MS = 60_000;

/** PostgreSQL type id used to bind text arrays. */
const TEXT = 25;

/** SQLSTATEs the append retries: deadlock, serialization failure, no partition for a row. */
const RETRY_CODES = new Set(["40P01", "40001", "23514"]);

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
  const pool = (max: number, sync: SyncMode | undefined) =>
    postgres(target.connect, {
      max,
      idle_timeout: options.idleTimeoutSeconds || undefined,
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      onnotice: () => {},
      // Nagle's algorithm off (the driver's own sockets leave it on).
      socket: noDelaySockets(),
      connection: {
        application_name: "nms-server",
        search_path: `"${target.schema}"`,
        idle_in_transaction_session_timeout: IDLE_TRANSACTION_TIMEOUT_MS,
        ...(sync === "normal" ? { synchronous_commit: "off" } : {}),
      },
    } as postgres.Options<Record<string, never>>);
  const sql = pool(options.maxConnections ?? 4, options.sync);
  try {
    await migratePostgres(sql, target.schema);
  } catch (error) {
    await sql.end({ timeout: 0 });
    if (error instanceof StoreError) throw error;
    throw new StoreError(
      `Cannot open PostgreSQL store ${target.redacted}: ${errorMessage(error)}`,
      "invalid",
    );
  }
  return new PostgresStore(sql, {
    partitionDaysAhead: options.partitionDaysAhead,
    agentsVacuumChanges: options.agentsVacuumChanges,
    // The ingest slot needs no flush to disk: a crash ends the groups it describes.
    openSlotConnection: () => pool(1, "normal"),
  });
}

/** The PostgreSQL {@linkcode Store}; also offers partition retention. */
export class PostgresStore implements Store {
  readonly #sql: Sql;
  readonly #ingest: PostgresIngest;
  /** Days (since the epoch) whose log partition is known to exist. */
  readonly #days = new Set<number>();
  readonly #daysAhead: number;
  readonly #agentsVacuumChanges: number;
  /** Rows of `agents` changed since its last vacuum by this store. */
  #agentChanges = 0;
  /** The vacuum of `agents` running, if one is. */
  #agentsVacuum: Promise<void> | null = null;
  /** The counts per status of the last page, which choose the plan of the next. */
  readonly #statusMix: StatusMix = { counts: null };
  #closed = false;

  /**
   * Use {@linkcode openPostgresStore}.
   *
   * @param sql The pool.
   * @param options Partition days ahead, changed nodes between vacuums of
   *   `agents`, and how to open the one connection the ingest publishes its
   *   slot on (another pool of the same database).
   */
  constructor(
    sql: Sql,
    options: {
      partitionDaysAhead?: number | undefined;
      agentsVacuumChanges?: number | undefined;
      openSlotConnection: () => Sql;
    },
  ) {
    this.#daysAhead = Math.max(0, Math.trunc(options.partitionDaysAhead ?? PARTITION_DAYS_AHEAD));
    this.#agentsVacuumChanges = options.agentsVacuumChanges ?? AGENTS_VACUUM_CHANGES;
    this.#sql = sql;
    this.#ingest = new PostgresIngest(sql, options.openSlotConnection);
    this.security = new PostgresSecurityStore(sql);
  }

  /** Tokens, lockout counters and audit trail, on the same pool. */
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

  async appendEvents(
    batches: readonly EventBatch[],
    options: AppendOptions = {},
  ): Promise<Uint8Array[]> {
    const receiveTimes = new Set(batches.map((batch) => batch.receivedAt));
    await this.#ingest.resolveStreams(batches);
    for (let attempt = 1;; attempt++) {
      for (const at of receiveTimes) await this.ensurePartitions(at);
      try {
        return await this.#sql.begin(async (tx) => {
          const statuses = await this.#ingest.appendGroup(tx, batches, options.eventIds);
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

  async registerAgent(registration: AgentRegistration): Promise<number> {
    const [result] = await this.applyAgentChanges([
      { kind: "register", registration },
    ]);
    return result!.agentId;
  }

  async recordHeartbeat(heartbeat: HeartbeatRecord): Promise<void> {
    await this.applyAgentChanges([{ kind: "heartbeat", heartbeat }]);
  }

  async markAgentStopped(agentId: number, at: number): Promise<void> {
    await this.applyAgentChanges([{ kind: "stop", agentId, at }]);
  }

  async applyAgentChanges(changes: readonly AgentChange[]): Promise<AgentChangeResult[]> {
    const results = await applyPostgresAgentChanges(this.#sql, changes);
    this.#agentChanges += changes.length;
    this.#vacuumAgentsWhenDue();
    return results;
  }

  /**
   * Vacuums `agents` in the background once enough of its rows changed, one
   * vacuum at a time, skipped when autovacuum holds the table. A failure is
   * left to autovacuum, which still runs.
   */
  #vacuumAgentsWhenDue(): void {
    const due = this.#agentsVacuumChanges > 0 &&
      this.#agentChanges >= this.#agentsVacuumChanges;
    if (!due || this.#agentsVacuum !== null || this.#closed) return;
    this.#agentChanges = 0;
    this.#agentsVacuum = this.#sql`VACUUM (SKIP_LOCKED) agents`.then(
      () => {},
      () => {},
    ).finally(() => {
      this.#agentsVacuum = null;
    });
  }

  queryAgents(query: AgentQuery): Promise<AgentPage> {
    return queryPostgresAgents(this.#sql, query, this.#statusMix);
  }

  async listAgents(): Promise<AgentRecord[]> {
    return (await this.#sql`SELECT * FROM agents ORDER BY hostname COLLATE "C"`).map(toAgent);
  }

  listAgentsFallenSilent(span: SilenceSpan): Promise<AgentRecord[]> {
    return listPostgresAgentsFallenSilent(this.#sql, span);
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
      // Newest first too: its first id is where the live view starts following.
      where.push(belowHorizon(sql));
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
   * (`logs_text`). Several servers may call it at once: one indexes (an
   * advisory lock), the others return 0 at once rather than wait, since their
   * writers call it between group commits. It reads only below the ingest
   * horizon, so no event committed late with a lower id is skipped.
   *
   * @param maxRows Most events indexed by this step.
   * @param maxBytes Stops adding events once their raw lines reach this many bytes (at least one).
   * @returns How many were indexed (0 when the index is complete or another server is indexing).
   * @example
   * ```ts
   * while (await store.indexText(5_000, 4 * 1024 * 1024) > 0);
   * ```
   */
  async indexText(maxRows: number, maxBytes: number = Infinity): Promise<number> {
    const limit = Math.max(1, Math.trunc(maxRows));
    const bytes = Number.isFinite(maxBytes)
      ? Math.max(1, Math.trunc(maxBytes))
      : Number.MAX_SAFE_INTEGER;
    return await this.#sql.begin(async (tx) => {
      const [lock] = await tx`SELECT pg_try_advisory_xact_lock(${ADVISORY_LOCK_CLASS},
        hashtext(current_schema() || ':text')) AS taken`;
      if (lock?.taken !== true) return 0;
      const [meta] = await tx`SELECT value FROM nms_meta WHERE key = 'text_indexed_upto'`;
      const upto = Number(meta?.value ?? 0);
      // Letter/digit runs only, as FTS5's unicode61 tokenizer sees them (SQLite store).
      const [done] = await tx`
        WITH candidates AS (
          SELECT id, received_at, program, message, octet_length(raw) AS n FROM logs
          WHERE id > ${upto} AND ${belowHorizon(tx)}
          ORDER BY id LIMIT ${limit}
        ), batch AS (
          SELECT id, received_at, program, message,
            sum(n) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) - n AS before
          FROM candidates
        ), added AS (
          INSERT INTO logs_text (id, received_at, words)
          SELECT id, received_at, to_tsvector('simple',
            regexp_replace(coalesce(program, '') || ' ' || message, '[^[:alnum:]]+', ' ', 'g'))
          FROM batch WHERE before < ${bytes}
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

  // Web console reads (server/dashboard/).

  async digestEvents(afterId: number, options: DigestOptions): Promise<EventDigest[]> {
    const sql = this.#sql;
    const limit = Math.max(1, Math.min(Math.trunc(options.limit), MAX_QUERY_LIMIT));
    const marks = options.markSubstrings.filter((m) => m !== "").map(likeLiteral);
    const marked = marks.length
      ? sql`message LIKE ANY (${sql.array(marks, TEXT)}::text[])`
      : sql`FALSE`;
    const rows = await sql`
      SELECT id, ts, host, program, severity, agent_id, ${marked} AS marked FROM logs
      WHERE id > ${Math.floor(afterId)} AND ${belowHorizon(sql)} ORDER BY id LIMIT ${limit}`;
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

  // Alerts (server/rules/). Event ids are not filled by appendEvents here yet.

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
    // Servers sharing the database fold one alert at a time: a lock per fold
    // key, taken in key order so that two groups never wait for each other in a circle.
    const keys = [...new Set(alerts.map((alert) => clean(alert.foldKey)))].sort();
    await tx`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_CLASS},
        hashtext(current_schema() || ':alert:' || k))
      FROM unnest(${tx.array(keys, TEXT)}::text[]) WITH ORDINALITY AS u(k, o) ORDER BY o`;
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

  // Retention and storage: whole daily partitions, see postgres_retention.ts.

  pruneEvents(policy: PrunePolicy): Promise<PruneStep> {
    return prunePostgres(this.#sql, policy).finally(() => this.#days.clear());
  }

  storageInfo(): Promise<StorageInfo> {
    return postgresStorageInfo(this.#sql);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agentsVacuum;
    await this.#ingest.close();
    await this.#sql.end({ timeout: 5 });
  }
}

// Alerts (server/rules/).

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

/**
 * Only ids below the ingest horizon: a group still in flight may yet commit
 * ids below those already visible, and a reader that moved its cursor past
 * them would never see them (docs/decisions/0013-postgres-ingest.md). A
 * sub-select, so that the horizon is read once per statement, in its snapshot.
 */
function belowHorizon(sql: Sql | TransactionSql): PendingQuery<SqlRow[]> {
  return sql`id < (SELECT nms_ingest_horizon())`;
}

/** Joins conditions with AND; no condition is TRUE. */
function and(sql: Sql, where: PendingQuery<SqlRow[]>[]): PendingQuery<SqlRow[]> {
  return where.length === 0 ? sql`TRUE` : where.reduce((all, next) => sql`${all} AND ${next}`);
}
