/**
 * Slows password guessing on the web console: after too many failed logins
 * from one address within a window, further attempts from it are refused
 * (HTTP 429) until the window has passed, without checking the password.
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
 * Counts failed logins per client address.
 *
 * @example
 * ```ts
 * const throttle = new LoginThrottle();
 * if (throttle.retryAfterSeconds("10.0.0.5") > 0) return tooManyRequests();
 * if (!ok) throttle.fail("10.0.0.5"); else throttle.succeed("10.0.0.5");
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
   * How long this address must wait before its next attempt.
   *
   * @param address The client's IP address.
   * @returns Seconds to wait, or 0 when it may try now.
   */
  retryAfterSeconds(address: string): number {
    const entry = this.#entries.get(address);
    if (!entry) return 0;
    const elapsed = this.#now() - entry.windowStart;
    if (elapsed >= this.#windowMs) {
      this.#entries.delete(address);
      return 0;
    }
    if (entry.failures < MAX_FAILED_LOGINS_PER_ADDRESS) return 0;
    return Math.ceil((this.#windowMs - elapsed) / 1000);
  }

  /**
   * Records a failed attempt.
   *
   * @param address The client's IP address.
   */
  fail(address: string): void {
    const now = this.#now();
    let entry = this.#entries.get(address);
    if (!entry || now - entry.windowStart >= this.#windowMs) {
      if (!entry && this.#entries.size >= MAX_TRACKED_ADDRESSES) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
      entry = { failures: 0, windowStart: now };
      this.#entries.set(address, entry);
    }
    entry.failures++;
  }

  /**
   * Forgets the failures of an address after a successful login.
   *
   * @param address The client's IP address.
   */
  succeed(address: string): void {
    this.#entries.delete(address);
  }
}
