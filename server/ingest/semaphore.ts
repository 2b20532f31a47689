/**
 * A counting semaphore with FIFO waiters: the credit window that bounds how
 * much work is queued between threads.
 *
 * @module
 */

/**
 * Hands out at most `capacity` permits; `acquire()` waits in FIFO order. A
 * caller may take several permits at once (a batch takes one per line).
 *
 * @example
 * ```ts
 * const credits = new Semaphore(64);
 * await credits.acquire();
 * try { /* send a batch *\/ } finally { credits.release(); }
 * ```
 */
export class Semaphore {
  #available: number;
  readonly #waiters: { permits: number; resolve: () => void }[] = [];

  /** @param capacity Permits available at once. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Cannot create semaphore: invalid capacity ${capacity}`);
    }
    this.#available = capacity;
  }

  /** Permits currently handed out. */
  get inUse(): number {
    return this.capacity - this.#available;
  }

  /**
   * Takes permits, waiting while too few are free and behind earlier waiters.
   *
   * @param permits How many, at most {@linkcode capacity}.
   * @returns Resolves once they are taken.
   */
  acquire(permits = 1): Promise<void> {
    if (this.tryAcquire(permits)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ permits, resolve }));
  }

  /**
   * Takes permits only if they are free now and nobody waits before.
   *
   * @param permits How many, at most {@linkcode capacity}.
   * @returns Whether they were taken.
   */
  tryAcquire(permits = 1): boolean {
    if (!Number.isInteger(permits) || permits < 1 || permits > this.capacity) {
      throw new RangeError(`Cannot acquire ${permits} of ${this.capacity} permits`);
    }
    if (this.#available < permits || this.#waiters.length > 0) return false;
    this.#available -= permits;
    return true;
  }

  /**
   * Returns permits, waking the longest waiters they are enough for.
   *
   * @param permits How many, as many as were acquired.
   */
  release(permits = 1): void {
    this.#available += permits;
    while (this.#waiters.length > 0 && this.#available >= this.#waiters[0]!.permits) {
      const next = this.#waiters.shift()!;
      this.#available -= next.permits;
      next.resolve();
    }
  }
}
