/**
 * Which nodes hold a registered connection to this server, kept in memory,
 * and the lost connections written in batches: when thousands of agents
 * vanish at once, each costs a map update here and one row update in the
 * next batch, never a scan of the nodes. Late and silent need no write at
 * all: they follow from the last heartbeat and the clock
 * (`statusCutoffs()` in server/liveness/agent_status.ts).
 *
 * @module
 */

/**
 * Time between two batches of lost connections sent to the writer, in ms.
 * With the writer's group commit it bounds how long a vanished node is still
 * shown connected (docs/SCALING.md).
 */
export const LIVENESS_FLUSH_MS = 200;

/** A node whose last connection closed without BYE, as the writer records it. */
export interface LostNode {
  readonly agentId: number;
  /** When the connection closed, ms since the epoch. */
  readonly at: number;
  /** Its last REGISTER or HEARTBEAT through that connection, ms since the epoch. */
  readonly lastContact: number;
}

/** Options of {@linkcode AgentLiveness}. */
export interface AgentLivenessOptions {
  /** Records a batch of lost connections (the writer's `recordDisconnects`). */
  readonly record: (nodes: LostNode[]) => void;
  /**
   * Time between two batches, in ms.
   * @default {LIVENESS_FLUSH_MS}
   */
  readonly flushMs?: number;
  /**
   * The clock, ms since the epoch.
   * @default {Date.now}
   */
  readonly now?: () => number;
}

interface Node {
  /** Registered connections of the node to this server. */
  connections: number;
  lastContact: number;
}

/**
 * The connection state of the nodes on this server.
 *
 * @example
 * ```ts
 * const liveness = new AgentLiveness({ record: (nodes) => writer.recordDisconnects(nodes) });
 * liveness.registered(7, Date.now(), null);
 * liveness.closed(7, false); // recorded as disconnected with the next batch
 * await liveness.stop();
 * ```
 */
export class AgentLiveness {
  readonly #record: (nodes: LostNode[]) => void;
  readonly #flushMs: number;
  readonly #now: () => number;
  readonly #nodes = new Map<number, Node>();
  readonly #ids = new Set<number>();
  #lost: LostNode[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** @param options Where batches go, how often, and the clock. */
  constructor(options: AgentLivenessOptions) {
    this.#record = options.record;
    this.#flushMs = options.flushMs ?? LIVENESS_FLUSH_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A connection registered as a node (REGISTER answered).
   *
   * @param agentId The node.
   * @param at When it registered, ms since the epoch.
   * @param previous The node this connection was registered as before, or null.
   */
  registered(agentId: number, at: number, previous: number | null): void {
    if (previous === agentId) return this.heard(agentId, at);
    if (previous !== null) this.closed(previous, false);
    const node = this.#nodes.get(agentId);
    if (node) {
      node.connections++;
      node.lastContact = Math.max(node.lastContact, at);
    } else {
      this.#nodes.set(agentId, { connections: 1, lastContact: at });
      this.#ids.add(agentId);
    }
  }

  /**
   * A registered connection sent a heartbeat.
   *
   * @param agentId The node.
   * @param at When, ms since the epoch.
   */
  heard(agentId: number, at: number): void {
    const node = this.#nodes.get(agentId);
    if (node) node.lastContact = Math.max(node.lastContact, at);
  }

  /**
   * A registered connection closed. The node is lost when that was its last
   * one and it did not say BYE (BYE is recorded as stopped by itself).
   *
   * @param agentId The node.
   * @param saidBye Whether the connection said BYE.
   */
  closed(agentId: number, saidBye: boolean): void {
    const node = this.#nodes.get(agentId);
    if (!node) return;
    if (--node.connections > 0) return;
    this.#nodes.delete(agentId);
    this.#ids.delete(agentId);
    if (saidBye || this.#stopped) return;
    this.#lost.push({ agentId, at: this.#now(), lastContact: node.lastContact });
    this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }

  /**
   * Nodes with a registered connection to this server now.
   *
   * @returns A live, read-only view.
   */
  connectedAgentIds(): ReadonlySet<number> {
    return this.#ids;
  }

  /** Sends the lost connections collected so far as one batch. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#lost.length === 0) return;
    const lost = this.#lost;
    this.#lost = [];
    this.#record(lost);
  }

  /**
   * Sends what is collected and records nothing more: at shutdown, before the
   * listener closes every connection (the nodes of a stopping server age into
   * late and disconnected by the clock, or move to another server).
   */
  stop(): void {
    this.flush();
    this.#stopped = true;
  }
}
