/**
 * How the agent learns that files changed: one `Deno.watchFs` over every
 * directory it watches (watch_hub.ts), and a slow backstop sweep whose cost
 * per second does not grow with the number of files (sweep.ts).
 *
 * @example
 * ```ts
 * import { Sweep, WatchHub } from "./mod.ts";
 * const hub = new WatchHub();
 * const sweep = new Sweep({ minIntervalMs: 1_000 });
 * hub.watch("/var/log", (change) => console.log(change.name, change.kind));
 * sweep.add({ check: () => console.log("stat the file") });
 * ```
 *
 * @module
 */

export { Sweep, SWEEP_CHECKS_PER_SECOND, SWEEP_TICK_MS, type SweepEntry } from "./sweep.ts";
export {
  DEFAULT_WATCH_RETRY_INTERVAL_MS,
  type DirChange,
  type DirListener,
  type DirSubscription,
  MAX_WATCHED_DIRS,
  WatchHub,
} from "./watch_hub.ts";
