/**
 * Web console sessions: random tokens from `crypto.getRandomValues`, kept in
 * memory only as their SHA-256 digest, with an idle and an absolute expiry.
 * A stolen memory dump therefore holds no usable cookie, and a restart logs
 * everyone out.
 *
 * @module
 */

import type { Role, UserRecord } from "../store/store.ts";

/** Random bytes in a session token (256 bits). */
const TOKEN_BYTES = 32;

/** A session unused for this long expires, in seconds (1 hour). */
export const SESSION_IDLE_SECONDS = 60 * 60;

/** A session expires this long after login whatever its use, in seconds (12 hours). */
export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;

/**
 * Most live sessions of all users. When it is reached, a login is refused
 * (HTTP 503) until sessions expire or end: one user can never sign another
 * out, and a flood of logins cannot grow memory without bound.
 */
export const MAX_SESSIONS = 10_000;

/**
 * Most live sessions of one user. One more ends that user's own oldest
 * session, never another user's.
 */
export const MAX_SESSIONS_PER_USER = 20;

/** A logged-in console user. */
export interface Session {
  /** SHA-256 of the token, hex: the map key, safe to log. */
  readonly id: string;
  readonly userId: number;
  readonly username: string;
  /** Role at login; requests re-read the user and use the current one. */
  readonly role: Role;
  /**
   * The user's password hash at login: a session ends when the password changes
   * (in the console or with `nms-server user passwd`).
   */
  readonly passwordHash: string;
  readonly createdAt: number;
  lastUsedAt: number;
}

/** Options of {@linkcode SessionStore}. */
export interface SessionStoreOptions {
  /**
   * Idle expiry, in seconds.
   * @default {SESSION_IDLE_SECONDS}
   */
  idleSeconds?: number;
  /**
   * Absolute expiry, in seconds.
   * @default {SESSION_MAX_AGE_SECONDS}
   */
  maxAgeSeconds?: number;
  /**
   * Clock, ms since the epoch.
   * @default {Date.now}
   */
  now?: () => number;
}

/**
 * In-memory sessions keyed by the digest of their token.
 *
 * @example
 * ```ts
 * const sessions = new SessionStore();
 * const { token } = await sessions.create({ id: 1, username: "admin", role: "admin", passwordHash: "…" });
 * const session = await sessions.get(token); // the session, or undefined once expired
 * ```
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #idleMs: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  /** @param options Expiry and clock. */
  constructor(options: SessionStoreOptions = {}) {
    this.#idleMs = (options.idleSeconds ?? SESSION_IDLE_SECONDS) * 1000;
    this.#maxAgeMs = (options.maxAgeSeconds ?? SESSION_MAX_AGE_SECONDS) * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Sessions that have not expired (expired ones are dropped first). */
  get size(): number {
    this.#sweep();
    return this.#sessions.size;
  }

  /** How long a fresh cookie should live in the browser, in seconds. */
  get maxAgeSeconds(): number {
    return Math.floor(this.#maxAgeMs / 1000);
  }

  /**
   * Starts a session for a verified user. The user's own oldest session ends
   * when they have {@linkcode MAX_SESSIONS_PER_USER}.
   *
   * @param user The user, as read from the store.
   * @returns The token for the cookie (never stored) and the session, or
   *   undefined when {@linkcode MAX_SESSIONS} sessions of other users are live.
   */
  async create(
    user: { id: number; username: string; role: Role; passwordHash: string },
  ): Promise<{ token: string; session: Session } | undefined> {
    this.#sweep();
    const own = [...this.#sessions.values()].filter((s) => s.userId === user.id);
    for (const oldest of own.slice(0, Math.max(0, own.length - MAX_SESSIONS_PER_USER + 1))) {
      this.#sessions.delete(oldest.id);
    }
    if (this.#sessions.size >= MAX_SESSIONS) return undefined;
    const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
    const token = bytes.toBase64({ alphabet: "base64url", omitPadding: true });
    const now = this.#now();
    const session: Session = {
      id: await digest(token),
      userId: user.id,
      username: user.username,
      role: user.role,
      passwordHash: user.passwordHash,
      createdAt: now,
      lastUsedAt: now,
    };
    this.#sessions.set(session.id, session);
    return { token, session };
  }

  /**
   * Finds the session of a token and marks it used.
   *
   * @param token The cookie value; anything a client sent.
   * @returns The session, or undefined when unknown or expired.
   */
  async get(token: string | undefined): Promise<Session | undefined> {
    if (!token || token.length > 128) return undefined;
    const session = this.#sessions.get(await digest(token));
    if (!session) return undefined;
    if (!this.#alive(session)) {
      this.#sessions.delete(session.id);
      return undefined;
    }
    session.lastUsedAt = this.#now();
    return session;
  }

  /**
   * Whether a session still exists and has not expired (without marking it used).
   *
   * @param id The session's id.
   * @returns True while it is valid.
   */
  isValid(id: string): boolean {
    const session = this.#sessions.get(id);
    return session !== undefined && this.#alive(session);
  }

  /**
   * Marks a session used, e.g. while its live stream delivers events.
   *
   * @param id The session's id.
   */
  touch(id: string): void {
    const session = this.#sessions.get(id);
    if (session && this.#alive(session)) session.lastUsedAt = this.#now();
  }

  /**
   * Ends one session (logout).
   *
   * @param id The session's id.
   */
  destroy(id: string): void {
    this.#sessions.delete(id);
  }

  /**
   * Ends every session of a user (removed, demoted or given a new password).
   *
   * @param username The user.
   * @returns How many sessions ended.
   */
  destroyUser(username: string): number {
    let ended = 0;
    for (const [id, session] of this.#sessions) {
      if (session.username === username) {
        this.#sessions.delete(id);
        ended++;
      }
    }
    return ended;
  }

  /**
   * Ends the sessions whose user was removed, or whose password or role
   * changed since login (by this server, the CLI or another server).
   *
   * @param users Every user, as stored now.
   * @returns How many sessions ended.
   */
  revalidate(users: readonly UserRecord[]): number {
    const byId = new Map(users.map((user) => [user.id, user]));
    let ended = 0;
    for (const [id, session] of this.#sessions) {
      if (!sameCredential(session, byId.get(session.userId))) {
        this.#sessions.delete(id);
        ended++;
      }
    }
    return ended;
  }

  #alive(session: Session): boolean {
    const now = this.#now();
    return now - session.lastUsedAt < this.#idleMs && now - session.createdAt < this.#maxAgeMs;
  }

  #sweep(): void {
    for (const [id, session] of this.#sessions) {
      if (!this.#alive(session)) this.#sessions.delete(id);
    }
  }
}

/**
 * Whether a user still holds the credential a session or stream was opened
 * with: the same account, password hash and role.
 *
 * @param holder What was recorded at login.
 * @param user The user as stored now, or undefined when removed.
 * @returns True while nothing changed.
 * @example
 * ```ts
 * sameCredential(session, await store.findUser(session.username));
 * ```
 */
export function sameCredential(
  holder: { readonly userId: number; readonly passwordHash: string; readonly role: Role },
  user: UserRecord | undefined,
): boolean {
  return user !== undefined && user.id === holder.userId &&
    user.passwordHash === holder.passwordHash && user.role === holder.role;
}

async function digest(token: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return new Uint8Array(hash).toHex();
}
