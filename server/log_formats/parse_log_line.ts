/**
 * The entry point that turns one received log line into fields, trying each
 * known format in turn.
 *
 * @module
 */

import type { ParsedLine } from "./parsed_line.ts";
import { parsePaperIso } from "./paper_iso.ts";
import { parseRfc3164 } from "./rfc3164.ts";
import { parseRfc5424 } from "./rfc5424.ts";
import { parseRsyslogIso } from "./rsyslog_iso.ts";

/** U+FEFF, the byte order mark, as decoded text. */
const BOM = 0xfeff;

/**
 * Returns whether a trailing char code is padding to trim: NUL (some devices
 * pad UDP datagrams with it), tab, LF, CR or space.
 *
 * @param c Char code.
 * @returns True for padding.
 */
function isTrailingPadding(c: number): boolean {
  return c === 0x20 || c === 0x00 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Builds the fallback result for a line no parser recognised.
 *
 * @param raw The line exactly as received.
 * @returns `format: "raw"`, the whole line as message, every other field null.
 */
function rawLine(raw: string): ParsedLine {
  return {
    ts: null,
    host: null,
    program: null,
    pid: null,
    severity: null,
    facility: null,
    message: raw,
    messageStart: 0,
    format: "raw",
  };
}

/**
 * Splits one log line into fields. Formats are tried in this order, and the
 * first that matches wins: RFC 5424, RFC 3164 (BSD syslog and device
 * variants), rsyslog's high-precision file format, the paper's
 * `<ISO time> <message>`. Each parser rejects a line by its first character
 * when it cannot match, so the order costs little.
 *
 * Trailing NULs, spaces, tabs, CR and LF and a leading byte order mark are
 * trimmed before parsing. A line
 * that matches no format comes back as `format: "raw"` with the whole line,
 * untrimmed, as message and every other field null.
 *
 * Never throws: untrusted input (empty, binary, NUL, U+FFFD, 64 KiB lines,
 * impossible dates) yields a result. All times are computed in UTC.
 *
 * @param raw One line as received, without its line terminator.
 * @param receivedAt Ms since the epoch when the server received the line; gives BSD timestamps their year.
 * @returns The parsed fields.
 * @example
 * ```ts
 * import { parseLogLine } from "./mod.ts";
 *
 * const p = parseLogLine(
 *   "Nov 23 19:43:33 web-01 sshd[812]: Failed password for invalid user admin from 203.0.113.7",
 *   Date.UTC(2026, 10, 23, 19, 43, 34),
 * );
 * // { ts: Date.UTC(2026, 10, 23, 19, 43, 33), host: "web-01", program: "sshd", pid: 812,
 * //   severity: 3, facility: null, message: "Failed password ...", format: "rfc3164" }
 * ```
 */
export function parseLogLine(raw: string, receivedAt: number): ParsedLine {
  if (typeof raw !== "string") return rawLine(""); // defensive: JS callers outside the type system
  // A byte order mark opening a file reaches us on its first line.
  const start = raw.charCodeAt(0) === BOM ? 1 : 0;
  let end = raw.length;
  while (end > start && isTrailingPadding(raw.charCodeAt(end - 1))) end--;
  if (end === start) return rawLine(raw);
  const line = start === 0 && end === raw.length ? raw : raw.slice(start, end);
  try {
    const parsed = parseRfc5424(line) ?? parseRfc3164(line, receivedAt) ??
      parseRsyslogIso(line) ?? parsePaperIso(line);
    if (parsed === null) return rawLine(raw);
    // The message was found in the trimmed line: say where it is in the line as received.
    if (line !== raw) parsed.messageStart = end === raw.length ? start + parsed.messageStart : -1;
    return parsed;
  } catch {
    // The parsers are written not to throw; should one have a bug, the line
    // is still stored whole rather than lost.
    return rawLine(raw);
  }
}
