/**
 * The backstop behind the directory watches: one slow sweep over every
 * followed file, in case an event was missed (a change made on another host
 * of a network file system, say). Its cost per second does not grow with the
 * number of files: it checks at most {@linkcode SWEEP_CHECKS_PER_SECOND}
 * entries a second, spread evenly over the sweep, and each entry at most once
 * per `minIntervalMs`. With a few files each is checked every
 * `minIntervalMs` (1 s); with 1,000 files every 20 s; with 10,000 every
 * 200 s. A check is the entry's own business (a follower stats its path,
 * without opening the file). Files in directories that cannot be watched at
 * all are polled by their followers instead (follow/_path_watch.ts).
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK, type TimerId } from "../clock.ts";

/**
 * Most entries checked per second, over all entries (each check is a stat;
 * their cost is in decisions/0014). With more entries than this per
 * `minIntervalMs`, a sweep takes longer: a missed event delays lines by up
 * to (entries / this) seconds.
 */
export const SWEEP_CHECKS_PER_SECOND = 50;

/**
 * Least interval of the sweep's timer, in milliseconds: the checks are spread
 * over its ticks. With few entries it ticks less often, once per check.
 */
export const SWEEP_TICK_MS = 250;

/** One entry of a {@linkcode Sweep}. */
export interface SweepEntry {
  /** Looks at the entry; should be cheap, and must not throw. */
  check(): void;
}

/** Options of {@linkcode Sweep}. */
export interface SweepOptions {
  /** Least time between two checks of one entry, in milliseconds. */
  readonly minIntervalMs: number;
  /**
   * Most checks per second over all entries.
   * @default {SWEEP_CHECKS_PER_SECOND}
   */
  readonly checksPerSecond?: number;
  /**
   * Timers.
   * @default {SYSTEM_CLOCK}
   */
  readonly clock?: Clock;
}

/**
 * Checks its entries in turn, at a bounded rate.
 *
 * @example
 * ```ts
 * const sweep = new Sweep({ minIntervalMs: 1_000 });
 * const remove = sweep.add({ check: () => console.log("look at the file") });
 * remove();
 * sweep.close();
 * ```
 */
export class Sweep {
  readonly #clock: Clock;
  readonly #minIntervalMs: number;
  readonly #checksPerSecond: number;
  /** The entries, in insertion order; the sweep walks them round-robin. */
  readonly #entries = new Set<SweepEntry>();
  #iterator: Iterator<SweepEntry> | undefined;
  /** Checks owed but not yet made (fractions carried over between ticks). */
  #credit = 0;
  #timer: TimerId | undefined;
  #closed = false;

  /**
   * @param options Interval per entry, rate and clock.
   */
  constructor(options: SweepOptions) {
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#minIntervalMs = options.minIntervalMs;
    this.#checksPerSecond = options.checksPerSecond ?? SWEEP_CHECKS_PER_SECOND;
  }

  /** Entries swept now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Milliseconds one full sweep takes now: the longest an entry waits for its check. */
  get periodMs(): number {
    return Math.max(this.#minIntervalMs, this.#entries.size * 1000 / this.#checksPerSecond);
  }

  /**
   * Adds an entry; its first check comes within one sweep.
   *
   * @param entry The entry.
   * @returns Removes the entry again.
   */
  add(entry: SweepEntry): () => void {
    this.#entries.add(entry);
    this.#schedule();
    return () => {
      this.#entries.delete(entry);
    };
  }

  /** Stops the sweep. Idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries.clear();
  }

  /** The timer's interval now: one check per tick with few entries, else {@linkcode SWEEP_TICK_MS}. */
  get #tickMs(): number {
    const perCheck = this.periodMs / Math.max(1, this.#entries.size);
    return Math.min(this.#minIntervalMs, Math.max(SWEEP_TICK_MS, perCheck));
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== undefined || this.#entries.size === 0) return;
    const tickMs = this.#tickMs;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#tick(tickMs);
      this.#schedule();
    }, tickMs);
  }

  #tick(tickMs: number): void {
    const count = this.#entries.size;
    if (count === 0) return;
    // Every entry once per period: count × tick / period checks this tick.
    this.#credit = Math.min(count, this.#credit + count * tickMs / this.periodMs);
    while (this.#credit >= 1 - 1e-9) {
      this.#credit--;
      const entry = this.#next();
      if (entry === undefined) break;
      entry.check();
    }
  }

  /** The next entry round-robin; entries added or removed meanwhile are taken into account. */
  #next(): SweepEntry | undefined {
    for (let attempt = 0; attempt < 2; attempt++) {
      const step = this.#iterator?.next();
      if (step !== undefined && !step.done) return step.value;
      this.#iterator = this.#entries.values();
    }
    return undefined;
  }
}
