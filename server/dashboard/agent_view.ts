/**
 * A node as the web console shows it: the stored record plus a status the
 * server computes from its own clock and its own connection state.
 *
 * @module
 */

import { type AgentStatus, agentStatus } from "../agent_status.ts";
import type { AgentRecord } from "../store/store.ts";

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
  readonly status: AgentStatus;
}

/**
 * The status of a node, taking the live connection into account:
 *
 * - `stopped` once it said BYE (until it registers again);
 * - `disconnected` as soon as its connection is gone without BYE, else after
 *   3 missed heartbeat intervals (a half-open connection);
 * - `never_seen` when it registered but never sent a heartbeat and is gone;
 * - otherwise `alive` or `late` by the age of its last heartbeat.
 *
 * @param agent The stored node.
 * @param now The server's clock, ms since the epoch.
 * @param heartbeatSeconds The heartbeat interval agents use.
 * @param connected Whether this server holds a registered connection from it.
 * @returns The status.
 * @example
 * ```ts
 * consoleAgentStatus(agent, Date.now(), 30, listener.connectedAgentIds().has(agent.id));
 * ```
 */
export function consoleAgentStatus(
  agent: AgentRecord,
  now: number,
  heartbeatSeconds: number,
  connected: boolean,
): AgentStatus {
  if (agent.stoppedAt !== null) return "stopped";
  if (!connected) return agent.lastHeartbeat === null ? "never_seen" : "disconnected";
  return agentStatus(agent, now, heartbeatSeconds);
}

/**
 * Builds the console's view of a node.
 *
 * @param agent The stored node.
 * @param context Clock, heartbeat interval, connection state and recent counts.
 * @returns The row.
 * @example
 * ```ts
 * toAgentView(agent, { now: Date.now(), heartbeatSeconds: 30, connected: true, eventsLastHour: 12 });
 * ```
 */
export function toAgentView(
  agent: AgentRecord,
  context: {
    now: number;
    heartbeatSeconds: number;
    connected: boolean;
    eventsLastHour: number | null;
  },
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
    status: consoleAgentStatus(agent, context.now, context.heartbeatSeconds, context.connected),
  };
}
