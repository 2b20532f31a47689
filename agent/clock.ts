/**
 * The agent's view of time. Timers and "now" go through a {@linkcode Clock}
 * so tests can inject their own.
 *
 * @module
 */

/** Opaque id of a timer started by {@linkcode Clock.setTimeout}. */
export type TimerId = unknown;

/** Source of the current time and of one-shot timers. */
export interface Clock {
  /** Milliseconds since an arbitrary fixed point; only differences matter. */
  now(): number;
  /**
   * Calls `callback` once after `delayMs` milliseconds.
   *
   * @returns An id for {@linkcode Clock.clearTimeout}.
   */
  setTimeout(callback: () => void, delayMs: number): TimerId;
  /** Cancels a timer; unknown or fired ids are ignored. */
  clearTimeout(id: TimerId): void;
}

/** The real clock: `performance.now()` and the global timers. */
export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (id) => clearTimeout(id as number),
};

/**
 * Waits for a delay unless the signal aborts first. Never rejects.
 *
 * @param clock The clock that runs the timer.
 * @param delayMs How long to wait, in milliseconds.
 * @param signal Ends the wait early when aborted.
 * @returns Whether the full delay elapsed (false when aborted).
 * @example
 * ```ts
 * const elapsed = await sleep(SYSTEM_CLOCK, 100, AbortSignal.timeout(1_000));
 * ```
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clock.clearTimeout(id);
      resolve(false);
    };
    const id = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, delayMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
