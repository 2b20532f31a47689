/**
 * Parser for RFC 5424 syslog messages:
 *
 * ```text
 * <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP [BOM]MSG]
 * <34>1 2026-11-23T19:43:33.123Z web-01 sshd 812 ID47 [exampleSDID@32473 iut="3"] Failed password
 * ```
 *
 * `-` is the nil value of any header field. Deviations accepted: a timestamp
 * without offset is read as UTC; a PROCID that is not a number gives pid null;
 * when the header is valid but the STRUCTURED-DATA is not, the line still
 * counts as RFC 5424 and everything from the STRUCTURED-DATA on is the message.
 *
 * @module
 */

import { readIsoTimestamp } from "./_iso_timestamp.ts";
import { MAX_HOSTNAME_CHARS } from "./_limits.ts";
import { readPid } from "./_pid.ts";
import { priEnd, priValue } from "./_pri.ts";
import { scanStructuredData } from "./_structured_data.ts";
import { createTimestampScan } from "./_timestamp_scan.ts";
import type { ParsedLine, ParsedLineExtra } from "./parsed_line.ts";

/** Longest APP-NAME (RFC 5424 §6.2.5). */
export const MAX_APP_NAME_CHARS = 48;
/** Longest PROCID (RFC 5424 §6.2.6). */
export const MAX_PROCID_CHARS = 128;
/** Longest MSGID (RFC 5424 §6.2.7). */
export const MAX_MSGID_CHARS = 32;
/** Most digits in VERSION (`NONZERO-DIGIT 0*2DIGIT`). */
const MAX_VERSION_DIGITS = 3;
/** The byte order mark that may open an UTF-8 MSG, as decoded text. */
const BOM = 0xfeff;

const scan = createTimestampScan();

/**
 * Finds the end of a header field: 1 to `maxChars` printable US-ASCII
 * characters followed by a space.
 *
 * @param line Text to read.
 * @param start Index of the field's first character.
 * @param maxChars Longest field allowed.
 * @returns Index of the space after the field, or -1.
 */
function fieldEnd(line: string, start: number, maxChars: number): number {
  const limit = start + maxChars;
  let i = start;
  for (;;) {
    const c = line.charCodeAt(i);
    if (c === 0x20) break;
    if (!(c > 0x20 && c < 0x7f) || i === limit) return -1;
    i++;
  }
  return i > start ? i : -1;
}

/**
 * Returns `line[start, end)`, or null for the nil value `-`.
 *
 * @param line Text holding the field.
 * @param start First index.
 * @param end Index past the field.
 * @returns The field, or null.
 */
function fieldOrNil(line: string, start: number, end: number): string | null {
  return end - start === 1 && line.charCodeAt(start) === 0x2d /* - */
    ? null
    : line.slice(start, end);
}

/**
 * Parses an RFC 5424 line.
 *
 * @param line One log line (trailing whitespace already trimmed by `parseLogLine`).
 * @returns The fields with `format: "rfc5424"`, or null when the line is not RFC 5424.
 * @example
 * ```ts
 * import { parseRfc5424 } from "./rfc5424.ts";
 *
 * const p = parseRfc5424("<34>1 2026-11-23T19:43:33.123Z web-01 sshd 812 ID47 - Failed password");
 * // p.facility 4, p.severity 2, p.host "web-01", p.program "sshd", p.pid 812, p.extra.msgid "ID47"
 * ```
 */
export function parseRfc5424(line: string): ParsedLine | null {
  const afterPri = priEnd(line);
  if (afterPri < 0) return null;

  // VERSION: a non-zero digit and up to two more, then a space.
  let i = afterPri;
  const first = line.charCodeAt(i);
  if (!(first >= 0x31 && first <= 0x39)) return null;
  const versionLimit = i + MAX_VERSION_DIGITS;
  i++;
  while (i < versionLimit && line.charCodeAt(i) >= 0x30 && line.charCodeAt(i) <= 0x39) i++;
  if (line.charCodeAt(i) !== 0x20) return null;
  i++;

  // TIMESTAMP
  let ts: number | null = null;
  if (line.charCodeAt(i) === 0x2d /* - */) {
    i++;
  } else {
    if (!readIsoTimestamp(line, i, false, scan)) return null;
    ts = scan.ms;
    i = scan.next;
  }
  if (line.charCodeAt(i) !== 0x20) return null;
  i++;

  const hostEnd = fieldEnd(line, i, MAX_HOSTNAME_CHARS);
  if (hostEnd < 0) return null;
  const appStart = hostEnd + 1;
  const appEnd = fieldEnd(line, appStart, MAX_APP_NAME_CHARS);
  if (appEnd < 0) return null;
  const procStart = appEnd + 1;
  const procEnd = fieldEnd(line, procStart, MAX_PROCID_CHARS);
  if (procEnd < 0) return null;
  const msgidStart = procEnd + 1;
  const msgidEnd = fieldEnd(line, msgidStart, MAX_MSGID_CHARS);
  if (msgidEnd < 0) return null;

  // STRUCTURED-DATA, then end of line or SP MSG.
  const sdStart = msgidEnd + 1;
  let sdEnd = -1;
  const sdFirst = line.charCodeAt(sdStart);
  if (sdFirst === 0x2d /* - */) sdEnd = sdStart + 1;
  else if (sdFirst === 0x5b /* [ */) sdEnd = scanStructuredData(line, sdStart);
  let messageStart: number;
  let structuredData: string | undefined;
  if (sdEnd >= 0 && (sdEnd === line.length || line.charCodeAt(sdEnd) === 0x20)) {
    if (sdFirst === 0x5b) structuredData = line.slice(sdStart, sdEnd);
    messageStart = sdEnd + 1;
    if (line.charCodeAt(messageStart) === BOM) messageStart++;
  } else {
    // Malformed STRUCTURED-DATA after a valid header: keep the header fields
    // and the rest of the line as the message rather than lose them.
    messageStart = sdStart;
  }
  messageStart = Math.min(messageStart, line.length);
  const message = line.slice(messageStart);

  const pri = priValue(line, afterPri);
  const msgid = fieldOrNil(line, msgidStart, msgidEnd);
  const result: ParsedLine = {
    ts,
    host: fieldOrNil(line, i, hostEnd),
    program: fieldOrNil(line, appStart, appEnd),
    pid: readPid(line, procStart, procEnd),
    severity: pri & 7,
    facility: pri >> 3,
    message,
    messageStart,
    format: "rfc5424",
  };
  if (msgid !== null || structuredData !== undefined) {
    const extra: ParsedLineExtra = {};
    if (msgid !== null) extra.msgid = msgid;
    if (structuredData !== undefined) extra.structuredData = structuredData;
    result.extra = extra;
  }
  return result;
}
