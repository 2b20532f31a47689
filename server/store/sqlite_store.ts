/**
 * {@linkcode Store} on SQLite through node:sqlite: WAL mode, prepared
 * statements, multi-row inserts, one transaction per appended group.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { SQLITE_MIGRATIONS } from "./migrations.ts";
import { preparePrivateDatabase } from "./private_files.ts";
import { transaction } from "./transaction.ts";
import { nullableNumber, toAgent, toAlert, toEvent, toSource, toUser } from "./_rows.ts";
import type { SecurityStore } from "./security_store.ts";
import { SqliteSecurityStore } from "./sqlite_security_store.ts";
import type { StartProgress } from "../../common/progress.ts";
import {
  backupBeforeMigration,
  backupBeforeMigrationAsync,
  pruneSqlite,
  sqliteStorageInfo,
  usedBytes,
} from "./sqlite_maintenance.ts";
import { INDEXED_TEXT_SQL } from "./sqlite_text_index.ts";
import {
  DEFERRED_INDEX_MAX_STEP_ROWS,
  DEFERRED_INDEX_STEP_ROWS,
  DEFERRED_INDEXED_UPTO_SQL,
  hostIndexedIds,
  indexDeferredStep,
  NEWEST_EVENT_ID_SQL,
  originsAbove,
} from "./sqlite_deferred_indexes.ts";
import { RecentOrigins } from "./_recent_origins.ts";
import { SqliteAgents } from "./_sqlite_agents.ts";
import { PreparedStatements } from "./_prepared_statements.ts";
import type { PrunePolicy, PruneStep, StorageInfo } from "./store.ts";
import { checkUserName } from "./user_name.ts";
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
  type Role,
  type SilenceSpan,
  type SourceRecord,
  type SourceUpdate,
  type Store,
  StoreError,
  type UserRecord,
} from "./store.ts";

/** How SQLite syncs commits to disk. See docs/decisions/0002-durability.md. */
export type SyncMode = "full" | "normal";

/** Options of {@linkcode openSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * `full` fsyncs the WAL at every commit (an acknowledged event survives a power
   * loss); `normal` only survives a process crash.
   * @default {"full"}
   */
  sync?: SyncMode;
  /**
   * How long a connection waits for another's write lock before failing, in ms.
   * @default {5000}
   */
  busyTimeoutMs?: number;
  /**
   * Shows the progress of the copy taken before a schema migration.
   * @default {none}
   */
  progress?: StartProgress;
}

/** Options of the store's constructor: {@linkcode SqliteStoreOptions} and what opening did. */
interface ConstructorOptions extends SqliteStoreOptions {
  /** The schema version already copied before migrating (by `openSqliteStore()`). */
  backedUpVersion?: number;
}

/** Columns written per event, in insert order. */
const EVENT_COLUMNS = [
  "received_at",
  "ts",
  "host",
  "agent_id",
  "program",
  "pid",
  "severity",
  "facility",
  "message",
  "raw",
  "flags",
  "stream_id",
  "pos",
  // Syslog receiver (server/syslog/).
  "msgid",
  "structured_data",
  "msg_start",
] as const;

/**
 * Largest multi-row INSERT, in rows. 512 rows × 16 columns stays far below
 * SQLite's 32,766 bound variables; smaller remainders use the power-of-two
 * statements below it, so at most 10 statements are ever prepared.
 */
const MAX_ROWS_PER_INSERT = 512;

/**
 * Most syslog sources {@linkcode Store.listSources} returns (the most recently
 * seen). The allow-list bounds who may send, but a sender inside an allowed
 * network can spoof UDP source addresses.
 */
export const MAX_LISTED_SOURCES = 10_000;

/**
 * Page size of a new database file, in bytes (SQLite's default is 4,096). The
 * events table and its indexes grow only at their right edge, so a larger page
 * means fewer page splits and pointer-map updates per row; the measured best
 * is in docs/decisions/0003-ingest-hot-path.md. An existing file keeps the
 * page size it was created with.
 */
export const SQLITE_PAGE_SIZE = 16_384;

/**
 * FTS5 `automerge` of the full-text index: how many segments of one level are
 * merged into the next. FTS5's default, 4, rewrites every entry about twice as
 * often; 16 (also FTS5's `crisismerge`) fills the index faster, for a few more
 * segments per query to look into (docs/decisions/0003-ingest-hot-path.md).
 * Set on every open, existing files included.
 */
export const TEXT_INDEX_AUTOMERGE = 16;

/**
 * Write-ahead log pages (256 KiB at 16 KiB pages) after which a commit of a
 * connection other than the writer's copies the log into the database file
 * (`PRAGMA wal_autocheckpoint`; SQLite's default is 1,000 pages). Those
 * connections only make small writes (the login counters of the lockout, the
 * users), but an unauthenticated client can cause hundreds of them, and the
 * writer's checkpoints, which follow its own commits, would not come. The
 * writer sets its own (`deferCheckpoints`).
 */
export const SMALL_WRITES_CHECKPOINT_PAGES = 16;

/** Largest page {@linkcode Store.queryEvents} returns whatever the caller asks. */
export const MAX_QUERY_LIMIT = 10_000;

/** Default page size of {@linkcode Store.queryEvents}. */
const DEFAULT_QUERY_LIMIT = 100;
/** Distinct digest queries kept prepared (one per page size and set of marks in use). */
const MAX_DIGEST_STATEMENTS = 8;

type Row = Record<string, SQLInputValue>;

