/**
 * NMS's own events about its agents, stored with program `nms-server` like the
 * login events of `server/security_event.ts`, so that the built-in rules
 * 880003 (new agent) and 880004 (agent silent) turn them into alerts and they
 * show in the logs too. The rules match the events' kind and structured
 * fields, never the text.
 *
 * @module
 */

import { SECURITY_EVENT_KINDS, securityEvent } from "../security_event.ts";
import type { AgentRecord, AgentRegistration, EventBatch } from "../store/store.ts";

/** Syslog severity of a registration: notice. */
const REGISTERED_SEVERITY = 5;

/** Syslog severity of a silent agent: warning. */
const SILENT_SEVERITY = 4;

/** Characters that would let a hostname change the meaning of the message. */
const UNSAFE = /[^\x21-\x7e]/g;

/**
 * The event recorded when a hostname registers for the first time.
 *
 * @param registration The REGISTER as the writer applies it.
 * @returns A one-event batch.
 * @example
 * ```ts
 * agentRegisteredEvent({ hostname: "web-01", version: "1.0", os: "Linux", address: "10.0.0.5:40000", at: Date.now() });
 * // message: "Registered new agent web-01 from 10.0.0.5:40000 (version 1.0, Linux)"
 * ```
 */
export function agentRegisteredEvent(registration: AgentRegistration): EventBatch {
  const address = registration.address;
  const bracketed = /^\[([^\]]*)\]:\d+$/.exec(address);
  const srcip = bracketed ? bracketed[1]! : address.replace(/:\d+$/, "");
  return securityEvent({
    at: registration.at,
    severity: REGISTERED_SEVERITY,
    kind: SECURITY_EVENT_KINDS.agentRegistered,
    fields: { agent: registration.hostname, srcip },
    message: `Registered new agent ${registration.hostname.replace(UNSAFE, "?")} from ${
      registration.address.replace(UNSAFE, "?")
    } (version ${registration.version}, ${registration.os})`,
  });
}

/**
 * The event recorded when an agent has sent no heartbeat for
 * `HEARTBEAT_MISSES_BEFORE_SILENT` intervals.
 *
 * @param agent The stored node.
 * @param at Server time, ms since the epoch.
 * @param heartbeatSeconds The agents' heartbeat interval.
 * @returns A one-event batch.
 * @example
 * ```ts
 * agentSilentEvent(agent, Date.now(), 30);
 * // message: "Agent web-01 is silent: no heartbeat since 2026-11-23T19:43:33.000Z (interval 30 s)"
 * ```
 */
export function agentSilentEvent(
  agent: AgentRecord,
  at: number,
  heartbeatSeconds: number,
): EventBatch {
  const last = agent.lastHeartbeat ?? agent.lastSeen;
  return securityEvent({
    at,
    severity: SILENT_SEVERITY,
    kind: SECURITY_EVENT_KINDS.agentSilent,
    fields: { agent: agent.hostname },
    message: `Agent ${agent.hostname.replace(UNSAFE, "?")} is silent: no heartbeat since ${
      new Date(last).toISOString()
    } (interval ${heartbeatSeconds} s)`,
  });
}
