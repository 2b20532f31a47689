/**
 * Login lockout, the answer to the paper's insider guessing the admin
 * password: after {@linkcode DEFAULT_MAX_LOGIN_FAILURES} failed logins for one
 * user, or from one address, within {@linkcode DEFAULT_LOCKOUT_WINDOW_SECONDS},
 * further attempts for that user or from that address are refused for
 * {@linkcode DEFAULT_LOCKOUT_SECONDS} without checking the password, so a
 * brute force costs the server one indexed read per guess instead of an
 * scrypt. The counters live in the store (`login_failures`), so they survive
 * a restart and are shared by every server of a PostgreSQL store, and by the
 * agent protocol and the web console alike.
 *
 * A successful login clears its user's counter, not its address's: a valid
 * account must not let an address reset its count and go on guessing others.
 *
 * @module
 */

import type { LoginFailurePolicy, SecurityStore } from "../store/security_store.ts";

/** Failed logins of one user or from one address, within the window, that lock it. */
export const DEFAULT_MAX_LOGIN_FAILURES = 5;
/** Window in which failures are counted, in seconds (15 minutes). */
export const DEFAULT_LOCKOUT_WINDOW_SECONDS = 15 * 60;
/** How long a locked user or address is refused, in seconds (15 minutes). */
export const DEFAULT_LOCKOUT_SECONDS = 15 * 60;
/** Least time between two prunes of expired counters, in ms. */
const PRUNE_INTERVAL_MS = 60_000;

/** Options of {@linkcode Lockout}. */
export interface LockoutOptions {
  /**
   * Failures within the window that lock a user or address; 0 turns the lockout off.
   * @default {DEFAULT_MAX_LOGIN_FAILURES}
   */
  readonly maxFailures?: number;
  /**
   * Length of the counting window, in seconds.
   * @default {DEFAULT_LOCKOUT_WINDOW_SECONDS}
   */
  readonly windowSeconds?: number;
  /**
   * Cooling-off period of a locked user or address, in seconds.
   * @default {DEFAULT_LOCKOUT_SECONDS}
   */
  readonly lockSeconds?: number;
}

/**
 * The store-level policy of lockout options, or null when the lockout is off.
 *
 * @param options Lockout options.
 * @returns The policy in ms, for {@linkcode SecurityStore.recordLoginFailure}.
 * @throws {RangeError} When a value is negative or not an integer.
 * @example
 * ```ts
 * lockoutPolicy({}); // { maxFailures: 5, windowMs: 900000, lockMs: 900000 }
 * ```
 */
export function lockoutPolicy(options: LockoutOptions = {}): LoginFailurePolicy | null {
  const maxFailures = options.maxFailures ?? DEFAULT_MAX_LOGIN_FAILURES;
  const windowSeconds = options.windowSeconds ?? DEFAULT_LOCKOUT_WINDOW_SECONDS;
  const lockSeconds = options.lockSeconds ?? DEFAULT_LOCKOUT_SECONDS;
  for (const [name, value] of Object.entries({ maxFailures, windowSeconds, lockSeconds })) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`Cannot configure the login lockout: invalid ${name} ${value}`);
    }
  }
  if (maxFailures === 0) return null;
  return { maxFailures, windowMs: windowSeconds * 1000, lockMs: lockSeconds * 1000 };
}

/**
 * The counter keys of a login attempt.
 *
 * @param username The claimed user, or null for a token login (only the address counts).
 * @param ip The client's IP address, without port.
 * @returns `user:<name>` (when given) and `addr:<ip>`.
 * @example
 * ```ts
 * lockoutKeys("admin", "10.0.0.9"); // ["user:admin", "addr:10.0.0.9"]
 * ```
 */
export function lockoutKeys(username: string | null, ip: string): string[] {
  return username === null ? [`addr:${ip}`] : [`user:${username}`, `addr:${ip}`];
}

/**
 * Checks and counts failed logins against the store.
 *
 * @example
 * ```ts
 * const lockout = new Lockout(store.security, policy);
 * if (await lockout.retryAfterSeconds("admin", ip, Date.now()) > 0) refuse();
 * else if (!ok) await lockout.fail("admin", ip, Date.now());
 * ```
 */
export class Lockout {
  readonly #security: SecurityStore;
  readonly #policy: LoginFailurePolicy;
  #lastPrune = 0;

  /**
   * @param security The store's security part.
   * @param policy From {@linkcode lockoutPolicy}.
   */
  constructor(security: SecurityStore, policy: LoginFailurePolicy) {
    this.#security = security;
    this.#policy = policy;
  }

  /** The policy in force. */
  get policy(): LoginFailurePolicy {
    return this.#policy;
  }

  /**
   * How long an attempt must wait.
   *
   * @param username Claimed user, or null for a token login.
   * @param ip Client IP address.
   * @param now Ms since the epoch.
   * @returns Seconds until the user and address are both free, 0 when they are now.
   */
  async retryAfterSeconds(username: string | null, ip: string, now: number): Promise<number> {
    const until = await this.#security.lockedUntil(lockoutKeys(username, ip), now);
    return until === null ? 0 : Math.max(1, Math.ceil((until - now) / 1000));
  }

  /**
   * Counts a failed attempt against the user and the address.
   *
   * @param username Claimed user, or null for a token login.
   * @param ip Client IP address.
   * @param now Ms since the epoch.
   * @returns The keys (`user:…`, `addr:…`) this failure locked, usually none.
   */
  async fail(username: string | null, ip: string, now: number): Promise<string[]> {
    if (now - this.#lastPrune >= PRUNE_INTERVAL_MS) {
      this.#lastPrune = now;
      const horizon = now - Math.max(this.#policy.windowMs, this.#policy.lockMs);
      await this.#security.pruneLoginFailures(horizon);
    }
    return await this.#security.recordLoginFailure(lockoutKeys(username, ip), now, this.#policy);
  }

  /**
   * Forgets the user's failures after a successful login (the address's stay).
   *
   * @param username The user who logged in.
   */
  async succeed(username: string): Promise<void> {
    await this.#security.clearLoginFailures([`user:${username}`]);
  }
}