/** A stream's row id and highest stored position (committed, and within the open transaction). */
interface StreamEntry {
  readonly id: number;
  highest: number;
  pending: number;
}

/**
 * Opens (creating if needed) the SQLite database at `path` and migrates it.
 *
 * @param path File path of the database; its directory is created.
 * @param options Durability and locking options.
 * @returns The store; close it with `close()`.
 * @example
 * ```ts
 * const store = await openSqliteStore("./data/nms.db");
 * console.log(await store.countEvents());
 * await store.close();
 * ```
 */
export async function openSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): Promise<Store> {
  // Readable by the server's user only, whatever the umask (private_files.ts).
  if (path !== ":memory:") await preparePrivateDatabase(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new StoreError(`Cannot open database ${path}: ${errorMessage(error)}`, "invalid");
  }
  // An upgrade copies the file first: in a worker, so its progress can be shown.
  const version = Number((db.prepare("PRAGMA user_version").get() as Row).user_version);
  let backedUpVersion: number | undefined;
  if (path !== ":memory:" && version > 0 && version < SQLITE_MIGRATIONS.length) {
    const progress = options.progress?.(
      `Backing up ${path} before migrating its schema from version ${version}`,
      "bytes",
      usedBytes(db),
    );
    try {
      const copy = await backupBeforeMigrationAsync(
        path,
        version,
        (done) => progress?.update(done),
      );
      progress?.finish(copy.bytes);
      backedUpVersion = version;
    } catch (error) {
      progress?.abandon();
      db.close();
      throw error;
    }
  }
  return new SqliteStore(db, { ...options, ...(backedUpVersion ? { backedUpVersion } : {}) });
}

