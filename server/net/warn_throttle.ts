/**
 * Diagnostics about what clients do, throttled: a flood of refused
 * connections, dropped lines or denied datagrams must not become a flood of
 * log lines. Shared by the agent listener and the syslog receiver.
 *
 * @module
 */

import type { Logger } from "../log.ts";

/** Least time between two lines with the same key, in ms (the default). */
export const WARN_INTERVAL_MS = 60_000;

/**
 * Keys remembered at once. When full, a new key shares the line of every
 * other overflowing key ({@linkcode OVERFLOW_KEY}), so a flood of distinct
 * keys (spoofed UDP addresses) still prints one line per interval.
 */
export const MAX_WARN_KEYS = 1024;

/** The key of everything beyond {@linkcode MAX_WARN_KEYS}. */
const OVERFLOW_KEY = "\0overflow";

/** How a throttled line is written. */
export type WarnLevel = "warn" | "info";

/** Options of {@linkcode WarnThrottle}. */
export interface WarnThrottleOptions {
  /**
   * The clock, ms since the epoch.
   * @default {Date.now}
   */
  readonly now?: () => number;
  /**
   * Least time between two lines with the same key, in ms.
   * @default {WARN_INTERVAL_MS}
   */
  readonly intervalMs?: number;
}

interface Entry {
  at: number;
  suppressed: number;
  level: WarnLevel;
  message: string;
  fields: Record<string, unknown>;
}

/**
 * Logs a line at most once per {@linkcode WARN_INTERVAL_MS} per key. What it
 * holds back is counted and reported in one summary line per key when the
 * interval ends (`suppressed=N`, with the details of the last one).
 *
 * @example
 * ```ts
 * const throttle = new WarnThrottle(log);
 * throttle.warn("denied 10.0.0.5", "Dropped syslog from a sender outside the allow-list", {
 *   address: "10.0.0.5",
 * });
 * throttle.close(); // at shutdown: reports what is still held back
 * ```
 */
export class WarnThrottle {
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * @param log Where lines go.
   * @param options The clock and the interval.
   */
  constructor(log: Logger, options: WarnThrottleOptions = {}) {
    this.#log = log;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.intervalMs ?? WARN_INTERVAL_MS;
  }

  /**
   * Logs a warning unless one with the same key was logged this interval.
   *
   * @param key What makes two warnings the same (e.g. reason and address).
   * @param message The warning.
   * @param fields Its details.
   */
  warn(key: string, message: string, fields: Record<string, unknown>): void {
    this.#emit("warn", key, message, fields);
  }

  /**
   * Like {@linkcode warn}, at the info level.
   *
   * @param key What makes two lines the same.
   * @param message The line.
   * @param fields Its details.
   */
  info(key: string, message: string, fields: Record<string, unknown>): void {
    this.#emit("info", key, message, fields);
  }

  /** Reports every count held back now, and forgets all keys. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const entry of this.#entries.values()) {
      if (entry.suppressed > 0) this.#summary(entry);
    }
    this.#entries.clear();
  }

  /** Reports what is held back and stops the timer; later lines are logged unthrottled. */
  close(): void {
    this.flush();
    this.#closed = true;
  }

  #emit(level: WarnLevel, key: string, message: string, fields: Record<string, unknown>): void {
    if (this.#closed) return this.#log[level](message, fields);
    const now = this.#now();
    if (!this.#entries.has(key) && this.#entries.size >= MAX_WARN_KEYS) key = OVERFLOW_KEY;
    const entry = this.#entries.get(key);
    if (entry && now - entry.at < this.#intervalMs) {
      entry.suppressed++;
      entry.level = level;
      entry.message = message;
      entry.fields = fields;
      this.#schedule(entry.at + this.#intervalMs - now);
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.#entries.set(key, { at: now, suppressed: 0, level, message, fields });
    this.#log[level](message, suppressed > 0 ? { ...fields, suppressed } : fields);
  }

  /** One line for what an entry held back; its interval starts again. */
  #summary(entry: Entry): void {
    this.#log[entry.level](entry.message, { ...entry.fields, suppressed: entry.suppressed });
    entry.suppressed = 0;
    entry.at = this.#now();
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = this.#now();
      let next = Infinity;
      for (const [key, entry] of this.#entries) {
        if (entry.suppressed === 0) {
          if (now - entry.at >= this.#intervalMs) this.#entries.delete(key);
        } else if (now - entry.at >= this.#intervalMs) {
          this.#summary(entry);
        } else {
          next = Math.min(next, entry.at + this.#intervalMs - now);
        }
      }
      if (next !== Infinity) this.#schedule(next);
    }, Math.max(0, delayMs));
  }
}
