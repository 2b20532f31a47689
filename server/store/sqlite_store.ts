/**
 * {@linkcode Store} on SQLite through node:sqlite: WAL mode, prepared
 * statements, multi-row inserts, one transaction per appended group.
 *
 * @module
 */

import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
import { SQLITE_MIGRATIONS } from "./migrations.ts";
import { transaction } from "./transaction.ts";
import {
  type AgentRecord,
  type AgentRegistration,
  APPEND_STATUS,
  type EventBatch,
  type EventQuery,
  type EventRecord,
  type HeartbeatRecord,
  type Role,
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
] as const;

/**
 * Largest multi-row INSERT, in rows. 512 rows × 13 columns stays far below
 * SQLite's 32,766 bound variables; smaller remainders use the power-of-two
 * statements below it, so at most 10 statements are ever prepared.
 */
const MAX_ROWS_PER_INSERT = 512;

/** Largest page {@linkcode Store.queryEvents} returns whatever the caller asks. */
export const MAX_QUERY_LIMIT = 10_000;

/** Default page size of {@linkcode Store.queryEvents}. */
const DEFAULT_QUERY_LIMIT = 100;

type Row = Record<string, SQLInputValue>;

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
  if (path !== ":memory:") await Deno.mkdir(dirname(path), { recursive: true });
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new StoreError(`Cannot open database ${path}: ${(error as Error).message}`, "invalid");
  }
  return new SqliteStore(db, options);
}

