/**
 * The status of a node, computed on the server from its own clock.
 *
 * @module
 */

import { HEARTBEAT_MISSES_BEFORE_SILENT } from "../../protocol/mod.ts";
import type { AgentRecord, AgentStatus, StatusCutoffs } from "../store/mod.ts";

export type { AgentStatus } from "../store/mod.ts";

/** Slack added to one heartbeat interval before a node counts as late, as a fraction of it. */
const GRACE_FRACTION = 0.5;

/**
 * Classifies a node.
 *
 * @param agent The stored node.
 * @param now The server's current time, ms since the epoch.
 * @param heartbeatSeconds The interval agents are configured with.
 * @returns Its status.
 * @example
 * ```ts
 * agentStatus(agent, Date.now(), 30); // "alive"
 * ```
 */
export function agentStatus(
  agent: AgentRecord,
  now: number,
  heartbeatSeconds: number,
): AgentStatus {
  if (agent.stoppedAt !== null) return "stopped";
  const last = agent.lastHeartbeat ?? null;
  if (last === null) {
    return now - agent.lastSeen <= heartbeatSeconds * 1000 * HEARTBEAT_MISSES_BEFORE_SILENT
      ? "alive"
      : "never_seen";
  }
  const age = now - last;
  const interval = heartbeatSeconds * 1000;
  if (age <= interval * (1 + GRACE_FRACTION)) return "alive";
  if (age <= interval * HEARTBEAT_MISSES_BEFORE_SILENT) return "late";
  return "disconnected";
}

/**
 * The instants that split heartbeats into alive, late and silent now: the
 * same rules as {@linkcode agentStatus}, for the stores' queries.
 *
 * @param now The server's current time, ms since the epoch.
 * @param heartbeatSeconds The interval agents are configured with.
 * @returns The cutoffs.
 * @example
 * ```ts
 * await store.queryAgents({ cutoffs: statusCutoffs(Date.now(), 30), status: "late" });
 * ```
 */
export function statusCutoffs(now: number, heartbeatSeconds: number): StatusCutoffs {
  const interval = heartbeatSeconds * 1000;
  return {
    lateBefore: now - interval * (1 + GRACE_FRACTION),
    silentBefore: now - interval * HEARTBEAT_MISSES_BEFORE_SILENT,
  };
}
