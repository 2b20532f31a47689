/**
 * Warnings about syslog senders, throttled: a flood of denied or dropped
 * datagrams must not become a flood of diagnostics.
 *
 * @module
 */

import type { Logger } from "../log.ts";

/** Least time between two warnings with the same key, in ms. */
export const WARN_INTERVAL_MS = 60_000;

/** Keys remembered at once; when full the memory is cleared (spoofed UDP addresses). */
export const MAX_WARN_KEYS = 1024;

interface Entry {
  at: number;
  suppressed: number;
}

/**
 * Logs a warning at most once per {@linkcode WARN_INTERVAL_MS} per key, with
 * the number of occurrences it held back since the last one.
 *
 * @example
 * ```ts
 * const throttle = new WarnThrottle(log);
 * throttle.warn("denied 10.0.0.5", "Dropped syslog from a sender outside the allow-list", {
 *   address: "10.0.0.5",
 * });
 * ```
 */
export class WarnThrottle {
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  /**
   * @param log Where warnings go.
   * @param now The clock, ms since the epoch.
   */
  constructor(log: Logger, now: () => number = Date.now) {
    this.#log = log;
    this.#now = now;
  }

  /**
   * Logs the warning unless one with the same key was logged recently.
   *
   * @param key What makes two warnings the same (e.g. reason and address).
   * @param message The warning.
   * @param fields Its details; `suppressed` is added when earlier ones were held back.
   */
  warn(key: string, message: string, fields: Record<string, unknown>): void {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry && now - entry.at < WARN_INTERVAL_MS) {
      entry.suppressed++;
      return;
    }
    if (!entry && this.#entries.size >= MAX_WARN_KEYS) this.#entries.clear();
    const suppressed = entry?.suppressed ?? 0;
    this.#entries.set(key, { at: now, suppressed: 0 });
    this.#log.warn(message, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}