class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #inserts = new Map<number, StatementSync>();
  readonly #params = new Map<number, SQLInputValue[]>();
  /** Highest committed position per stream key, with the stream's row id. */
  readonly #streams = new Map<string, { id: number; highest: number }>();
  readonly #statements: Record<string, StatementSync>;
  #closed = false;

  constructor(db: DatabaseSync, options: SqliteStoreOptions) {
    this.#db = db;
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    db.exec("PRAGMA journal_mode = WAL");
    // WAL silently means synchronous=FULL in this build unless set after it.
    db.exec(`PRAGMA synchronous = ${options.sync === "normal" ? "NORMAL" : "FULL"}`);
    this.#migrate();
    const prepare = (sql: string) => db.prepare(sql);
    this.#statements = {
      streamId: prepare("SELECT id FROM streams WHERE key = ?"),
      insertStream: prepare("INSERT INTO streams (key) VALUES (?)"),
      highest: prepare("SELECT max(pos) AS highest FROM logs WHERE stream_id = ?"),
      exists: prepare("SELECT 1 AS found FROM logs WHERE stream_id = ? AND pos = ?"),
      upsertAgent: prepare(`
        INSERT INTO agents (hostname, version, os, address, first_seen, last_seen)
        VALUES (:hostname, :version, :os, :address, :at, :at)
        ON CONFLICT (hostname) DO UPDATE SET version = :version, os = :os,
          address = :address, last_seen = :at, stopped_at = NULL
        RETURNING id`),
      heartbeat: prepare(`
        UPDATE agents SET last_seen = :at, last_heartbeat = :at, uptime_seconds = :uptime,
          lag_bytes = coalesce(:lag, lag_bytes), stopped_at = NULL WHERE id = :id`),
      stopped: prepare("UPDATE agents SET stopped_at = :at, last_seen = :at WHERE id = :id"),
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
    transaction(this.#db, () => {
      for (let i = version; i < SQLITE_MIGRATIONS.length; i++) {
        this.#db.exec(SQLITE_MIGRATIONS[i]!.sql);
      }
      this.#db.exec(`PRAGMA user_version = ${SQLITE_MIGRATIONS.length}`);
    });
  }

  /** The prepared multi-row INSERT for exactly `rows` rows (a power of two). */
  #insert(rows: number): [StatementSync, SQLInputValue[]] {
    let statement = this.#inserts.get(rows);
    if (!statement) {
      const tuple = `(${EVENT_COLUMNS.map(() => "?").join(",")})`;
      statement = this.#db.prepare(
        `INSERT INTO logs (${EVENT_COLUMNS.join(",")}) VALUES ${
          Array(rows).fill(tuple).join(",")
        } ON CONFLICT DO NOTHING`,
      );
      this.#inserts.set(rows, statement);
      this.#params.set(rows, new Array(rows * EVENT_COLUMNS.length));
    }
    return [statement, this.#params.get(rows)!];
  }

  /** Finds or creates the row id of a stream, and its highest stored position. */
  #stream(key: string): { id: number; highest: number } {
    let entry = this.#streams.get(key);
    if (entry) return entry;
    const found = this.#statements.streamId!.get(key) as Row | undefined;
    const id = found
      ? Number(found.id)
      : Number(this.#statements.insertStream!.run(key).lastInsertRowid);
    const highest = found ? (this.#statements.highest!.get(id) as Row).highest : null;
    entry = { id, highest: highest === null ? -1 : Number(highest) };
    this.#streams.set(key, entry);
    return entry;
  }

  appendEvents(batches: readonly EventBatch[]): Promise<Uint8Array[]> {
    const statuses = batches.map((batch) => new Uint8Array(batch.count));
    const width = EVENT_COLUMNS.length;
    // Pending rows are written in power-of-two multi-row INSERTs.
    const pending: [EventBatch, number, number | null][] = [];
    const flush = (all: boolean) => {
      let done = 0;
      while (pending.length - done >= (all ? 1 : MAX_ROWS_PER_INSERT)) {
        let rows = MAX_ROWS_PER_INSERT;
        while (rows > pending.length - done) rows >>= 1;
        const [statement, params] = this.#insert(rows);
        for (let r = 0; r < rows; r++) {
          const [b, i, streamId] = pending[done + r]!;
          const o = r * width;
          params[o] = b.receivedAt;
          params[o + 1] = b.ts[i]!;
          params[o + 2] = b.host[i] ?? null;
          params[o + 3] = b.agentId;
          params[o + 4] = b.program[i] ?? null;
          const pid = b.pid[i]!;
          params[o + 5] = pid < 0 ? null : pid;
          const severity = b.severity[i]!;
          params[o + 6] = severity < 0 ? null : severity;
          const facility = b.facility[i]!;
          params[o + 7] = facility < 0 ? null : facility;
          params[o + 8] = b.message[i]!;
          params[o + 9] = b.raw[i]!;
          params[o + 10] = b.flags[i]!;
          params[o + 11] = streamId;
          params[o + 12] = streamId === null ? null : b.position[i]!;
        }
        statement.run(...params);
        done += rows;
      }
      pending.splice(0, done);
    };
    // Highest positions are only published to the cache after COMMIT.
    const raised = new Map<string, number>();
    transaction(this.#db, () => {
      batches.forEach((batch, b) => {
        for (let i = 0; i < batch.count; i++) {
          const key = batch.stream[i];
          if (key === null || key === undefined) {
            pending.push([batch, i, null]);
            continue;
          }
          const stream = this.#stream(key);
          const position = batch.position[i]!;
          const highest = Math.max(stream.highest, raised.get(key) ?? -1);
          if (position <= highest) {
            // A resend: the rare path. Rows still pending must be visible to the check.
            flush(true);
            if (this.#statements.exists!.get(stream.id, position)) {
              statuses[b]![i] = APPEND_STATUS.duplicate;
              continue;
            }
          } else {
            raised.set(key, position);
          }
          pending.push([batch, i, stream.id]);
        }
        if (pending.length >= MAX_ROWS_PER_INSERT) flush(false);
      });
      flush(true);
    });
    for (const [key, highest] of raised) {
      const entry = this.#streams.get(key);
      if (entry && highest > entry.highest) entry.highest = highest;
    }
    return Promise.resolve(statuses);
  }

  registerAgent(registration: AgentRegistration): Promise<number> {
    const row = this.#statements.upsertAgent!.get({
      hostname: registration.hostname,
      version: registration.version,
      os: registration.os,
      address: registration.address,
      at: registration.at,
    }) as Row;
    return Promise.resolve(Number(row.id));
  }

  recordHeartbeat(heartbeat: HeartbeatRecord): Promise<void> {
    this.#statements.heartbeat!.run({
      at: heartbeat.at,
      uptime: heartbeat.uptimeSeconds,
      lag: heartbeat.lagBytes,
      id: heartbeat.agentId,
    });
    return Promise.resolve();
  }

  markAgentStopped(agentId: number, at: number): Promise<void> {
    this.#statements.stopped!.run({ at, id: agentId });
    return Promise.resolve();
  }

  listAgents(): Promise<AgentRecord[]> {
    return Promise.resolve((this.#statements.agents!.all() as Row[]).map(toAgent));
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
      const row = this.#statements.createUser!.get(username, passwordHash, role, Date.now()) as Row;
      return Promise.resolve(toUser(row));
    } catch (error) {
      if (String((error as Error).message).includes("UNIQUE")) {
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
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    const add = (clause: string, value: SQLInputValue) => {
      where.push(clause);
      params.push(value);
    };
    if (query.host !== undefined) add("host = ?", query.host);
    if (query.program !== undefined) add("program = ?", query.program);
    if (query.contains !== undefined && query.contains !== "") {
      add("instr(message, ?) > 0", query.contains);
    }
    if (query.maxSeverity !== undefined) add("severity <= ?", query.maxSeverity);
    if (query.sinceMs !== undefined) add("ts >= ?", query.sinceMs);
    if (query.untilMs !== undefined) add("ts < ?", query.untilMs);
    if (query.beforeId !== undefined) add("id < ?", query.beforeId);
    if (query.afterId !== undefined) add("id > ?", query.afterId);
    const limit = Math.max(1, Math.min(query.limit ?? DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT));
    const order = query.afterId !== undefined ? "ASC" : "DESC";
    const sql = `SELECT * FROM logs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY id ${order} LIMIT ${limit}`;
    return Promise.resolve((this.#db.prepare(sql).all(...params) as Row[]).map(toEvent));
  }

  countEvents(): Promise<number> {
    return Promise.resolve(Number((this.#statements.countEvents!.get() as Row).n));
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }
}

function nullableNumber(value: SQLInputValue | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function toUser(row: Row): UserRecord {
  return {
    id: Number(row.id),
    username: String(row.username),
    passwordHash: String(row.password_hash),
    role: String(row.role) as Role,
    createdAt: Number(row.created_at),
  };
}

function toAgent(row: Row): AgentRecord {
  return {
    id: Number(row.id),
    hostname: String(row.hostname),
    version: String(row.version),
    os: String(row.os),
    address: String(row.address),
    firstSeen: Number(row.first_seen),
    lastSeen: Number(row.last_seen),
    lastHeartbeat: nullableNumber(row.last_heartbeat),
    uptimeSeconds: nullableNumber(row.uptime_seconds),
    lagBytes: nullableNumber(row.lag_bytes),
    stoppedAt: nullableNumber(row.stopped_at),
  };
}

function toEvent(row: Row): EventRecord {
  return {
    id: Number(row.id),
    receivedAt: Number(row.received_at),
    ts: Number(row.ts),
    host: row.host === null ? null : String(row.host),
    agentId: nullableNumber(row.agent_id),
    program: row.program === null ? null : String(row.program),
    pid: nullableNumber(row.pid),
    severity: nullableNumber(row.severity),
    facility: nullableNumber(row.facility),
    message: String(row.message),
    raw: String(row.raw),
    flags: Number(row.flags),
  };
}
