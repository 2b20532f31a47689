/**
 * Events that NMS writes about itself (logins, registrations), stored beside
 * the collected logs so that the dashboard and rules see them too.
 *
 * @module
 */

import { EVENT_FLAGS, type EventBatch } from "./store/mod.ts";

/** Program name under which NMS's own events are stored. */
export const NMS_PROGRAM = "nms-server";

/** Syslog facility of NMS's own events: 10, security/authorization (authpriv). */
const AUTHPRIV_FACILITY = 10;

/**
 * Builds a one-event batch describing something NMS itself observed.
 *
 * @param event When, how severe (syslog 0-7) and what happened.
 * @returns A batch ready for `Store.appendEvents`.
 * @example
 * ```ts
 * securityEvent({ at: Date.now(), severity: 4, message: "Failed login for user admin from 10.0.0.9:5000" });
 * ```
 */
export function securityEvent(
  event: { at: number; severity: number; message: string },
): EventBatch {
  const raw = `${new Date(event.at).toISOString()} ${NMS_PROGRAM}: ${event.message}`;
  return {
    count: 1,
    receivedAt: event.at,
    agentId: null,
    ts: Float64Array.of(event.at),
    host: [NMS_PROGRAM],
    program: [NMS_PROGRAM],
    pid: Int32Array.of(-1),
    severity: Int8Array.of(event.severity),
    facility: Int8Array.of(AUTHPRIV_FACILITY),
    message: [event.message],
    raw: [raw],
    flags: Uint8Array.of(EVENT_FLAGS.internal),
    stream: [null],
    position: Float64Array.of(-1),
  };
}