class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #inserts = new Map<number, StatementSync>();
  readonly #params = new Map<number, SQLInputValue[]>();
  /** Highest committed position per stream key, with the stream's row id. */
  readonly #streams = new Map<string, StreamEntry>();
  /**
   * Origins stored above the index of origins, read from the file at the
   * first append with an origin (null until then).
   */
  #recent: RecentOrigins | null = null;
  readonly #statements: Record<string, StatementSync>;
  /** Prepared digest queries by their text (`digestEvents`). */
  readonly #digestStatements: PreparedStatements;
  /** Node changes and pages (`_sqlite_agents.ts`). */
  readonly #agents: SqliteAgents;
  /** Latest state of recently stored alerts by fold key (server/rules/). */
  readonly #alertCache = new Map<string, AlertRecord>();
  /** Tokens, lockout counters and audit trail, on the same connection. */
  readonly security: SecurityStore;
  #closed = false;
  /** The `synchronous` mode of event commits. */
  readonly #sync: "FULL" | "NORMAL";
  readonly #backedUpVersion: number | undefined;

  constructor(db: DatabaseSync, options: ConstructorOptions) {
    this.#backedUpVersion = options.backedUpVersion;
    this.#db = db;
    this.#digestStatements = new PreparedStatements(db, MAX_DIGEST_STATEMENTS);
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    // Both must come before the first table is created (no-ops on an existing
    // database). With auto_vacuum, retention gives freed pages back to the file
    // system.
    db.exec(`PRAGMA page_size = ${SQLITE_PAGE_SIZE}`);
    db.exec("PRAGMA auto_vacuum = INCREMENTAL");
    db.exec("PRAGMA journal_mode = WAL");
    // WAL silently means synchronous=FULL in this build unless set after it.
    this.#sync = options.sync === "normal" ? "NORMAL" : "FULL";
    db.exec(`PRAGMA synchronous = ${this.#sync}`);
    // Small writes of other connections (login counters) keep the log short.
    db.exec(`PRAGMA wal_autocheckpoint = ${SMALL_WRITES_CHECKPOINT_PAGES}`);
    this.#migrate();
    this.#tuneTextIndex();
    this.security = new SqliteSecurityStore(db);
    this.#agents = new SqliteAgents(db);
    const prepare = (sql: string) => db.prepare(sql);
    this.#statements = {
      streamId: prepare("SELECT id FROM streams WHERE key = ?"),
      insertStream: prepare("INSERT INTO streams (key) VALUES (?)"),
      highest: prepare("SELECT max(pos) AS highest FROM logs_by_origin WHERE stream_id = ?"),
      indexedOrigin: prepare(
        "SELECT 1 AS found FROM logs_by_origin WHERE stream_id = ? AND pos = ?",
      ),
      agents: prepare("SELECT * FROM agents ORDER BY hostname"),
      findUser: prepare("SELECT * FROM users WHERE username = ?"),
      users: prepare("SELECT * FROM users ORDER BY username"),
      createUser: prepare(
        "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?) RETURNING *",
      ),
      setPassword: prepare("UPDATE users SET password_hash = ? WHERE username = ?"),
      removeUser: prepare("DELETE FROM users WHERE username = ?"),
      countUsers: prepare("SELECT count(*) AS n FROM users"),
      countEvents: prepare("SELECT count(*) AS n FROM logs"),
      histogram: prepare(
        // node:sqlite binds numbers as REAL: cast, or the division is not an integer one.
        "SELECT (ts / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS start, count(*) AS n FROM logs WHERE ts >= ? AND ts < ? GROUP BY start ORDER BY start",
      ),
      ftsUpto: prepare("SELECT value FROM meta WHERE key = 'fts_indexed_upto'"),
      deferredUpto: prepare(DEFERRED_INDEXED_UPTO_SQL),
      // The last event of a step: at most maxRows events, and none once the
      // raw lines before it reach maxBytes (octet_length reads no text).
      ftsLast: prepare(`
        SELECT max(id) AS last FROM (
          SELECT id, sum(n) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) - n AS before
          FROM (SELECT id, octet_length(raw) AS n FROM logs WHERE id > ? ORDER BY id LIMIT ?)
        ) WHERE before < ?`),
      ftsFill: prepare(`
        INSERT INTO logs_fts (rowid, text)
        SELECT id, ${INDEXED_TEXT_SQL} FROM logs WHERE id > ? AND id <= ? ORDER BY id`),
      ftsSetUpto: prepare("UPDATE meta SET value = ? WHERE key = 'fts_indexed_upto'"),
      maxEventId: prepare(NEWEST_EVENT_ID_SQL),
      // Web console (server/dashboard/).
      firstSince: prepare("SELECT id FROM logs WHERE ts >= ? ORDER BY ts LIMIT 1"),
      setRole: prepare("UPDATE users SET role = ? WHERE username = ?"),
      // Syslog receiver (server/syslog/).
      upsertSource: prepare(`
        INSERT INTO sources (address, hostname, transport, first_seen, last_seen, events, unparsed)
        VALUES (:address, :hostname, :transport, :at, :at, :events, :unparsed)
        ON CONFLICT (address) DO UPDATE SET hostname = coalesce(:hostname, hostname),
          transport = :transport, last_seen = max(last_seen, :at),
          events = events + :events, unparsed = unparsed + :unparsed`),
      // The most recently seen MAX_LISTED_SOURCES, by name: spoofed UDP senders cannot flood a listing.
      sources: prepare(`
        SELECT * FROM (SELECT * FROM sources ORDER BY last_seen DESC LIMIT ${MAX_LISTED_SOURCES})
        ORDER BY coalesce(hostname, address), address`),
      // Alerts (server/rules/).
      lastAlert: prepare("SELECT * FROM alerts WHERE fold_key = ? ORDER BY id DESC LIMIT 1"),
      insertAlert: prepare(`
        INSERT INTO alerts (rule_id, level, description, fold_key, fields, event_ids, first_seen,
          last_seen, count, updated_at)
        VALUES (:rule, :level, :description, :key, :fields, :ids, :first, :last, :count, :at)
        RETURNING id`),
      foldAlert: prepare(`
        UPDATE alerts SET level = :level, description = :description,
          event_ids = coalesce(:ids, event_ids), first_seen = :first, last_seen = :last,
          count = :count, updated_at = :at
        WHERE id = :id`),
    };
  }

  #migrate(): void {
    const version = Number((this.#db.prepare("PRAGMA user_version").get() as Row).user_version);
    if (version > SQLITE_MIGRATIONS.length) {
      throw new StoreError(
        `Cannot use database: schema version ${version} is newer than this program (${SQLITE_MIGRATIONS.length})`,
        "invalid",
      );
    }
    if (version === SQLITE_MIGRATIONS.length) return;
    // Upgrades keep a copy of the older schema's file: <db>.bak-v<version>.
    if (version > 0 && version !== this.#backedUpVersion) backupBeforeMigration(this.#db, version);
    transaction(this.#db, () => {
      for (let i = version; i < SQLITE_MIGRATIONS.length; i++) {
        this.#db.exec(SQLITE_MIGRATIONS[i]!.sql);
      }
      this.#db.exec(`PRAGMA user_version = ${SQLITE_MIGRATIONS.length}`);
    });
  }

  /** Sets the full-text index's merge policy when the file has another one. */
  #tuneTextIndex(): void {
    const row = this.#db.prepare("SELECT v FROM logs_fts_config WHERE k = 'automerge'").get() as
      | Row
      | undefined;
    if (row !== undefined && Number(row.v) === TEXT_INDEX_AUTOMERGE) return;
    // A constant, written into the SQL: node:sqlite would bind a REAL, which FTS5 refuses.
    this.#db.exec(
      `INSERT INTO logs_fts (logs_fts, rank) VALUES ('automerge', ${TEXT_INDEX_AUTOMERGE})`,
    );
  }

  /** The prepared multi-row INSERT for exactly `rows` rows (a power of two). */
  #insert(rows: number): [StatementSync, SQLInputValue[]] {
    let statement = this.#inserts.get(rows);
    if (!statement) {
      const tuple = `(${EVENT_COLUMNS.map(() => "?").join(",")})`;
      statement = this.#db.prepare(
        `INSERT INTO logs (${EVENT_COLUMNS.join(",")}) VALUES ${Array(rows).fill(tuple).join(",")}`,
      );
      this.#inserts.set(rows, statement);
      this.#params.set(rows, new Array(rows * EVENT_COLUMNS.length));
    }
    return [statement, this.#params.get(rows)!];
  }

  /**
   * Finds or creates the row id of a stream, and its highest stored position.
   * A stream created here is added to `created`, to be forgotten if the
   * transaction rolls back (its row id would be given to another stream).
   */
  #stream(key: string, recent: RecentOrigins, created: string[]): StreamEntry {
    let entry = this.#streams.get(key);
    if (entry) return entry;
    const found = this.#statements.streamId!.get(key) as Row | undefined;
    if (!found) created.push(key);
    const id = found
      ? Number(found.id)
      : Number(this.#statements.insertStream!.run(key).lastInsertRowid);
    const highest = found ? (this.#statements.highest!.get(id) as Row).highest : null;
    const committed = Math.max(highest === null ? -1 : Number(highest), recent.highest(id));
    entry = { id, highest: committed, pending: committed };
    this.#streams.set(key, entry);
    return entry;
  }

  /**
   * The origins above the index of origins, read from the file the first
   * time (inside the append's transaction, so no other write comes between).
   */
  #recentOrigins(): RecentOrigins {
    if (this.#recent !== null) return this.#recent;
    const recent = new RecentOrigins();
    const origins = originsAbove(this.#db, this.#deferredUpto());
    for (let i = 0; i < origins.length; i += 2) recent.add(origins[i]!, origins[i + 1]!);
    recent.commit(this.#newestId());
    this.#recent = recent;
    return recent;
  }

  appendEvents(batches: readonly EventBatch[], options: AppendOptions = {}): Promise<Uint8Array[]> {
    const statuses = batches.map((batch) => new Uint8Array(batch.count));
    // Alerts (server/rules/): ids of stored rows are max(id)+1, +2, ... in insert order.
    const eventIds = options.eventIds;
    let lastId = 0;
    const width = EVENT_COLUMNS.length;
    const [full, params] = this.#insert(MAX_ROWS_PER_INSERT);
    // Rows are written straight from the columns into the parameters of a
    // 512-row INSERT: no object per row on this path.
    let filled = 0;
    const flush = () => {
      // The rest of a group goes out in power-of-two INSERTs.
      let done = 0;
      while (done < filled) {
        let rows = MAX_ROWS_PER_INSERT;
        while (rows > filled - done) rows >>= 1;
        const [statement, exact] = this.#insert(rows);
        for (let k = 0; k < rows * width; k++) exact[k] = params[done * width + k]!;
        statement.run(...exact);
        done += rows;
      }
      filled = 0;
    };
    // Positions raised by this transaction, and its alerts: published to the caches after COMMIT.
    const touched = new Set<StreamEntry>();
    const created: string[] = [];
    const changedAlerts = new Map<string, AlertRecord>();
    let lastKey: string | null = null;
    let stream: StreamEntry | undefined;
    let recent: RecentOrigins | null = null;
    let newestId = 0;
    // A store whose writer never steps the deferred indexes keeps its memory of origins bounded.
    if ((this.#recent?.size ?? 0) >= DEFERRED_INDEX_MAX_STEP_ROWS) {
      try {
        this.#indexDeferred(0);
      } catch {
        // Tried again at the next append; the origins stay in memory meanwhile.
      }
    }
    try {
      transaction(this.#db, () => {
        if (eventIds) lastId = this.#newestId();
        batches.forEach((batch, b) => {
          const ids = eventIds?.[b] ?? null;
          const messageStart = batch.messageStart;
          for (let i = 0; i < batch.count; i++) {
            const key = batch.stream[i] ?? null;
            let streamId: number | null = null;
            if (key !== null) {
              recent ??= this.#recentOrigins();
              if (key !== lastKey) {
                stream = this.#stream(key, recent, created);
                lastKey = key;
              }
              const entry = stream!;
              const position = batch.position[i]!;
              if (position <= entry.pending) {
                // A resend, the rare path: stored above the index (this
                // transaction included), or in it.
                if (
                  recent.has(entry.id, position) ||
                  this.#statements.indexedOrigin!.get(entry.id, position)
                ) {
                  statuses[b]![i] = APPEND_STATUS.duplicate;
                  continue;
                }
              } else {
                entry.pending = position;
                touched.add(entry);
              }
              recent.add(entry.id, position);
              streamId = entry.id;
            }
            const o = filled * width;
            params[o] = batch.receivedAt;
            params[o + 1] = batch.ts[i]!;
            params[o + 2] = batch.host[i] ?? null;
            params[o + 3] = batch.agentId;
            params[o + 4] = batch.program[i] ?? null;
            const pid = batch.pid[i]!;
            params[o + 5] = pid < 0 ? null : pid;
            const severity = batch.severity[i]!;
            params[o + 6] = severity < 0 ? null : severity;
            const facility = batch.facility[i]!;
            params[o + 7] = facility < 0 ? null : facility;
            // The message is stored only when it is not the end of the raw line
            // (it almost always is), which makes rows smaller and inserts faster.
            const raw = batch.raw[i]!;
            const message = batch.message[i]!;
            const start = messageStart ? messageStart[i]! : raw.length - message.length;
            const suffix = messageStart ? start >= 0 : raw.endsWith(message);
            params[o + 8] = suffix ? null : message;
            params[o + 9] = raw;
            params[o + 10] = batch.flags[i]!;
            params[o + 11] = streamId;
            params[o + 12] = streamId === null ? null : batch.position[i]!;
            params[o + 13] = batch.msgid?.[i] ?? null;
            params[o + 14] = batch.structuredData?.[i] ?? null;
            params[o + 15] = suffix ? start : 0;
            if (eventIds) {
              lastId++;
              if (ids) ids[i] = lastId;
            }
            if (++filled === MAX_ROWS_PER_INSERT) {
              full.run(...params);
              filled = 0;
            }
          }
        });
        flush();
        if (recent !== null || eventIds) newestId = this.#newestId();
        if (eventIds && newestId !== lastId) {
          // Not the ids counted (cannot happen with one writer): publish none rather than wrong ones.
          for (const ids of eventIds) ids?.fill(0);
        }
        // Syslog senders, aggregated per batch by the pool worker, in the same transaction.
        for (const batch of batches) if (batch.sources) this.#upsertSources(batch.sources);
        if (options.alerts) this.#storeGroupAlerts(options.alerts, statuses, changedAlerts);
      });
    } catch (error) {
      // Rolled back: forget the positions this transaction raised, and its origins.
      for (const entry of touched) entry.pending = entry.highest;
      for (const key of created) this.#streams.delete(key);
      this.#recent?.rollback();
      throw error;
    }
    // Only once COMMIT has succeeded do this transaction's origins count as stored.
    this.#recent?.commit(newestId);
    for (const entry of touched) entry.highest = entry.pending;
    this.#publishAlerts(changedAlerts);
    return Promise.resolve(statuses);
  }

  registerAgent(registration: AgentRegistration): Promise<number> {
    const [result] = this.#agents.apply([{ kind: "register", registration }]);
    return Promise.resolve(result!.agentId);
  }

  recordHeartbeat(heartbeat: HeartbeatRecord): Promise<void> {
    this.#agents.apply([{ kind: "heartbeat", heartbeat }]);
    return Promise.resolve();
  }

  markAgentStopped(agentId: number, at: number): Promise<void> {
    this.#agents.apply([{ kind: "stop", agentId, at }]);
    return Promise.resolve();
  }

  applyAgentChanges(changes: readonly AgentChange[]): Promise<AgentChangeResult[]> {
    try {
      return Promise.resolve(this.#agents.apply(changes));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  queryAgents(query: AgentQuery): Promise<AgentPage> {
    try {
      return Promise.resolve(this.#agents.page(query));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  listAgents(): Promise<AgentRecord[]> {
    return Promise.resolve((this.#statements.agents!.all() as Row[]).map(toAgent));
  }

  listAgentsFallenSilent(span: SilenceSpan): Promise<AgentRecord[]> {
    try {
      return Promise.resolve(this.#agents.fallenSilent(span));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // Syslog receiver (server/syslog/).

  #upsertSources(sources: readonly SourceUpdate[]): void {
    for (const source of sources) {
      this.#statements.upsertSource!.run({
        address: source.address,
        hostname: source.hostname,
        transport: source.transport,
        at: source.at,
        events: source.events,
        unparsed: source.unparsed,
      });
    }
  }

  listSources(): Promise<SourceRecord[]> {
    return Promise.resolve((this.#statements.sources!.all() as Row[]).map(toSource));
  }

  findUser(username: string): Promise<UserRecord | undefined> {
    const row = this.#statements.findUser!.get(username) as Row | undefined;
    return Promise.resolve(row ? toUser(row) : undefined);
  }

  listUsers(): Promise<UserRecord[]> {
    return Promise.resolve((this.#statements.users!.all() as Row[]).map(toUser));
  }

  createUser(username: string, passwordHash: string, role: Role): Promise<UserRecord> {
    try {
      checkUserName(username);
      const row = this.#statements.createUser!.get(username, passwordHash, role, Date.now()) as Row;
      return Promise.resolve(toUser(row));
    } catch (error) {
      if (errorMessage(error).includes("UNIQUE")) {
        return Promise.reject(new StoreError(`User ${username} already exists`, "conflict"));
      }
      return Promise.reject(error);
    }
  }

  setPasswordHash(username: string, passwordHash: string): Promise<boolean> {
    const result = this.#statements.setPassword!.run(passwordHash, username);
    return Promise.resolve(Number(result.changes) > 0);
  }

  removeUser(username: string): Promise<boolean> {
    return Promise.resolve(Number(this.#statements.removeUser!.run(username).changes) > 0);
  }

  countUsers(): Promise<number> {
    return Promise.resolve(Number((this.#statements.countUsers!.get() as Row).n));
  }

  queryEvents(query: EventQuery): Promise<EventRecord[]> {
    const limit = Math.max(1, Math.min(query.limit ?? DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT));
    const ascending = query.afterId !== undefined;
    const select = (part: QueryPart) => {
      const { from, key, where, params } = eventFilter(query, part);
      if (query.beforeId !== undefined) (where.push("id < ?"), params.push(query.beforeId));
      if (query.afterId !== undefined) (where.push("id > ?"), params.push(query.afterId));
      const sql = `SELECT logs.* FROM ${from} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY ${key} ${ascending ? "ASC" : "DESC"} LIMIT ${limit}`;
      return (this.#db.prepare(sql).all(...params) as Row[]).map(toEvent);
    };
    const parts = this.#parts(query);
    if (parts === null) return Promise.resolve(select(null));
    // Indexed ids are all below the tail's: newest first means tail first.
    const [first, second] = ascending ? parts : [parts[1], parts[0]];
    const rows = select(first);
    if (rows.length < limit) rows.push(...select(second).slice(0, limit - rows.length));
    return Promise.resolve(rows);
  }

  /**
   * A full-text query, or else a query by host, runs as two queries that each
   * use an index: the events the full-text index (or the index of hosts)
   * covers, and the newer ones it has not reached yet (a scan of the id range
   * above it). One query with an OR of both would scan the whole table. With
   * both, the host is a condition on the rows the full text found.
   */
  #parts(query: EventQuery): [QueryPart, QueryPart] | null {
    if (query.text !== undefined && fullTextQuery(query.text).match !== null) {
      const upto = Number((this.#statements.ftsUpto!.get() as Row).value);
      return [{ index: "text", part: "indexed", upto }, { index: "text", part: "tail", upto }];
    }
    if (query.host !== undefined) {
      const upto = this.#deferredUpto();
      return [{ index: "host", part: "indexed", upto }, { index: "host", part: "tail", upto }];
    }
    return null;
  }

  countEvents(query?: EventQuery, options: CountOptions = {}): Promise<number> {
    const atMost = options.atMost;
    const count = (part: QueryPart, cap: number | undefined) => {
      const filter = query ? eventFilter(query, part) : null;
      const where = filter?.where ?? [];
      const params = filter?.params ?? [];
      let from = filter?.from ?? "logs";
      if (from === "logs" && where.length === 0 && cap === undefined) {
        return Number((this.#statements.countEvents!.get() as Row).n);
      }
      // A host alone, or in a time range, is counted in its index without reading the rows.
      if (filter?.hostIds && where.length === 0) from = `(${filter.hostIds})`;
      const conditions = where.length ? `WHERE ${where.join(" AND ")}` : "";
      // The inner LIMIT stops the scan at `cap` matches.
      const sql = cap === undefined
        ? `SELECT count(*) AS n FROM ${from} ${conditions}`
        : `SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${conditions} LIMIT ?)`;
      if (cap !== undefined) params.push(Math.max(0, Math.trunc(cap)));
      return Number((this.#db.prepare(sql).get(...params) as Row).n);
    };
    const parts = query ? this.#parts(query) : null;
    if (parts === null) return Promise.resolve(count(null, atMost));
    const tail = count(parts[1], atMost);
    const rest = atMost === undefined ? undefined : Math.max(0, atMost - tail);
    return Promise.resolve(tail + (rest === 0 ? 0 : count(parts[0], rest)));
  }

  eventHistogram(
    range: { sinceMs: number; untilMs: number; bucketMs: number },
  ): Promise<{ start: number; count: number }[]> {
    const bucket = Math.max(1, Math.trunc(range.bucketMs));
    const rows = this.#statements.histogram!.all(
      bucket,
      bucket,
      range.sinceMs,
      range.untilMs,
    ) as Row[];
    return Promise.resolve(rows.map((r) => ({ start: Number(r.start), count: Number(r.n) })));
  }

  textIndexLag(): Promise<number> {
    const upto = Number((this.#statements.ftsUpto!.get() as Row).value);
    const newest = this.#newestId();
    return Promise.resolve(Math.max(0, newest - upto));
  }

  deferCheckpoints(safetyPages: number): string | null {
    const file = this.#db.location();
    if (file === null || file === "") return null;
    this.#db.exec(`PRAGMA wal_autocheckpoint = ${Math.trunc(safetyPages)}`);
    return file;
  }

  indexText(maxRows: number, maxBytes: number = Infinity): Promise<number> {
    // The index is derived data: its steps need not wait for fsync. A crash
    // can only undo the last steps, together with their fts_indexed_upto, and
    // the next event commit (synchronous FULL) syncs them to disk anyway.
    this.#db.exec("PRAGMA synchronous = NORMAL");
    try {
      return Promise.resolve(this.#indexStep(maxRows, maxBytes));
    } finally {
      this.#db.exec(`PRAGMA synchronous = ${this.#sync}`);
    }
  }

  indexDeferred(minRows: number = DEFERRED_INDEX_STEP_ROWS): Promise<number> {
    try {
      return Promise.resolve(this.#indexDeferred(minRows));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** One step of {@linkcode indexDeferred}; returns how many events it went past. */
  #indexDeferred(minRows: number): number {
    // Called after every commit: most calls find too few rows and stop at two reads.
    const before = this.#deferredUpto();
    const newest = this.#newestId();
    if (newest <= before || newest - before < minRows) return 0;
    // Derived data, as the full-text index: see indexText.
    this.#db.exec("PRAGMA synchronous = NORMAL");
    try {
      const upto = transaction(this.#db, () => indexDeferredStep(this.#db, minRows));
      if (upto === null) return 0;
      this.#recent?.indexedUpTo(upto);
      return upto - before;
    } finally {
      this.#db.exec(`PRAGMA synchronous = ${this.#sync}`);
    }
  }

  /** `deferred_indexed_upto`: every event up to it is in the indexes of hosts and origins. */
  #deferredUpto(): number {
    return Number((this.#statements.deferredUpto!.get() as Row).value);
  }

  /** The newest event id, 0 when there is none. */
  #newestId(): number {
    return Number((this.#statements.maxEventId!.get() as Row).id);
  }

  /** One transaction of {@linkcode indexText}; returns how many events it indexed. */
  #indexStep(maxRows: number, maxBytes: number): number {
    const statements = this.#statements;
    const bytes = Number.isFinite(maxBytes)
      ? Math.max(1, Math.trunc(maxBytes))
      : Number.MAX_SAFE_INTEGER;
    return transaction(this.#db, () => {
      const upto = Number((statements.ftsUpto!.get() as Row).value);
      const last = (statements.ftsLast!.get(upto, maxRows, bytes) as Row | undefined)?.last;
      if (last === null || last === undefined) return 0;
      // One statement, no row crosses into JavaScript.
      const indexed = Number(statements.ftsFill!.run(upto, Number(last)).changes);
      statements.ftsSetUpto!.run(Number(last));
      return indexed;
    });
  }

  // Web console reads (server/dashboard/).

  digestEvents(afterId: number, options: DigestOptions): Promise<EventDigest[]> {
    const limit = Math.max(1, Math.min(Math.trunc(options.limit), MAX_QUERY_LIMIT));
    const marks = options.markSubstrings.filter((m) => m !== "");
    const marked = marks.length ? marks.map(() => "instr(raw, ?) > 0").join(" OR ") : "0";
    const sql = `SELECT id, ts, host, program, severity, agent_id, (${marked}) AS marked FROM logs
       WHERE id > ? ORDER BY id LIMIT ${limit}`;
    // The console's statistics ask the same page every time: prepared once.
    const rows = this.#digestStatements.get(sql).all(...marks, afterId) as Row[];
    return Promise.resolve(rows.map((row) => ({
      id: Number(row.id),
      ts: Number(row.ts),
      host: row.host === null ? null : String(row.host),
      program: row.program === null ? null : String(row.program),
      severity: nullableNumber(row.severity),
      agentId: nullableNumber(row.agent_id),
      marked: Number(row.marked) !== 0,
    })));
  }

  firstEventIdSince(sinceMs: number): Promise<number | null> {
    const row = this.#statements.firstSince!.get(sinceMs) as Row | undefined;
    return Promise.resolve(row ? Number(row.id) : null);
  }

  setUserRole(username: string, role: Role): Promise<boolean> {
    const result = this.#statements.setRole!.run(role, username);
    return Promise.resolve(Number(result.changes) > 0);
  }

  // Alerts (server/rules/).

  /**
   * Stores or folds alerts inside the open transaction; `changed` collects
   * their latest state for {@linkcode SqliteStore.#publishAlerts} after COMMIT.
   */
  #foldAlerts(
    alerts: readonly AlertUpsert[],
    at: number,
    changed: Map<string, AlertRecord>,
  ): AlertRecord[] {
    // The writer is the only one writing alerts: the latest state of recent
    // ones is cached, so folding costs one UPDATE and no SELECT or JSON parse.
    return alerts.map((alert) => {
      let last = changed.get(alert.foldKey) ?? this.#alertCache.get(alert.foldKey);
      if (!last) {
        const row = this.#statements.lastAlert!.get(alert.foldKey) as Row | undefined;
        last = row ? toAlert(row) : undefined;
      }
      const folds = last !== undefined && alert.foldWindowMs > 0 &&
        alert.firstSeen - last.lastSeen <= alert.foldWindowMs &&
        last.firstSeen - alert.lastSeen <= alert.foldWindowMs;
      let record: AlertRecord;
      if (folds) {
        const full = last!.eventIds.length >= MAX_ALERT_EVENT_IDS || alert.eventIds.length === 0;
        const eventIds = full
          ? last!.eventIds
          : last!.eventIds.concat(alert.eventIds).slice(0, MAX_ALERT_EVENT_IDS);
        record = {
          ...last!,
          level: alert.level,
          description: alert.description,
          eventIds,
          firstSeen: Math.min(last!.firstSeen, alert.firstSeen),
          lastSeen: Math.max(last!.lastSeen, alert.lastSeen),
          count: last!.count + alert.count,
          updatedAt: at,
        };
        this.#statements.foldAlert!.run({
          id: record.id,
          level: record.level,
          description: record.description,
          ids: full ? null : JSON.stringify(eventIds),
          first: record.firstSeen,
          last: record.lastSeen,
          count: record.count,
          at,
        });
      } else {
        const eventIds = alert.eventIds.slice(0, MAX_ALERT_EVENT_IDS);
        const row = this.#statements.insertAlert!.get({
          rule: alert.ruleId,
          level: alert.level,
          description: alert.description,
          key: alert.foldKey,
          fields: JSON.stringify(alert.fields),
          ids: JSON.stringify(eventIds),
          first: alert.firstSeen,
          last: alert.lastSeen,
          count: alert.count,
          at,
        }) as Row;
        record = {
          id: Number(row.id),
          ruleId: alert.ruleId,
          level: alert.level,
          description: alert.description,
          fields: { ...alert.fields },
          eventIds,
          firstSeen: alert.firstSeen,
          lastSeen: alert.lastSeen,
          count: alert.count,
          updatedAt: at,
        };
      }
      changed.set(alert.foldKey, record);
      return record;
    });
  }

  /** Caches the latest state of committed alerts; the oldest entries go when the cache is full. */
  #publishAlerts(changed: Map<string, AlertRecord>): void {
    for (const [key, record] of changed) {
      this.#alertCache.delete(key);
      this.#alertCache.set(key, record);
    }
    while (this.#alertCache.size > ALERT_CACHE_ENTRIES) {
      this.#alertCache.delete(this.#alertCache.keys().next().value!);
    }
  }

  /**
   * A group's alerts inside its events' transaction, under a savepoint: a
   * failure undoes only them and is reported in `group.error`.
   */
  #storeGroupAlerts(
    group: GroupAlerts,
    statuses: readonly Uint8Array[],
    changed: Map<string, AlertRecord>,
  ): void {
    const failed = (error: unknown) => {
      group.error = error instanceof Error ? error : new Error(String(error));
    };
    let upserts: readonly AlertUpsert[];
    try {
      upserts = group.collect(statuses);
    } catch (error) {
      return failed(error);
    }
    if (upserts.length === 0) return;
    this.#db.exec("SAVEPOINT group_alerts");
    try {
      group.stored.push(...this.#foldAlerts(upserts, group.at, changed));
      this.#db.exec("RELEASE group_alerts");
    } catch (error) {
      this.#db.exec("ROLLBACK TO group_alerts");
      this.#db.exec("RELEASE group_alerts");
      changed.clear();
      group.stored.length = 0;
      failed(error);
    }
  }

  listAlerts(query: AlertQuery = {}): Promise<AlertRecord[]> {
    const { where, params } = alertFilter(query);
    const limit = Math.max(
      1,
      Math.min(Math.trunc(query.limit ?? DEFAULT_ALERT_QUERY_LIMIT), MAX_ALERT_QUERY_LIMIT),
    );
    const rows = this.#db.prepare(
      `SELECT * FROM alerts ${where} ORDER BY updated_at DESC, id DESC LIMIT ${limit}`,
    ).all(...params) as Row[];
    return Promise.resolve(rows.map(toAlert));
  }

  countAlerts(query: AlertQuery = {}): Promise<number> {
    const { where, params } = alertFilter(query);
    const row = this.#db.prepare(`SELECT count(*) AS n FROM alerts ${where}`).get(...params) as Row;
    return Promise.resolve(Number(row.n));
  }

  // Retention and storage: see sqlite_maintenance.ts.

  pruneEvents(policy: PrunePolicy): Promise<PruneStep> {
    return Promise.resolve(pruneSqlite(this.#db, policy));
  }

  storageInfo(): Promise<StorageInfo> {
    return Promise.resolve(sqliteStorageInfo(this.#db));
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }
}

/**
 * WHERE clauses (joined with AND) and their parameters for the filters of an
 * {@linkcode EventQuery}, cursors excluded. Shared by queries and counts.
 */
/** Most words of a full-text query that are used; the rest are ignored. */
const MAX_TEXT_WORDS = 8;

/**
 * Turns user keywords into an FTS5 MATCH expression of quoted prefix terms
 * (so no FTS5 syntax in the input is ever interpreted) and the lower-cased
 * words that each line must contain.
 */
function fullTextQuery(text: string): { match: string | null; words: string[] } {
  const words = text.toLowerCase().split(/\s+/).filter((w) => w !== "").slice(0, MAX_TEXT_WORDS);
  const terms = words.flatMap((w) => w.match(/[\p{L}\p{N}]+/gu) ?? []).map((t) => `"${t}"*`);
  return { match: terms.length > 0 ? terms.join(" AND ") : null, words };
}

/**
 * Which half of a query split at an index's reach to filter for (see
 * `#parts`): the rows the index covers, up to `upto`, or the tail above it;
 * null for no split.
 */
type QueryPart = { index: "text" | "host"; part: "indexed" | "tail"; upto: number } | null;

function eventFilter(
  query: EventQuery,
  queryPart: QueryPart = null,
): { from: string; key: string; where: string[]; params: SQLInputValue[]; hostIds?: string } {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  const add = (clause: string, value: SQLInputValue) => {
    where.push(clause);
    params.push(value);
  };
  const hostPart = queryPart?.index === "host" ? queryPart : null;
  const textPart = queryPart?.index === "text" ? queryPart : null;
  let from = "logs";
  // The order of the ids: the index's own when the rows come from it, so no sort.
  let key = "id";
  // The host's rows and time range come from its index: their parameters go first.
  const hostIds = hostPart?.part === "indexed"
    ? hostIndexedIds(query.sinceMs !== undefined, query.untilMs !== undefined)
    : undefined;
  if (hostIds !== undefined) {
    from = `(${hostIds}) AS h CROSS JOIN logs ON logs.id = h.hid`;
    key = "h.hid";
    params.push(query.host!, hostPart!.upto);
    if (query.sinceMs !== undefined) params.push(query.sinceMs);
    if (query.untilMs !== undefined) params.push(query.untilMs);
  } else if (query.host !== undefined) add("host = ?", query.host);
  if (hostPart?.part === "tail") {
    // The id range above the index is short: no other index may look wider (a time range could).
    from = "logs NOT INDEXED";
    add("id > ?", hostPart.upto);
  }
  if (query.program !== undefined) add("program = ?", query.program);
  if (query.contains !== undefined && query.contains !== "") {
    add("instr(raw, ?) > 0", query.contains);
  }
  if (query.text !== undefined) {
    const text = fullTextQuery(query.text);
    if (text.match !== null && textPart?.part === "indexed") {
      add("id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)", text.match);
      add("id <= ?", textPart.upto);
    } else if (textPart?.part === "tail") {
      add("id > ?", textPart.upto);
    }
    for (const word of text.words) add("instr(lower(raw), ?) > 0", word);
  }
  if (query.maxSeverity !== undefined) add("severity <= ?", query.maxSeverity);
  if (hostIds === undefined) {
    if (query.sinceMs !== undefined) add("ts >= ?", query.sinceMs);
    if (query.untilMs !== undefined) add("ts < ?", query.untilMs);
  }
  return { from, key, where, params, ...(hostIds !== undefined ? { hostIds } : {}) };
}

// Alerts (server/rules/).

/** Alerts whose latest state the SQLite store keeps in memory to fold without a SELECT. */
const ALERT_CACHE_ENTRIES = 10_000;

/** WHERE clause and parameters of an {@linkcode AlertQuery}. */
function alertFilter(query: AlertQuery): { where: string; params: SQLInputValue[] } {
  const clauses: string[] = [];
  const params: SQLInputValue[] = [];
  if (query.sinceMs !== undefined) {
    clauses.push("updated_at >= ?");
    params.push(query.sinceMs);
  }
  if (query.minLevel !== undefined) {
    clauses.push("level >= ?");
    params.push(query.minLevel);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
}
