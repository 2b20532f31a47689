/**
 * A node as the web console shows it: the stored record, the status the
 * store computed from its connection state and the server's clock, and
 * whether it is connected to this server.
 *
 * @module
 */

import type { AgentRow, AgentStatus } from "../store/store.ts";

/** One row of `GET /api/agents`. */
export interface AgentView {
  readonly id: number;
  readonly hostname: string;
  readonly os: string;
  readonly version: string;
  readonly address: string;
  /** First registration, ms since the epoch. */
  readonly registeredAt: number;
  readonly lastSeen: number;
  readonly lastHeartbeat: number | null;
  readonly uptimeSeconds: number | null;
  /** Bytes the agent reported it is behind, or null when it never said. */
  readonly lagBytes: number | null;
  /** Events with an event time in the last hour, or null while statistics load. */
  readonly eventsLastHour: number | null;
  /** Whether the node has an open, registered connection to this server. */
  readonly connected: boolean;
  /** When its last connection closed without BYE, or null while connected or stopped. */
  readonly disconnectedAt: number | null;
  readonly status: AgentStatus;
}

/**
 * Builds the console's view of a node.
 *
 * @param agent The stored node with the status its query computed.
 * @param context Connection state and recent counts.
 * @returns The row.
 * @example
 * ```ts
 * toAgentView(agent, { connected: true, eventsLastHour: 12 });
 * ```
 */
export function toAgentView(
  agent: AgentRow,
  context: { connected: boolean; eventsLastHour: number | null },
): AgentView {
  return {
    id: agent.id,
    hostname: agent.hostname,
    os: agent.os,
    version: agent.version,
    address: agent.address,
    registeredAt: agent.firstSeen,
    lastSeen: agent.lastSeen,
    lastHeartbeat: agent.lastHeartbeat,
    uptimeSeconds: agent.uptimeSeconds,
    lagBytes: agent.lagBytes,
    eventsLastHour: context.eventsLastHour,
    connected: context.connected,
    disconnectedAt: agent.disconnectedAt,
    status: agent.status,
  };
}
