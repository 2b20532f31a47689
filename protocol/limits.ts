/**
 * Named limits and defaults of the NMS wire protocol. Every bound that the
 * server and the agent share lives here, so both sides agree on it.
 *
 * @module
 */

/**
 * Longest protocol line in bytes, newline excluded. A longer line is answered
 * with `ACK FAIL Line too long` and the rest of it, up to its newline, is
 * discarded without being buffered.
 */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Consecutive bad lines (each answered with `ACK FAIL`) after which the server
 * closes the connection. A good line resets the count.
 */
export const MAX_CONSECUTIVE_BAD_LINES = 100;

/** TCP port the server listens on unless told otherwise (the paper's port). */
export const DEFAULT_PORT = 8080;

/** Seconds between two agent heartbeats unless configured otherwise. */
export const DEFAULT_HEARTBEAT_SECONDS = 30;

/**
 * Missed heartbeat intervals after which a node counts as no longer alive.
 * With the default 30 s heartbeat a silent node is detected within 90 s.
 */
export const HEARTBEAT_MISSES_BEFORE_SILENT = 3;

/** Version of the NMS wire protocol described in docs/PROTOCOL.md. */
export const PROTOCOL_VERSION = 1;
