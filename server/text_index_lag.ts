/**
 * The full-text index's lag bound (`--text-index-max-lag`): the writer
 * indexes for full-text search when it is idle, so a burst is stored at full
 * speed and indexed after it. Under a load longer than the bound, each group
 * commit is followed by an indexing step as large as the group: the lag stops
 * growing, and ingest slows by what indexing costs (docs/BENCHMARKS.md).
 *
 * @module
 */

import type { Store } from "./store/store.ts";

/**
 * Events added to the full-text index per step when the writer is idle. A step
 * takes about 25 ms here, so a batch arriving meanwhile waits at most that.
 */
export const TEXT_INDEX_STEP_ROWS = 5_000;

/**
 * After a group commit of `rows` events: if the index trails by more than
 * `maxLag` events, indexes as many as the group held (at least one idle step).
 *
 * @param store The writer's store; backends without a deferred index are left alone.
 * @param rows Events the group commit stored.
 * @param maxLag The bound; 0 never indexes here.
 * @returns Events indexed by this call.
 * @example
 * ```ts
 * await keepTextIndexLagBounded(store, 20_000, 2_000_000);
 * ```
 */
export async function keepTextIndexLagBounded(
  store: Pick<Store, "indexText" | "textIndexLag">,
  rows: number,
  maxLag: number,
): Promise<number> {
  if (maxLag <= 0 || rows <= 0 || !store.indexText || !store.textIndexLag) return 0;
  if (await store.textIndexLag() <= maxLag) return 0;
  return await store.indexText(Math.max(TEXT_INDEX_STEP_ROWS, rows));
}
