/**
 * The "agent silent" check: once per heartbeat interval the main thread asks
 * the store for the agents whose silence began since the previous check (no
 * heartbeat for `HEARTBEAT_MISSES_BEFORE_SILENT` intervals, see
 * `server/liveness/agent_status.ts`) and records one NMS event for each, which
 * built-in rule 8804 turns into an alert. The silence cutoff moves with the
 * clock, so each heartbeat crosses it once: an agent is reported once per
 * silence, again only after it has been heard from, and a check costs the
 * agents that crossed, not the agents known. Agents already silent when the
 * server starts are not reported: their silence began while nobody was
 * watching.
 *
 * @module
 */

import { statusCutoffs } from "../liveness/mod.ts";
import type { EventBatch, Store } from "../store/store.ts";
import { agentSilentEvent } from "./nms_events.ts";

/** Options of {@linkcode AgentSilenceWatch}. */
export interface SilenceWatchOptions {
  /** Where agents are read (the main thread's store). */
  readonly store: Store;
  /** The agents' heartbeat interval, in seconds. */
  readonly heartbeatSeconds: number;
  /** Stores an NMS event (the worker pool's `recordEvents`). */
  readonly record: (batch: EventBatch) => void;
  /**
   * Time between two checks, in ms.
   * @default {heartbeatSeconds * 1000}
   */
  readonly intervalMs?: number;
  /**
   * The clock, ms since the epoch.
   * @default {Date.now}
   */
  readonly now?: () => number;
  /** Told when reading the agents fails. */
  readonly onError?: (message: string) => void;
}

/**
 * Watches for agents that fall silent.
 *
 * @example
 * ```ts
 * const watch = new AgentSilenceWatch({ store, heartbeatSeconds: 30, record: (b) => pool.recordEvents(b) });
 * watch.start();
 * watch.stop();
 * ```
 */
export class AgentSilenceWatch {
  readonly #options: SilenceWatchOptions;
  readonly #now: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #checking: Promise<number> | null = null;
  /** The silence cutoff of the last successful check; null before the first. */
  #cutoff: number | null = null;

  /** @param options Store, interval, event sink and clock. */
  constructor(options: SilenceWatchOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Starts the periodic check (the first one only notes who is silent already). */
  start(): void {
    if (this.#timer !== undefined) return;
    void this.check();
    const interval = this.#options.intervalMs ?? this.#options.heartbeatSeconds * 1000;
    this.#timer = setInterval(() => void this.check(), Math.max(interval, 100));
  }

  /** Stops checking and waits for a check in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#checking;
  }

  /**
   * Checks once.
   *
   * @returns How many agents were reported silent by this check.
   */
  check(): Promise<number> {
    this.#checking ??= this.#check().finally(() => this.#checking = null);
    return this.#checking;
  }

  async #check(): Promise<number> {
    const now = this.#now();
    const { heartbeatSeconds } = this.#options;
    const cutoff = statusCutoffs(now, heartbeatSeconds).silentBefore;
    const since = this.#cutoff;
    // The first check only notes where the cutoff stands; a clock stepped
    // back waits for it to pass the last cutoff again.
    if (since === null || cutoff <= since) {
      this.#cutoff = Math.max(since ?? cutoff, cutoff);
      return 0;
    }
    let agents;
    try {
      agents = await this.#options.store.listAgentsFallenSilent({ since, before: cutoff });
    } catch (error) {
      this.#options.onError?.(`Cannot check for silent agents: ${(error as Error).message}`);
      return 0;
    }
    this.#cutoff = cutoff;
    for (const agent of agents) {
      this.#options.record(agentSilentEvent(agent, now, heartbeatSeconds));
    }
    return agents.length;
  }
}
