/**
 * How far the full-text index may trail ingest (`--text-index-max-lag`,
 * `--text-index-max-catchup`): the writer indexes for full-text search when it
 * is idle, so a burst is stored at full speed and indexed after it. Under a
 * load that takes the index past a bound, each group commit is followed by an
 * indexing step as large as the group: the lag stops growing, and ingest slows
 * by what indexing costs (docs/BENCHMARKS.md).
 *
 * Two bounds, each off at 0, the smaller applying: a number of events, and the
 * seconds the index would need to catch up once ingest stops, at the rate the
 * writer measured when it last caught up (over a run of idle steps, the time
 * between them included, which is slower than the steps alone).
 *
 * @module
 */

import type { Store } from "../store/mod.ts";

/**
 * Events added to the full-text index per step when the writer is idle: a
 * batch arriving meanwhile waits for at most one step (docs/BENCHMARKS.md).
 */
export const TEXT_INDEX_STEP_ROWS = 5_000;

/**
 * Bytes of raw lines after which an idle indexing step stops, whatever its
 * rows: indexing costs about the same per byte, so a step of long lines (a
 * flood of 64 KiB lines) blocks the writer no longer than one of ordinary
 * lines, which stay under it (docs/BENCHMARKS.md).
 */
export const TEXT_INDEX_STEP_BYTES = 1024 * 1024;

/**
 * Indexing rate assumed until the writer has timed a catch-up, in events/s:
 * below what a catch-up measures, so a catch-up bound errs on the side of a
 * fresher index until it is measured (docs/BENCHMARKS.md).
 */
export const ASSUMED_TEXT_INDEX_RATE = 100_000;

/** Largest `--text-index-max-catchup`, in seconds (an hour). */
export const MAX_TEXT_INDEX_CATCHUP_SECONDS = 3_600;

/**
 * Runs of idle steps shorter than this are not timed: one merge or one pause
 * would dominate them.
 */
export const MIN_TIMED_RUN_ROWS = 10 * TEXT_INDEX_STEP_ROWS;

/** Weight of the newest run in the measured rate (an exponential moving average). */
const RATE_SMOOTHING = 0.5;

/** The two bounds; 0 turns a bound off, and with both off the index is filled only when idle. */
export interface TextIndexLagLimits {
  /** Most events stored but not yet indexed. */
  readonly maxEvents: number;
  /** Most seconds the index may need to catch up once ingest stops. */
  readonly maxCatchupSeconds: number;
}

/**
 * The writer's bound on the index's lag: the configured limits plus the rate
 * at which the writer's idle steps last caught the index up.
 *
 * @example
 * ```ts
 * const bound = new TextIndexLagBound({ maxEvents: 2_000_000, maxCatchupSeconds: 2 });
 * bound.idleStep(5_000, 0, 12); // ... steps back to back, then one that finds less to do:
 * bound.idleStep(1_200, 238, 241);
 * bound.maxEvents(); // 2 s at the run's rate, or 2,000,000 if smaller
 * ```
 */
export class TextIndexLagBound {
  readonly limits: TextIndexLagLimits;
  #rate = ASSUMED_TEXT_INDEX_RATE;
  #timed = false;
  #runRows = 0;
  #runStart = 0;
  #runEnd = 0;

  /** @param limits The configured bounds. */
  constructor(limits: TextIndexLagLimits) {
    this.limits = limits;
  }

  /** Catch-up rate in events/s: measured, or {@linkcode ASSUMED_TEXT_INDEX_RATE} before any run. */
  get rate(): number {
    return this.#rate;
  }

  /**
   * Notes one idle indexing step of {@linkcode TEXT_INDEX_STEP_ROWS}. Steps
   * back to back make a run; a step that finds less to do ends it.
   *
   * @param rows Events the step indexed.
   * @param startMs When it started (`performance.now()`).
   * @param endMs When it ended.
   */
  idleStep(rows: number, startMs: number, endMs: number): void {
    if (this.#runRows === 0) this.#runStart = startMs;
    this.#runRows += rows;
    this.#runEnd = endMs;
    if (rows < TEXT_INDEX_STEP_ROWS) this.endRun();
  }

  /**
   * Ends the current run of idle steps (the index caught up, or ingest came
   * back) and takes its rate into the measured one when it was long enough.
   */
  endRun(): void {
    const rows = this.#runRows;
    const ms = this.#runEnd - this.#runStart;
    this.#runRows = 0;
    if (rows < MIN_TIMED_RUN_ROWS || !(ms > 0)) return;
    const rate = rows / (ms / 1000);
    this.#rate = this.#timed ? this.#rate + RATE_SMOOTHING * (rate - this.#rate) : rate;
    this.#timed = true;
  }

  /** Unindexed events beyond which ingest gives the indexer a turn; 0 when both bounds are off. */
  maxEvents(): number {
    const { maxEvents, maxCatchupSeconds } = this.limits;
    const bounds = [
      ...(maxEvents > 0 ? [maxEvents] : []),
      ...(maxCatchupSeconds > 0 ? [Math.max(1, Math.round(maxCatchupSeconds * this.#rate))] : []),
    ];
    return bounds.length === 0 ? 0 : Math.min(...bounds);
  }
}

/**
 * After a group commit of `rows` events: if the index trails by more than the
 * bound allows, indexes as many as the group held (at least one idle step).
 *
 * @param store The writer's store; backends without a deferred index are left alone.
 * @param rows Events the group commit stored.
 * @param bound The bound.
 * @returns Events indexed by this call.
 * @example
 * ```ts
 * await keepTextIndexLagBounded(store, 20_000, bound);
 * ```
 */
export async function keepTextIndexLagBounded(
  store: Pick<Store, "indexText" | "textIndexLag">,
  rows: number,
  bound: TextIndexLagBound,
): Promise<number> {
  const maxLag = bound.maxEvents();
  if (maxLag <= 0 || rows <= 0 || !store.indexText || !store.textIndexLag) return 0;
  if (await store.textIndexLag() <= maxLag) return 0;
  return await store.indexText(Math.max(TEXT_INDEX_STEP_ROWS, rows));
}
