/**
 * Timing of a benchmark's repeated work: the run times in order, and a
 * percentile of them.
 *
 * @module
 */

/**
 * Runs `work` `runs` times, one after the other.
 *
 * @param runs How many times.
 * @param work The work to time.
 * @returns The milliseconds of each run, ascending.
 * @example
 * ```ts
 * const times = await timeRuns(20, () => get("/api/agents"));
 * percentile(times, 0.5);
 * ```
 */
export async function timeRuns(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

/**
 * The value at fraction `p` of sorted values (1 gives the largest).
 *
 * @param sorted Values, ascending, at least one.
 * @param p Fraction, 0 to 1.
 * @returns The value.
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 0.5); // 3
 * ```
 */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
