/**
 * Limits of the agent that are not part of the wire protocol. Each says what
 * it bounds and what happens at the bound.
 *
 * @module
 */

import { MAX_LINE_BYTES } from "../protocol/mod.ts";

/**
 * Room kept on a protocol line for `EVENT <stream> <position> `: the verb,
 * a stream id of at most 64 characters, a position of at most 16 digits and
 * three spaces take 90 bytes; the rest is margin.
 */
export const EVENT_PREFIX_RESERVE_BYTES = 128;

/**
 * Longest log line the agent sends, in bytes (UTF-8, terminator excluded), so
 * that `EVENT <stream> <position> <line>` fits in {@linkcode MAX_LINE_BYTES}.
 * A longer line is dropped, counted in `linesTooLong` and logged with its
 * file and offset.
 */
export const MAX_EVENT_MESSAGE_BYTES = MAX_LINE_BYTES - EVENT_PREFIX_RESERVE_BYTES;

/**
 * Default window of lines sent and not yet acknowledged. When it is full the
 * agent stops reading files until ACKs arrive (the files are the buffer), so
 * memory stays bounded however far behind the agent is.
 */
export const DEFAULT_MAX_IN_FLIGHT_LINES = 50_000;

/**
 * Default window of file bytes sent and not yet acknowledged; a second bound
 * next to {@linkcode DEFAULT_MAX_IN_FLIGHT_LINES} for long lines. A read may
 * overshoot it by one read buffer.
 */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;

/**
 * Warnings of one kind (lines too long, lines the server refused) logged
 * before further ones are only counted, so a bad file cannot flood the log.
 */
export const MAX_REPEATED_WARNINGS = 10;
