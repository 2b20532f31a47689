/**
 * Slows password guessing on the web console: after too many failed logins
 * from one address within a window, further attempts from it are refused
 * (HTTP 429) until the window has passed, without checking the password.
 * An attempt is counted before its password is checked, so parallel requests
 * cannot all pass the check.
 *
 * @module
 */

/** Failed logins from one address after which it is refused for the rest of the window. */
export const MAX_FAILED_LOGINS_PER_ADDRESS = 10;

/** Length of the window in which failures are counted, in seconds (15 minutes). */
export const FAILED_LOGIN_WINDOW_SECONDS = 15 * 60;

/**
 * Most addresses tracked. When full, the oldest entry is forgotten, so a
 * spoofing flood costs bounded memory (and at worst resets someone's count).
 */
const MAX_TRACKED_ADDRESSES = 10_000;

interface Entry {
  failures: number;
  windowStart: number;
}

/**
 * Counts login attempts per client address.
 *
 * @example
 * ```ts
 * const throttle = new LoginThrottle();
 * const wait = throttle.reserve("10.0.0.5");
 * if (wait > 0) return tooManyRequests(wait);
 * if (ok) throttle.succeed("10.0.0.5"); // a failure stays counted
 * ```
 */
export class LoginThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #windowMs = FAILED_LOGIN_WINDOW_SECONDS * 1000;

  /** @param now Clock, ms since the epoch. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * How long this address must wait before its next attempt, counting nothing.
   *
   * @param address The client's IP address.
   * @returns Seconds to wait, or 0 when it may try now.
   */
  retryAfterSeconds(address: string): number {
    const entry = this.#current(address);
    if (!entry || entry.failures < MAX_FAILED_LOGINS_PER_ADDRESS) return 0;
    return Math.ceil((this.#windowMs - (this.#now() - entry.windowStart)) / 1000);
  }

  /**
   * Counts an attempt before its password is checked, as a failure until
   * {@linkcode succeed} or {@linkcode release} says otherwise.
   *
   * @param address The client's IP address.
   * @returns 0 when the attempt may go on, else the seconds to wait (nothing counted).
   */
  reserve(address: string): number {
    const wait = this.retryAfterSeconds(address);
    if (wait > 0) return wait;
    let entry = this.#current(address);
    if (!entry) {
      if (this.#entries.size >= MAX_TRACKED_ADDRESSES) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
      entry = { failures: 0, windowStart: this.#now() };
      this.#entries.set(address, entry);
    }
    entry.failures++;
    return 0;
  }

  /**
   * Takes back a reserved attempt whose password was never checked.
   *
   * @param address The client's IP address.
   */
  release(address: string): void {
    const entry = this.#current(address);
    if (entry && entry.failures > 0) entry.failures--;
  }

  /**
   * Forgets the failures of an address after a successful login.
   *
   * @param address The client's IP address.
   */
  succeed(address: string): void {
    this.#entries.delete(address);
  }

  /** The address's entry, unless its window has passed. */
  #current(address: string): Entry | undefined {
    const entry = this.#entries.get(address);
    if (entry && this.#now() - entry.windowStart >= this.#windowMs) {
      this.#entries.delete(address);
      return undefined;
    }
    return entry;
  }
}
