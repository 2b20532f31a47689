/**
 * Waiting for a condition with a deadline, instead of sleeping a fixed time.
 *
 * @module
 */

/** Options of {@linkcode waitFor}. */
export interface WaitForOptions {
  /**
   * Give up after this long, in ms.
   * @default {10000}
   */
  timeoutMs?: number;
  /**
   * Time between two checks, in ms.
   * @default {10}
   */
  intervalMs?: number;
  /** Shown in the error when the deadline passes. */
  message?: string;
}

/**
 * Resolves with the first truthy value of `condition`, polling until the deadline.
 *
 * @param condition Checked repeatedly; may be async.
 * @param options Deadline and poll interval.
 * @returns The truthy value.
 * @throws {Error} When the deadline passes first.
 * @example
 * ```ts
 * await waitFor(async () => (await store.countEvents()) === 10);
 * ```
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for ${options.message ?? "condition"}${last ? `: ${last}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}
