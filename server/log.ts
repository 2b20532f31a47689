/**
 * The server's diagnostics on stderr, through the shared logger of
 * common/log.ts: lines are `<ISO time> <LEVEL> <message> key=value...`, or one
 * JSON object per line with `--log-format json`. The logger quotes and
 * escapes every field value that needs it.
 *
 * @module
 */

import { createLogger, type Logger, type LoggerOptions, SILENT_LOGGER } from "../common/log.ts";

export { createLogger, type Logger, type LoggerOptions };

/** Severity of a diagnostic line (`--log-level`). */
export type LogLevel = "error" | "warn" | "info" | "debug";

/** Longest excerpt of untrusted input that {@linkcode quote} keeps, in characters. */
const QUOTE_MAX_CHARS = 80;

/**
 * Cuts untrusted text to an excerpt for a log field; the logger then quotes
 * and escapes it.
 *
 * @param text Text from a client.
 * @returns Its first 80 characters, with `…` when it was longer.
 * @example
 * ```ts
 * log.warn("Dropped line", { line: quote("evil\nFAKE LOG LINE") }); // line="evil\nFAKE LOG LINE"
 * ```
 */
export function quote(text: string): string {
  return text.length > QUOTE_MAX_CHARS ? text.slice(0, QUOTE_MAX_CHARS) + "…" : text;
}

/** A logger that discards everything, for tests and embedding. */
export const silentLogger: Logger = SILENT_LOGGER;
