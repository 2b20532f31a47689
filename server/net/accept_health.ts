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

  /** Whether the last accepts did not all fail. */
  get ok(): boolean {
    return this.#failures < ACCEPT_FAILURES_UNHEALTHY;
  }
}
