/**
 * {@linkcode SecurityStore} on node:sqlite: tokens, lockout counters and the
 * audit trail, with prepared, parameterized statements only.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import {
  type AuditEntry,
  auditLimit,
  type AuditQuery,
  type AuditRecord,
  type LoginFailurePolicy,
  type NewTokenRecord,
  type SecurityStore,
  type TokenRecord,
} from "./security_store.ts";
import { StoreError } from "./store.ts";
import { toAudit, toToken } from "./_rows.ts";

type Row = Record<string, SQLInputValue>;

/** node:sqlite cuts text at a NUL: it is replaced, as the PostgreSQL store does. */
function clean(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text;
}

function cleanOrNull(text: string | null): string | null {
  return text === null ? null : clean(text);
}

/** SQLite's primary result code for "database is locked"; extended codes keep it in their low byte. */
const SQLITE_BUSY = 5;
/**
 * Waits before each new try of a login's write that SQLite refused with
 * `database is locked`, in milliseconds. SQLite's busy timeout counts its own
 * sleeps, not time, and a signal cuts each sleep short (a CPU profiler's come
 * every millisecond): it then gives up within tens of milliseconds while the
 * writer's longer transactions still hold the lock. These waits are timers,
 * so a login outlasts such a transaction whatever wakes the thread. Their sum
 * bounds the extra wait of one write.
 */
const BUSY_RETRY_DELAYS_MS: readonly number[] = [5, 10, 20, 40, 80, 160, 320];

function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" && (code & 0xff) === SQLITE_BUSY;
}

/**
 * Runs one autocommit write, again after each of {@linkcode BUSY_RETRY_DELAYS_MS}
 * while SQLite answers `database is locked`: a refused statement wrote nothing.
 */
