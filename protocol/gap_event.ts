/**
 * Gap events: how an agent tells the server, exactly once, that part of a
 * followed file could not be delivered (rotated and removed while the agent
 * was stopped, truncated before it was read, a line over the size limit).
 *
 * A gap event is an ordinary `EVENT <stream> <position> <message>` whose
 * stream is the lost incarnation's stream id followed by
 * {@linkcode GAP_STREAM_SUFFIX}, whose position is the file offset where the
 * gap ends, and whose message starts with {@linkcode GAP_EVENT_PREFIX}:
 *
 * ```
 * EVENT q8Jc0mRk3lq2wK0nTnVb3A.gap 81234 nms-agent: gap: 1234 bytes of "/var/log/syslog" (stream q8Jc0mRk3lq2wK0nTnVb3A, offsets 80000-81234) not delivered: rotated and removed while the agent was stopped
 * ```
 *
 * Agent stream ids are base64url and never contain a `.`, so a gap stream
 * cannot collide with a line's stream, and a resent gap event is dropped by
 * the server's (stream, position) check like any other line. The server sets
 * the `gap` flag on an event only when both the stream suffix and the
 * prefix match, so a log line that merely starts with the prefix is not
 * taken for one. See docs/PROTOCOL.md and docs/DELIVERY.md.
 *
 * @module
 */

/** Start of the message of every gap event. */
export const GAP_EVENT_PREFIX = "nms-agent: gap: ";

/** Appended to the lost incarnation's stream id to name the gap event's stream. */
export const GAP_STREAM_SUFFIX = ".gap";

/** What a gap event says. */
export interface GapEventFields {
  /** The followed path the bytes belong to. */
  readonly path: string;
  /** Stream id of the incarnation the bytes belong to (without the suffix). */
  readonly stream: string;
  /** Offset of the first byte not delivered. */
  readonly fromOffset: number;
  /** Offset just after the last byte known not to be delivered (the event's position). */
  readonly toOffset: number;
  /** Why, in a few words, e.g. `rotated and removed while the agent was stopped`. */
  readonly reason: string;
}

/**
 * The stream a gap event of an incarnation is sent on.
 *
 * @param stream The incarnation's stream id (at most 60 characters).
 * @returns `<stream>.gap`.
 * @example
 * ```ts
 * gapStreamOf("q8Jc0mRk3lq2wK0nTnVb3A"); // "q8Jc0mRk3lq2wK0nTnVb3A.gap"
 * ```
 */
export function gapStreamOf(stream: string): string {
  return `${stream}${GAP_STREAM_SUFFIX}`;
}

/**
 * Formats the message of a gap event. The path is JSON-quoted, so a name
 * with spaces, quotes or line breaks stays on one line and unambiguous.
 *
 * @param fields Path, stream, offsets and reason.
 * @returns The message, one line.
 * @example
 * ```ts
 * formatGapEvent({
 *   path: "/var/log/syslog", stream: "q8Jc0mRk3lq2wK0nTnVb3A",
 *   fromOffset: 80000, toOffset: 81234, reason: "rotated and removed while the agent was stopped",
 * });
 * // 'nms-agent: gap: 1234 bytes of "/var/log/syslog" (stream q8Jc0mRk3lq2wK0nTnVb3A, offsets 80000-81234) not delivered: rotated and removed while the agent was stopped'
 * ```
 */
export function formatGapEvent(fields: GapEventFields): string {
  const bytes = Math.max(0, fields.toOffset - fields.fromOffset);
  const reason = fields.reason.replace(/[\r\n\0]/g, " ");
  return `${GAP_EVENT_PREFIX}${bytes} bytes of ${
    JSON.stringify(fields.path)
  } (stream ${fields.stream}, offsets ${fields.fromOffset}-${fields.toOffset}) not delivered: ${reason}`;
}

/**
 * Whether an event is a gap event: its stream ends with
 * {@linkcode GAP_STREAM_SUFFIX} and its message starts with
 * {@linkcode GAP_EVENT_PREFIX}.
 *
 * @param stream The event's origin stream, or null for `BATCH_EVENT`.
 * @param message The event's text as received.
 * @returns True for a gap event.
 * @example
 * ```ts
 * isGapEvent("abc.gap", "nms-agent: gap: 5 bytes of ..."); // true
 * isGapEvent(null, "nms-agent: gap: 5 bytes of ..."); // false
 * ```
 */
export function isGapEvent(stream: string | null, message: string): boolean {
  return stream !== null && stream.endsWith(GAP_STREAM_SUFFIX) &&
    message.startsWith(GAP_EVENT_PREFIX);
}
