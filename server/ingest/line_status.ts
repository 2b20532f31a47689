/**
 * The answer to a batch: one status byte per line. The store gives
 * `APPEND_STATUS.stored` (0) or `.duplicate` (1) for each line it was given;
 * a line the pool worker rejected gets a status from 2 up that names its
 * `ACK FAIL` reason. The two are merged on the main thread
 * ({@linkcode mergeStatuses}), so rejected lines never pass through the writer.
 *
 * @module
 */

import { FAIL, type FailReason } from "../../protocol/mod.ts";

/** Every ACK FAIL reason, indexed for {@linkcode failureStatus}. */
const FAIL_REASONS: readonly FailReason[] = Object.values(FAIL);

/** Statuses from this value up mean the line was rejected (below: APPEND_STATUS). */
const FIRST_FAILURE_STATUS = 2;

/**
 * Encodes a rejected line's reason as a status byte, so one status array
 * answers a whole batch.
 *
 * @param reason The ACK FAIL reason.
 * @returns A status of at least 2.
 * @example
 * ```ts
 * failureReason(failureStatus(FAIL.usageEvent)); // FAIL.usageEvent
 * ```
 */
export function failureStatus(reason: FailReason): number {
  return FIRST_FAILURE_STATUS + FAIL_REASONS.indexOf(reason);
}

/**
 * Decodes a status byte.
 *
 * @param status A line's status.
 * @returns The ACK FAIL reason, or null when the line was stored or a duplicate.
 * @example
 * ```ts
 * failureReason(0); // null
 * ```
 */
export function failureReason(status: number): FailReason | null {
  return status < FIRST_FAILURE_STATUS ? null : FAIL_REASONS[status - FIRST_FAILURE_STATUS] ?? null;
}

/**
 * One status per line of a batch: the lines the pool worker rejected keep
 * their failure status, the others take the store's statuses in order.
 *
 * @param rejected Per line: 0 when it went to the store, else its failure
 *   status; null when no line was rejected.
 * @param stored The store's status for each line it was given, in order.
 * @returns A status per line of the batch.
 * @example
 * ```ts
 * mergeStatuses(Uint8Array.of(0, failureStatus(FAIL.usageEvent), 0), Uint8Array.of(0, 1));
 * // [0, failureStatus(FAIL.usageEvent), 1]
 * ```
 */
export function mergeStatuses(rejected: Uint8Array | null, stored: Uint8Array): Uint8Array {
  if (!rejected) return stored;
  const merged = new Uint8Array(rejected.length);
  let next = 0;
  for (let i = 0; i < rejected.length; i++) {
    merged[i] = rejected[i] === 0 ? stored[next++]! : rejected[i]!;
  }
  return merged;
}
