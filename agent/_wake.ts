/**
 * A level-triggered wake-up for one waiting loop: `notify()` before `wait()`
 * is not lost, and many notifications collapse into one wake-up.
 *
 * @module
 */

/**
 * Wakes one waiting loop.
 *
 * @example
 * ```ts
 * const wake = new Wake();
 * setTimeout(() => wake.notify(), 10);
 * await wake.wait();
 * ```
 */
export class Wake {
  #signaled = false;
  #resolve: (() => void) | undefined;

  /** Wakes the waiter, or the next one if none waits now. */
  notify(): void {
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      this.#resolve = undefined;
      resolve();
    } else {
      this.#signaled = true;
    }
  }

  /**
   * Waits for the next notification (returns at once if one is pending).
   *
   * @returns Resolves when notified.
   */
  wait(): Promise<void> {
    if (this.#signaled) {
      this.#signaled = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
}