async function retryBusy<T>(write: () => T): Promise<T> {
  for (const delay of BUSY_RETRY_DELAYS_MS) {
    try {
      return write();
    } catch (error) {
      if (!isBusy(error)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  return write();
}

/** `true` when a counter's window or lock has passed, so a new failure starts again at 1. */
const EXPIRED = "(window_start <= :at - :window OR locked_until <= :at)";

/**
 * The SQLite security store of one database connection.
 *
 * @example
 * ```ts
 * const security = new SqliteSecurityStore(new DatabaseSync("nms.db"));
 * await security.listTokens();
 * ```
 */
export class SqliteSecurityStore implements SecurityStore {
  readonly #db: DatabaseSync;
  readonly #statements: Record<string, StatementSync> = {};
  readonly #lockedUntil = new Map<number, StatementSync>();

  /** @param db An open, migrated database; its owner closes it. */
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** A statement prepared once, on first use (the tables exist only after migrating). */
  #statement(name: string, sql: string): StatementSync {
    return this.#statements[name] ??= this.#db.prepare(sql);
  }

  createToken(token: NewTokenRecord): Promise<void> {
    try {
      this.#statement(
        "createToken",
        `INSERT INTO agent_tokens (id, name, secret_hash, bound_hostname, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        clean(token.id),
        clean(token.name),
        token.secretHash,
        cleanOrNull(token.boundHostname),
        token.createdAt,
        clean(token.createdBy),
      );
      return Promise.resolve();
    } catch (error) {
      if (errorMessage(error).includes("UNIQUE")) {
        return Promise.reject(new StoreError(`Token ${token.id} already exists`, "conflict"));
      }
      return Promise.reject(error);
    }
  }

  findToken(id: string): Promise<TokenRecord | undefined> {
    const row = this.#statement("findToken", "SELECT * FROM agent_tokens WHERE id = ?").get(
      clean(id),
    ) as
      | Row
      | undefined;
    return Promise.resolve(row ? toToken(row) : undefined);
  }

  listTokens(): Promise<TokenRecord[]> {
    const rows = this.#statement(
      "listTokens",
      "SELECT * FROM agent_tokens ORDER BY created_at DESC, id",
    ).all() as Row[];
    return Promise.resolve(rows.map(toToken));
  }

  revokeToken(id: string, at: number): Promise<boolean> {
    const result = this.#statement(
      "revokeToken",
      "UPDATE agent_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
    ).run(at, clean(id));
    return Promise.resolve(Number(result.changes) > 0);
  }

  async markTokenUsed(id: string, at: number): Promise<void> {
    const statement = this.#statement(
      "markTokenUsed",
      "UPDATE agent_tokens SET last_used_at = ? WHERE id = ?",
    );
    await retryBusy(() => statement.run(at, clean(id)));
  }

  lockedUntil(keys: readonly string[], at: number): Promise<number | null> {
    if (keys.length === 0) return Promise.resolve(null);
    let statement = this.#lockedUntil.get(keys.length);
    if (!statement) {
      statement = this.#db.prepare(
        `SELECT max(locked_until) AS until FROM login_failures
         WHERE key IN (${keys.map(() => "?").join(",")}) AND locked_until > ?`,
      );
      this.#lockedUntil.set(keys.length, statement);
    }
    const row = statement.get(...keys.map(clean), at) as Row;
    return Promise.resolve(row.until === null ? null : Number(row.until));
  }

  async reserveLoginAttempt(
    keys: readonly string[],
    at: number,
    policy: LoginFailurePolicy,
  ): Promise<number | null> {
    // One atomic upsert per key; a key that refuses updates nothing and returns no row.
    const reserve = this.#statement(
      "reserveAttempt",
      `INSERT INTO login_failures (key, failures, window_start, locked_until)
       VALUES (:key, 1, :at, NULL)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN ${EXPIRED} THEN 1 ELSE failures + 1 END,
         window_start = CASE WHEN ${EXPIRED} THEN :at ELSE window_start END,
         locked_until = CASE WHEN ${EXPIRED} THEN NULL ELSE locked_until END
       WHERE ${EXPIRED} OR (locked_until IS NULL AND failures < :max)
       RETURNING failures`,
    );
    for (const [i, key] of keys.entries()) {
      const row = await retryBusy(() =>
        reserve.get({
          key: clean(key),
          at,
          window: policy.windowMs,
          max: policy.maxFailures,
        })
      );
      if (row !== undefined) continue;
      await this.#release(keys.slice(0, i));
      const lock = this.#statement(
        "lockOf",
        "SELECT locked_until FROM login_failures WHERE key = ?",
      ).get(clean(key)) as Row | undefined;
      const until = lock?.locked_until;
      return until === null || until === undefined ? at + policy.lockMs : Number(until);
    }
    return null;
  }

  releaseLoginAttempt(keys: readonly string[]): Promise<void> {
    return this.#release(keys);
  }

  async #release(keys: readonly string[]): Promise<void> {
    const statement = this.#statement(
      "releaseAttempt",
      "UPDATE login_failures SET failures = failures - 1 WHERE key = ? AND failures > 0",
    );
    for (const key of keys) await retryBusy(() => statement.run(clean(key)));
  }

  async lockExhausted(
    keys: readonly string[],
    at: number,
    policy: LoginFailurePolicy,
  ): Promise<string[]> {
    const statement = this.#statement(
      "lockExhausted",
      `UPDATE login_failures SET locked_until = :at + :lock
       WHERE key = :key AND failures >= :max AND window_start > :at - :window
         AND (locked_until IS NULL OR locked_until <= :at)
       RETURNING key`,
    );
    const locked: string[] = [];
    for (const key of keys) {
      const row = await retryBusy(() =>
        statement.get({
          key: clean(key),
          at,
          window: policy.windowMs,
          max: policy.maxFailures,
          lock: policy.lockMs,
        })
      );
      if (row !== undefined) locked.push(key);
    }
    return locked;
  }

  async clearLoginFailures(keys: readonly string[]): Promise<void> {
    const statement = this.#statement("clearFailures", "DELETE FROM login_failures WHERE key = ?");
    for (const key of keys) await retryBusy(() => statement.run(clean(key)));
  }

  pruneLoginFailures(before: number): Promise<number> {
    const result = this.#statement(
      "pruneFailures",
      `DELETE FROM login_failures
       WHERE window_start < :before AND (locked_until IS NULL OR locked_until < :before)`,
    ).run({ before });
    return Promise.resolve(Number(result.changes));
  }

  async replacePasswordHash(username: string, expected: string, next: string): Promise<boolean> {
    const statement = this.#statement(
      "replaceHash",
      "UPDATE users SET password_hash = ? WHERE username = ? AND password_hash = ?",
    );
    const result = await retryBusy(() => statement.run(next, clean(username), expected));
    return Number(result.changes) > 0;
  }

  appendAudit(entry: AuditEntry): Promise<void> {
    this.#statement(
      "appendAudit",
      "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
    ).run(
      entry.at,
      clean(entry.actor),
      clean(entry.action),
      clean(entry.target),
      cleanOrNull(entry.detail),
    );
    return Promise.resolve();
  }

  listAudit(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const limit = auditLimit(query.limit);
    const rows =
      (query.beforeId === undefined
        ? this.#statement("audit", "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?").all(limit)
        : this.#statement(
          "auditBefore",
          "SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?",
        ).all(query.beforeId, limit)) as Row[];
    return Promise.resolve(rows.map(toAudit));
  }
}
