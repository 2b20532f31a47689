/**
 * Capped exponential backoff with full jitter, as described in "Exponential
 * Backoff And Jitter" (AWS Architecture Blog): the n-th delay is a uniformly
 * random value in `[0, min(cap, initial * 2^n))`. Jitter spreads the
 * reconnects of many agents after a server restart. The first reconnect after
 * an established session dropped is spread too, over
 * {@linkcode DEFAULT_RECONNECT_SPREAD_MS}: a whole fleet loses its server at
 * the same moment, and would otherwise come back within the first ceiling.
 *
 * @module
 */

/** First delay ceiling after a failure, in milliseconds. */
export const DEFAULT_BACKOFF_INITIAL_MS = 100;
/** Largest delay ceiling, in milliseconds: a down server is retried at least this often. */
export const DEFAULT_BACKOFF_MAX_MS = 30_000;
/**
 * Ceiling of the delay before the first reconnect after an established
 * session dropped, in milliseconds (never above the backoff's cap). A fleet
 * whose server restarted arrives spread evenly over it instead of at once.
 */
export const DEFAULT_RECONNECT_SPREAD_MS = 5_000;

/** Options of {@linkcode Backoff}. */
export interface BackoffOptions {
  /**
   * Delay ceiling of the first retry, in milliseconds.
   * @default {DEFAULT_BACKOFF_INITIAL_MS} (100 ms)
   */
  initialDelayMs?: number;
  /**
   * Largest delay ceiling, in milliseconds.
   * @default {DEFAULT_BACKOFF_MAX_MS} (30 s)
   */
  maxDelayMs?: number;
  /**
   * Factor by which the ceiling grows after each failure.
   * @default {2}
   */
  multiplier?: number;
  /**
   * Ceiling of the delay before the first reconnect after a dropped session,
   * in milliseconds; capped by `maxDelayMs`.
   * @default {DEFAULT_RECONNECT_SPREAD_MS} (5 s)
   */
  reconnectSpreadMs?: number;
  /**
   * Returns a number in `[0, 1)`; injected by tests.
   * @default {Math.random}
   */
  random?: () => number;
}

/**
 * Computes successive retry delays.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 30_000 });
 * const first = backoff.nextDelayMs(); // somewhere in [0, 100)
 * const second = backoff.nextDelayMs(); // somewhere in [0, 200)
 * backoff.reset(); // after a successful connection
 * ```
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #multiplier: number;
  readonly #spread: number;
  readonly #random: () => number;
  #attempt = 0;

  /**
   * @param options Delays, growth factor and random source.
   */
  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialDelayMs ?? DEFAULT_BACKOFF_INITIAL_MS;
    this.#max = options.maxDelayMs ?? DEFAULT_BACKOFF_MAX_MS;
    this.#multiplier = options.multiplier ?? 2;
    this.#spread = options.reconnectSpreadMs ?? DEFAULT_RECONNECT_SPREAD_MS;
    this.#random = options.random ?? Math.random;
    if (!(this.#initial > 0) || !Number.isFinite(this.#initial)) {
      throw new RangeError(`Cannot create a backoff: invalid initialDelayMs ${this.#initial}`);
    }
    if (!(this.#max >= this.#initial) || !Number.isFinite(this.#max)) {
      throw new RangeError(`Cannot create a backoff: invalid maxDelayMs ${this.#max}`);
    }
    if (!(this.#multiplier >= 1) || !Number.isFinite(this.#multiplier)) {
      throw new RangeError(`Cannot create a backoff: invalid multiplier ${this.#multiplier}`);
    }
    if (!(this.#spread >= 0) || !Number.isFinite(this.#spread)) {
      throw new RangeError(`Cannot create a backoff: invalid reconnectSpreadMs ${this.#spread}`);
    }
  }

  /** Failures since the last {@linkcode Backoff.reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * The ceiling of the next delay, in milliseconds, without consuming it.
   *
   * @returns `min(maxDelayMs, initialDelayMs * multiplier^attempt)`.
   */
  ceilingMs(): number {
    // Math.pow overflows to Infinity for large attempts, which min() caps.
    return Math.min(this.#max, this.#initial * Math.pow(this.#multiplier, this.#attempt));
  }

  /**
   * Returns the delay before the next retry and grows the ceiling.
   *
   * @returns A delay in `[0, ceilingMs())`, in whole milliseconds.
   */
  nextDelayMs(): number {
    const ceiling = this.ceilingMs();
    this.#attempt++;
    return this.#jitter(ceiling);
  }

  /**
   * Returns the delay before the first reconnect after an established session
   * dropped, full jitter over the spread, so the agents of a fleet that lost
   * their server together return one by one. It counts as an attempt: a
   * server that keeps dropping sessions is retried ever more slowly.
   *
   * @returns A delay in `[0, min(reconnectSpreadMs, maxDelayMs))`, in whole milliseconds.
   */
  spreadDelayMs(): number {
    this.#attempt++;
    return this.#jitter(Math.min(this.#spread, this.#max));
  }

  /** A uniformly random whole number of milliseconds in `[0, ceiling)`. */
  #jitter(ceiling: number): number {
    const r = this.#random();
    const unit = r >= 0 && r < 1 ? r : 0;
    return Math.floor(unit * ceiling);
  }

  /** Starts over from the initial delay, e.g. after a connection succeeded. */
  reset(): void {
    this.#attempt = 0;
  }
}
