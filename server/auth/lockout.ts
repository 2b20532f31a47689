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
 * An attempt is counted (reserved) before its password is hashed, so
 * parallel guesses cannot all pass a check made before any of them counted:
 * at most `maxFailures` passwords are checked per user and per address and
 * window, however many arrive at once.
 *
 * A successful login clears its user's counter, not its address's: a valid
 * account must not let an address reset its count and go on guessing others.
 * It only takes back its own reserved attempt.
 *
 * @module
 */

import type { LoginFailurePolicy, SecurityStore } from "../store/security_store.ts";
import { addressKey } from "../net/mod.ts";

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
 * The counter keys of a login attempt, the address first: a refused attempt
 * then never creates a row for the user name it claimed.
 *
 * @param username The claimed user, or null for a token login (only the address counts).
 * @param ip The client's IP address, without port (IPv6 counts per /64).
 * @returns `addr:<address>` and, when given, `user:<name>`.
 * @example
 * ```ts
 * lockoutKeys("admin", "10.0.0.9"); // ["addr:10.0.0.9", "user:admin"]
 * ```
 */
export function lockoutKeys(username: string | null, ip: string): string[] {
  const address = `addr:${addressKey(ip)}`;
  return username === null ? [address] : [address, `user:${username}`];
}

/** A login attempt counted before its password is checked (see {@linkcode Lockout.reserve}). */
export type LoginReservation =
  | {
    readonly ok: false; /** Seconds until the next attempt may be made. */
    readonly retryAfterSeconds: number;
  }
  | {
    readonly ok: true;
    /** The password was right: take the attempt back and clear the user's counter. */
    succeed(): Promise<void>;
    /**
     * The password was wrong: the attempt stays counted.
     *
     * @returns The keys (`addr:…`, `user:…`) this failure locked, usually none.
     */
    fail(): Promise<string[]>;
  };

/**
 * Counts login attempts against the store and locks users and addresses.
 *
 * @example
 * ```ts
 * const lockout = new Lockout(store.security, policy);
 * const attempt = await lockout.reserve("admin", ip, Date.now());
 * if (!attempt.ok) refuse(attempt.retryAfterSeconds);
 * else if (await verifyPassword(password, hash)) await attempt.succeed();
 * else await attempt.fail();
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
   * How long an attempt must wait, without counting one.
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
   * Counts an attempt before its password is checked; refuses it, counting
   * nothing, when the user or the address is locked or has no attempt left.
   *
   * @param username Claimed user, or null for a token login.
   * @param ip Client IP address.
   * @param now Ms since the epoch.
   * @returns The reservation to settle once the password is checked, or the wait.
   */
  async reserve(username: string | null, ip: string, now: number): Promise<LoginReservation> {
    if (now - this.#lastPrune >= PRUNE_INTERVAL_MS) {
      this.#lastPrune = now;
      const horizon = now - Math.max(this.#policy.windowMs, this.#policy.lockMs);
      // Housekeeping, not part of this attempt: the reservation ignores expired
      // counters, so a prune the store cannot run now (busy with a long write)
      // waits for a later login instead of failing this one.
      try {
        await this.#security.pruneLoginFailures(horizon);
      } catch {
        // Pruned at a later login.
      }
    }
    const keys = lockoutKeys(username, ip);
    const until = await this.#security.reserveLoginAttempt(keys, now, this.#policy);
    if (until !== null) {
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)) };
    }
    const security = this.#security;
    const policy = this.#policy;
    return {
      ok: true,
      async succeed() {
        await security.releaseLoginAttempt(keys.slice(0, 1));
        if (username !== null) await security.clearLoginFailures([`user:${username}`]);
      },
      fail: () => security.lockExhausted(keys, now, policy),
    };
  }
}
