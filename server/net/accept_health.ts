/**
 * Whether an accept (or receive) loop still serves: `/healthz` reports a
 * listener as failing once its last {@linkcode ACCEPT_FAILURES_UNHEALTHY}
 * accepts in a row failed (descriptors exhausted, socket closed under it),
 * and as healthy again after the next success. A single failure, which the
 * loops log and retry, is not enough.
 *
 * @module
 */

/** Consecutive failed accepts after which a listener counts as failing. */
export const ACCEPT_FAILURES_UNHEALTHY = 10;

/** Pause after a failed accept or receive (EMFILE and friends) before trying again, in ms. */
export const ACCEPT_ERROR_PAUSE_MS = 100;

/**
 * The health of one accept loop.
 *
 * @example
 * ```ts
 * const health = new AcceptHealth();
 * health.failed(); // a failed accept
 * health.accepted(); // a successful one
 * health.ok; // true
 * ```
 */
export class AcceptHealth {
  #failures = 0;

  /** Notes a successful accept. */
  accepted(): void {
    this.#failures = 0;
  }

  /** Notes a failed accept. */
  failed(): void {
    this.#failures++;
  }

  /**
   * Accepts (or receives) the next item for a loop, noting each outcome. A
   * failure while the loop runs is reported, then tried again after
   * {@linkcode ACCEPT_ERROR_PAUSE_MS}, so one failure does not stop serving.
   *
   * @param attempt One accept or receive.
   * @param stopped Whether the loop was stopped (a failure then ends it).
   * @param report Called with the message of each failure.
   * @returns The item, or null once the loop is stopped.
   * @example
   * ```ts
   * const conn = await health.next(() => listener.accept(), () => stopped, (m) => log.error(m));
   * ```
   */
  async next<T>(
    attempt: () => Promise<T>,
    stopped: () => boolean,
    report: (message: string) => void,
  ): Promise<T | null> {
    for (;;) {
      try {
        const item = await attempt();
        this.accepted();
        return item;
      } catch (error) {
        if (stopped()) return null;
        this.failed();
        report((error as Error).message);
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_ERROR_PAUSE_MS));
      }
    }
  }

  /** Whether the last accepts did not all fail. */
  get ok(): boolean {
    return this.#failures < ACCEPT_FAILURES_UNHEALTHY;
  }
}
