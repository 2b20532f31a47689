/**
 * Shows the full-text index catching up after a start that found it far
 * behind (an upgrade that rebuilds it, a restart after a burst): the writer
 * fills it behind ingest (server/ingest/text_index_lag.ts), and this watches
 * its lag from the main thread's store and reports through a
 * {@linkcode Progress} until it is caught up.
 *
 * @module
 */

import type { StartProgress } from "../../common/progress.ts";
import type { Store } from "../store/mod.ts";

/**
 * Lag at start, in events, from which the catch-up is reported: less is
 * indexed within about a second and needs no explanation.
 */
export const TEXT_INDEX_CATCHUP_REPORT_EVENTS = 100_000;

/** How often the lag is read while the index catches up, in ms. */
export const TEXT_INDEX_CATCHUP_POLL_MS = 1_000;

/** A running watch; stop it at shutdown. */
export interface TextIndexCatchup {
  /** Resolves when the index has caught up, or the watch was stopped. */
  readonly done: Promise<void>;
  /** Stops watching. Idempotent. */
  stop(): void;
}

/**
 * Reports the catch-up of the full-text index when it starts far behind.
 *
 * @param store A store that can tell the index's lag.
 * @param progress Starts the report (the server logs it).
 * @param options The threshold and the polling interval.
 * @returns The watch; nothing is reported when the lag is small.
 * @example
 * ```ts
 * const catchup = watchTextIndexCatchup(store, startProgress);
 * catchup.stop();
 * ```
 */
export function watchTextIndexCatchup(
  store: Pick<Store, "textIndexLag">,
  progress: StartProgress,
  options: { minEvents?: number; pollMs?: number } = {},
): TextIndexCatchup {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: () => void = () => {};
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });
  const done = (async () => {
    if (!store.textIndexLag) return;
    const start = await store.textIndexLag().catch(() => 0);
    if (start < (options.minEvents ?? TEXT_INDEX_CATCHUP_REPORT_EVENTS) || stopped) return;
    const report = progress("Full-text index catching up", "events", start);
    let lag = start;
    while (!stopped && lag > 0) {
      await sleep(options.pollMs ?? TEXT_INDEX_CATCHUP_POLL_MS);
      lag = await store.textIndexLag().catch(() => lag);
      // Events stored meanwhile add to the lag: the progress never goes back.
      report.update(Math.max(0, start - lag));
    }
    if (lag === 0) report.finish(start);
    else report.abandon();
  })();
  return {
    done,
    stop() {
      stopped = true;
      clearTimeout(timer);
      wake();
    },
  };
}
