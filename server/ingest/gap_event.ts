/**
 * How the server stores a gap event (protocol/gap_event.ts): an agent's
 * report that bytes of a followed file could not be delivered. It is flagged
 * {@linkcode EVENT_FLAGS.gap}, attributed to the program `nms-agent` with
 * severity `warning`, so the console and `nms-server logs --gaps` show it.
 *
 * @module
 */

import { GAP_EVENT_PREFIX } from "../../protocol/mod.ts";
import { EVENT_FLAGS, type EventBatch } from "../store/mod.ts";

/** Program name gap events are stored under. */
export const GAP_EVENT_PROGRAM = "nms-agent";

/** Syslog severity of gap events: 4, warning. */
export const GAP_EVENT_SEVERITY = 4;

/**
 * Marks event `i` of a parsed batch as a gap event.
 *
 * @param batch The batch being parsed (its columns are written in place).
 * @param i Index of the event, whose raw text starts with {@linkcode GAP_EVENT_PREFIX}.
 * @example
 * ```ts
 * if (isGapEvent(batch.stream[i], batch.raw[i])) markGap(batch, i);
 * ```
 */
export function markGap(batch: EventBatch, i: number): void {
  batch.flags[i] = EVENT_FLAGS.gap;
  batch.program[i] = GAP_EVENT_PROGRAM;
  batch.severity[i] = GAP_EVENT_SEVERITY;
  // "nms-agent: gap: ..." is stored as program "nms-agent", message "gap: ...".
  const raw = batch.raw[i]!;
  const start = raw.startsWith(GAP_EVENT_PREFIX) ? GAP_EVENT_PREFIX.length - "gap: ".length : 0;
  batch.message[i] = raw.slice(start);
  if (batch.messageStart) batch.messageStart[i] = start;
}
