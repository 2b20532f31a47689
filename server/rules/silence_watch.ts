/**
 * The "agent silent" check: once per heartbeat interval the main thread reads
 * the agents and, for each one that has just become silent (no heartbeat for
 * `HEARTBEAT_MISSES_BEFORE_SILENT` intervals, see `server/agent_status.ts`),
 * records one NMS event, which built-in rule 8804 turns into an alert. An
 * agent is reported once per silence: again only after it has been heard
 * from. Agents already silent when the server starts are not reported: their
 * silence began while nobody was watching.
 *
 * @module
 */

import { type AgentStatus, agentStatus } from "../agent_status.ts";
import type { EventBatch, Store } from "../store/store.ts";
import { agentSilentEvent } from "./nms_events.ts";

/** Statuses that count as silent. */
const SILENT: ReadonlySet<AgentStatus> = new Set(["disconnected", "never_seen"]);

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
  /** Agents reported (or already silent at start) and not heard from since. */
  readonly #silent = new Set<number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #checking: Promise<number> | null = null;
  #primed = false;

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
    let agents;
    try {
      agents = await this.#options.store.listAgents();
    } catch (error) {
      this.#options.onError?.(`Cannot check for silent agents: ${(error as Error).message}`);
      return 0;
    }
    const now = this.#now();
    const { heartbeatSeconds } = this.#options;
    let reported = 0;
    for (const agent of agents) {
      if (!SILENT.has(agentStatus(agent, now, heartbeatSeconds))) {
        this.#silent.delete(agent.id);
        continue;
      }
      if (this.#silent.has(agent.id)) continue;
      this.#silent.add(agent.id);
      if (!this.#primed) continue;
      this.#options.record(agentSilentEvent(agent, now, heartbeatSeconds));
      reported++;
    }
    this.#primed = true;
    return reported;
  }
}
