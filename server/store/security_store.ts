/**
 * The security part of the storage seam (docs/SECURITY.md): agent
 * enrollment tokens, the login-failure counters behind the lockout, the
 * audit trail of user, role and token changes, and the compare-and-set that
 * upgrades a password hash after a login. Every {@linkcode Store} exposes one
 * as `store.security`; `sqlite_security_store.ts` and
 * `postgres_security_store.ts` implement it and both pass
 * `security_store_conformance.ts`.
 *
 * @module
 */

/** An agent enrollment token as stored: never the secret, only its SHA-256. */
export interface TokenRecord {
  /** Public id, the `<id>` of `nms_<id>_<secret>`: how a LOGIN finds the token. */
  readonly id: string;
  /** Label given at creation, e.g. the host it is meant for. */
  readonly name: string;
  /** SHA-256 of the secret part, lower-case hex. */
  readonly secretHash: string;
  /** When set, REGISTER on a connection logged in with this token must use this hostname. */
  readonly boundHostname: string | null;
  /** When it was created, ms since the epoch. */
  readonly createdAt: number;
  /** Who created it, e.g. `cli:root` or a console user. */
  readonly createdBy: string;
  /** Last successful LOGIN with it, or null. */
  readonly lastUsedAt: number | null;
  /** When it was revoked, or null while it is valid. */
  readonly revokedAt: number | null;
}

/** A token to store (see {@linkcode SecurityStore.createToken}). */
export type NewTokenRecord = Omit<TokenRecord, "lastUsedAt" | "revokedAt">;

/** How failed logins turn into a lockout (see `server/auth/lockout.ts`). */
export interface LoginFailurePolicy {
  /** Failures of one key within the window that lock it. */
  readonly maxFailures: number;
  /** Length of the counting window, ms. */
  readonly windowMs: number;
  /** How long a key stays locked once it reaches `maxFailures`, ms. */
  readonly lockMs: number;
}

/** One line of the audit trail: who did what to what, and when. */
export interface AuditEntry {
  /** Server time, ms since the epoch. */
  readonly at: number;
  /** Who did it: `cli:<os user>`, `console:<user>`, `server`. */
  readonly actor: string;
  /** What was done, e.g. `user.add`, `user.role`, `token.revoke`. */
  readonly action: string;
  /** What it was done to: a user name or a token id. */
  readonly target: string;
  /** Extra facts, e.g. `role=viewer`; never a secret. */
  readonly detail: string | null;
}

/** A stored {@linkcode AuditEntry}. */
export interface AuditRecord extends AuditEntry {
  /** Row id, increasing in the order entries were written. */
  readonly id: number;
}

/** Filters of {@linkcode SecurityStore.listAudit}. */
export interface AuditQuery {
  /** Only entries with ids below this one (older pages). */
  readonly beforeId?: number;
  /**
   * Most entries returned, at most {@linkcode MAX_AUDIT_QUERY_LIMIT}.
   * @default {100}
   */
  readonly limit?: number;
}

/** Largest page of {@linkcode SecurityStore.listAudit}. */
export const MAX_AUDIT_QUERY_LIMIT = 10_000;

/** Default page of {@linkcode SecurityStore.listAudit}. */
export const DEFAULT_AUDIT_QUERY_LIMIT = 100;

/**
 * Tokens, lockout counters and the audit trail. Every method is safe to call
 * from any thread that opened its own Store; counters are updated with single
 * atomic statements, so several pool workers may count at once.
 */
export interface SecurityStore {
  /**
   * Stores a new token.
   *
   * @throws {StoreError} `conflict` when the id is taken.
   */
  createToken(token: NewTokenRecord): Promise<void>;
  /** Finds a token by its public id, revoked or not. */
  findToken(id: string): Promise<TokenRecord | undefined>;
  /** Lists every token, newest first. */
  listTokens(): Promise<TokenRecord[]>;
  /**
   * Revokes a token.
   *
   * @returns Whether it existed and was not revoked yet.
   */
  revokeToken(id: string, at: number): Promise<boolean>;
  /** Records a successful LOGIN with a token. */
  markTokenUsed(id: string, at: number): Promise<void>;

  /**
   * The latest time until which any of `keys` is locked, when later than `at`.
   *
   * @param keys Counter keys, e.g. `user:admin` and `addr:10.0.0.9`.
   * @param at Now, ms since the epoch.
   * @returns The lock's end, or null when none of the keys is locked.
   */
  lockedUntil(keys: readonly string[], at: number): Promise<number | null>;
  /**
   * Reserves one login attempt against each key, in order, before its
   * password is checked, so that parallel attempts cannot all pass a check
   * made before any of them is counted. A key is counted (a key whose window
   * or lock has passed starts again at 1) unless it is locked or already has
   * `maxFailures` attempts within its window. All or nothing: when a key
   * refuses, the keys counted before it are released again.
   *
   * @returns Null when the attempt may go on, else when it may be tried again
   *   (the key's lock end, or `at + lockMs` while its last attempts are checked).
   */
  reserveLoginAttempt(
    keys: readonly string[],
    at: number,
    policy: LoginFailurePolicy,
  ): Promise<number | null>;
  /** Takes back one reserved attempt of each key (the login succeeded). */
  releaseLoginAttempt(keys: readonly string[]): Promise<void>;
  /**
   * Locks, until `at + lockMs`, each key that has `maxFailures` attempts
   * within its window and no lock yet (after a failed attempt).
   *
   * @returns The keys this call locked.
   */
  lockExhausted(keys: readonly string[], at: number, policy: LoginFailurePolicy): Promise<string[]>;
  /** Forgets the failures of these keys (after a successful login). */
  clearLoginFailures(keys: readonly string[]): Promise<void>;
  /**
   * Deletes counters whose window and lock both ended before `before`.
   *
   * @returns How many were deleted.
   */
  pruneLoginFailures(before: number): Promise<number>;

  /**
   * Replaces a user's password hash only if it still is `expected`, so a
   * transparent re-hash after a login never undoes a concurrent password change.
   *
   * @returns Whether the hash was replaced.
   */
  replacePasswordHash(username: string, expected: string, next: string): Promise<boolean>;

  /** Appends one line to the audit trail. */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Lists the audit trail, newest first. */
  listAudit(query?: AuditQuery): Promise<AuditRecord[]>;
}

/**
 * Clamps an audit page size.
 *
 * @param limit Requested size.
 * @returns A size from 1 to {@linkcode MAX_AUDIT_QUERY_LIMIT}.
 * @example
 * ```ts
 * auditLimit(undefined); // 100
 * ```
 */
export function auditLimit(limit: number | undefined): number {
  const n = Math.trunc(limit ?? DEFAULT_AUDIT_QUERY_LIMIT);
  return Number.isFinite(n)
    ? Math.max(1, Math.min(n, MAX_AUDIT_QUERY_LIMIT))
    : DEFAULT_AUDIT_QUERY_LIMIT;
}
