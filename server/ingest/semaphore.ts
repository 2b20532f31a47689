/**
 * A counting semaphore with FIFO waiters: the credit window that bounds how
 * much work is queued between threads.
 *
 * @module
 */

/**
 * Hands out at most `capacity` permits; `acquire()` waits in FIFO order.
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
  readonly #waiters: (() => void)[] = [];

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

  /** Takes a permit, waiting while none is free. */
  acquire(): Promise<void> {
    if (this.#available > 0 && this.#waiters.length === 0) {
      this.#available--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Returns a permit, waking the longest waiter. */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#available++;
  }
}
