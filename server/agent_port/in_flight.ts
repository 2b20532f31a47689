/**
 * The work a connection has started and not finished (batches on their way to
 * the writer, commands waiting for the store), counted so that closing can
 * wait for all of it. A count costs one reaction per piece of work; a set of
 * promises cost two more promises and the set's own upkeep, per batch.
 *
 * @module
 */

/**
 * A count of unfinished work, and waiters for it to reach zero.
 *
 * @example
 * ```ts
 * const inFlight = new InFlight();
 * inFlight.track(store.append(batch));
 * await inFlight.settled(); // once the append has settled, either way
 * ```
 */
export class InFlight {
  #count = 0;
  #waiters: (() => void)[] = [];
  readonly #end = (): void => {
    if (--this.#count > 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  };

  /** Pieces of work not settled yet. */
  get count(): number {
    return this.#count;
  }

  /**
   * Counts `work` until it settles, fulfilled or rejected. The caller still
   * handles its outcome: this only watches it.
   *
   * @param work A promise whose rejection the caller handles.
   */
  track(work: Promise<unknown>): void {
    this.#count++;
    work.then(this.#end, this.#end);
  }

  /**
   * Resolves once nothing is in flight, work tracked after this call included.
   *
   * @returns Resolves when the count is zero.
   */
  settled(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
