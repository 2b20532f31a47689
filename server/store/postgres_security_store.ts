/**
 * {@linkcode SecurityStore} on PostgreSQL: tokens, lockout counters and the
 * audit trail, shared by every server of the database. Values always travel
 * as bind parameters (postgres.js tagged templates).
 *
 * @module
 */

import type { Sql } from "postgres";
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

/** PostgreSQL text cannot hold NUL: it is replaced, as the rest of the store does. */
function clean(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text;
}

/**
 * The PostgreSQL security store over a connection pool.
 *
 * @example
 * ```ts
 * const security = new PostgresSecurityStore(sql);
 * await security.listTokens();
 * ```
 */
export class PostgresSecurityStore implements SecurityStore {
  readonly #sql: Sql;

  /** @param sql A pool whose `search_path` starts with the store's migrated schema. */
  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async createToken(token: NewTokenRecord): Promise<void> {
    try {
      await this.#sql`
        INSERT INTO agent_tokens (id, name, secret_hash, bound_hostname, created_at, created_by)
        VALUES (${clean(token.id)}, ${clean(token.name)}, ${token.secretHash},
          ${token.boundHostname === null ? null : clean(token.boundHostname)},
          ${token.createdAt}, ${clean(token.createdBy)})`;
    } catch (error) {
      if ((error as { code?: string }).code === "23505") {
        throw new StoreError(`Token ${token.id} already exists`, "conflict");
      }
      throw error;
    }
  }

  async findToken(id: string): Promise<TokenRecord | undefined> {
    const [row] = await this.#sql`SELECT * FROM agent_tokens WHERE id = ${clean(id)}`;
    return row ? toToken(row) : undefined;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.#sql`SELECT * FROM agent_tokens ORDER BY created_at DESC, id`).map(toToken);
  }

  async revokeToken(id: string, at: number): Promise<boolean> {
    const result = await this.#sql`
      UPDATE agent_tokens SET revoked_at = ${at} WHERE id = ${clean(id)} AND revoked_at IS NULL`;
    return result.count > 0;
  }

  async markTokenUsed(id: string, at: number): Promise<void> {
    await this.#sql`UPDATE agent_tokens SET last_used_at = ${at} WHERE id = ${clean(id)}`;
  }

  async lockedUntil(keys: readonly string[], at: number): Promise<number | null> {
    if (keys.length === 0) return null;
    const [row] = await this.#sql`
      SELECT max(locked_until) AS until FROM login_failures
      WHERE key = ANY(${this.#sql.array(keys.map(clean))}::text[]) AND locked_until > ${at}`;
    return row?.until === null || row?.until === undefined ? null : Number(row.until);
  }

  async reserveLoginAttempt(
    keys: readonly string[],
    at: number,
    policy: LoginFailurePolicy,
  ): Promise<number | null> {
    const since = at - policy.windowMs;
    for (const [i, key] of keys.entries()) {
      // One atomic upsert per key; a key that refuses updates nothing and returns no row.
      const rows = await this.#sql`
        INSERT INTO login_failures AS f (key, failures, window_start, locked_until)
        VALUES (${clean(key)}, 1, ${at}, NULL)
        ON CONFLICT (key) DO UPDATE SET
          failures = CASE WHEN f.window_start <= ${since} OR f.locked_until <= ${at}
            THEN 1 ELSE f.failures + 1 END,
          window_start = CASE WHEN f.window_start <= ${since} OR f.locked_until <= ${at}
            THEN ${at}::bigint ELSE f.window_start END,
          locked_until = CASE WHEN f.window_start <= ${since} OR f.locked_until <= ${at}
            THEN NULL ELSE f.locked_until END
        WHERE f.window_start <= ${since} OR f.locked_until <= ${at}
          OR (f.locked_until IS NULL AND f.failures < ${policy.maxFailures}::int)
        RETURNING failures`;
      if (rows.length > 0) continue;
      await this.releaseLoginAttempt(keys.slice(0, i));
      const [row] = await this.#sql`
        SELECT locked_until FROM login_failures WHERE key = ${clean(key)}`;
      const until = row?.locked_until;
      return until === null || until === undefined ? at + policy.lockMs : Number(until);
    }
    return null;
  }

  async releaseLoginAttempt(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      await this.#sql`
        UPDATE login_failures SET failures = failures - 1 WHERE key = ${
        clean(key)
      } AND failures > 0`;
    }
  }

  async lockExhausted(
    keys: readonly string[],
    at: number,
    policy: LoginFailurePolicy,
  ): Promise<string[]> {
    const locked: string[] = [];
    for (const key of keys) {
      const rows = await this.#sql`
        UPDATE login_failures SET locked_until = ${at + policy.lockMs}
        WHERE key = ${clean(key)} AND failures >= ${policy.maxFailures}::int
          AND window_start > ${at - policy.windowMs}
          AND (locked_until IS NULL OR locked_until <= ${at})
        RETURNING key`;
      if (rows.length > 0) locked.push(key);
    }
    return locked;
  }

  async clearLoginFailures(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#sql`
      DELETE FROM login_failures WHERE key = ANY(${this.#sql.array(keys.map(clean))}::text[])`;
  }

  async pruneLoginFailures(before: number): Promise<number> {
    const result = await this.#sql`
      DELETE FROM login_failures
      WHERE window_start < ${before} AND (locked_until IS NULL OR locked_until < ${before})`;
    return result.count;
  }

  async replacePasswordHash(username: string, expected: string, next: string): Promise<boolean> {
    const result = await this.#sql`
      UPDATE users SET password_hash = ${next}
      WHERE username = ${clean(username)} AND password_hash = ${expected}`;
    return result.count > 0;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.#sql`
      INSERT INTO audit_log (at, actor, action, target, detail)
      VALUES (${entry.at}, ${clean(entry.actor)}, ${clean(entry.action)}, ${clean(entry.target)},
        ${entry.detail === null ? null : clean(entry.detail)})`;
  }

  async listAudit(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const limit = auditLimit(query.limit);
    const rows = query.beforeId === undefined
      ? await this.#sql`SELECT * FROM audit_log ORDER BY id DESC LIMIT ${limit}`
      : await this.#sql`
        SELECT * FROM audit_log WHERE id < ${query.beforeId} ORDER BY id DESC LIMIT ${limit}`;
    return rows.map(toAudit);
  }
}
