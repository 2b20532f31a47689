/**
 * The status of a syslog source, from the time of its last message. A plain
 * syslog sender has no heartbeat, so silence is all the server can observe.
 *
 * @module
 */

import type { SourceRecord } from "../store/mod.ts";

/**
 * - `active`: a message arrived within the last `silentAfterSeconds`;
 * - `silent`: nothing since.
 */
export type SourceStatus = "active" | "silent";

/**
 * Seconds without a message after which a source counts as silent unless
 * configured otherwise. Devices log far less regularly than agents
 * heartbeat, so the default is long.
 */
export const DEFAULT_SOURCE_SILENT_AFTER_SECONDS = 3600;

/**
 * Classifies a syslog source.
 *
 * @param source The stored source.
 * @param now The server's current time, ms since the epoch.
 * @param silentAfterSeconds Seconds without a message after which it is silent.
 * @returns Its status.
 * @example
 * ```ts
 * sourceStatus(source, Date.now(), DEFAULT_SOURCE_SILENT_AFTER_SECONDS); // "active"
 * ```
 */
export function sourceStatus(
  source: SourceRecord,
  now: number,
  silentAfterSeconds: number = DEFAULT_SOURCE_SILENT_AFTER_SECONDS,
): SourceStatus {
  return now - source.lastSeen <= silentAfterSeconds * 1000 ? "active" : "silent";
}
