/**
 * Parser for BSD syslog (RFC 3164) as written to /var/log/syslog and
 * /var/log/auth.log and as sent by devices:
 *
 * ```text
 * [<PRI>]TIMESTAMP SP [HOSTNAME SP] [TAG] MESSAGE
 * Nov 23 19:43:33 web-01 sshd[812]: Failed password for invalid user admin from 203.0.113.7
 * <13>Nov  3 19:43:33 web-01 kernel: [12.5] eth0: link up
 * ```
 *
 * Time: the BSD timestamp has no year and no zone. The year comes from
 * `receivedAt` (UTC), the previous year when the line's month is more than
 * one month after the receive month; the time is read as UTC, because the
 * server cannot know the sender's zone and UTC makes the result independent
 * of the machine that parses it.
 *
 * Hostname or tag: the token after the timestamp is the tag when it ends with
 * `:` or `[pid]:` (`kernel:`, `sshd[812]:`), else it is the hostname and the
 * tag, if any, follows it.
 *
 * Deviations accepted when the line opens with a PRI, as devices send them:
 * - no hostname: `<13>Nov 23 19:43:33 sshd[1]: x`;
 * - an ISO 8601 timestamp: `<13>2026-11-23T19:43:33Z host prog: x`;
 * - no timestamp at all (RFC 3164 §4.3.3): `<13>sshd[1]: x`, ts null;
 * - Cisco: a sequence number, `*` (clock not authoritative) or `.` (clock lost
 *   sync) before the time, milliseconds, an explicit year, ` UTC`, a colon
 *   after the time, and the `%FACILITY-SEVERITY-MNEMONIC:` tag:
 *   `<189>123: *Nov 23 19:43:33.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down`
 *   gives program `LINK`, `extra.msgid` `%LINK-3-UPDOWN` and severity 3. The
 *   mnemonic's severity wins over the PRI's: it is the level the device gave
 *   this message (Cisco derives the PRI from it, and relays may rewrite PRI).
 *
 * A timestamp that starts like one but is impossible (`Feb 30`, hour 25)
 * makes the line not RFC 3164.
 *
 * @module
 */

import { BSD_INVALID, BSD_OK, readBsdTimestamp } from "./_bsd_timestamp.ts";
import { createMnemonicScan, readCiscoMnemonic } from "./_cisco_mnemonic.ts";
import { digitAt } from "./_digits.ts";
import { readIsoTimestamp } from "./_iso_timestamp.ts";
import { MAX_HOSTNAME_CHARS } from "./_limits.ts";
import { priEnd, priValue } from "./_pri.ts";
import { createTagScan, readTag } from "./_tag.ts";
import { createTimestampScan } from "./_timestamp_scan.ts";
import type { ParsedLine } from "./parsed_line.ts";
import { inferSeverity } from "../../protocol/severity.ts";

/** Most digits in a Cisco sequence number (`123: ` before the time). */
const MAX_SEQUENCE_DIGITS = 10;

/** `tagKindAt` result: the token is not a tag. */
const NO_TAG = 0;
/** `tagKindAt` result: a `program[pid]:` tag, read into `tag`. */
const TAG = 1;
/** `tagKindAt` result: a Cisco `%FAC-SEV-MNEMONIC:`, read into `mnemonic`. */
const CISCO_MNEMONIC = 2;

const scan = createTimestampScan();
const tag = createTagScan();
const mnemonic = createMnemonicScan();

/**
 * Returns whether the char code is an ASCII capital letter (BSD months start with one).
 *
 * @param c Char code.
 * @returns True for A..Z.
 */
function isCapital(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

/**
 * Parses a BSD syslog line.
 *
 * @param line One log line (trailing whitespace and NULs already trimmed by `parseLogLine`).
 * @param receivedAt Ms since the epoch when the server received the line; gives the year.
 * @returns The fields with `format: "rfc3164"`, or null when the line is not BSD syslog.
 * @example
 * ```ts
 * import { parseRfc3164 } from "./rfc3164.ts";
 *
 * const p = parseRfc3164("Nov 23 19:43:33 web-01 CRON[123]: (root) CMD (true)", Date.UTC(2026, 10, 23));
 * // p.ts Date.UTC(2026, 10, 23, 19, 43, 33), p.host "web-01", p.program "CRON", p.pid 123
 * ```
 */
export function parseRfc3164(line: string, receivedAt: number): ParsedLine | null {
  let i = 0;
  let pri = -1;
  const c0 = line.charCodeAt(0);
  if (c0 === 0x3c /* < */) {
    i = priEnd(line);
    if (i < 0) return null;
    pri = priValue(line, i);
  } else if (!isCapital(c0)) {
    return null;
  }

  let hasTime = false;
  if (pri < 0) {
    if (readBsdTimestamp(line, 0, receivedAt, scan) !== BSD_OK) return null;
    hasTime = true;
  } else {
    // Cisco sequence number: "<189>123: *Nov 23 ...".
    let j = i;
    while (j - i < MAX_SEQUENCE_DIGITS && digitAt(line, j) >= 0) j++;
    if (j > i && line.charCodeAt(j) === 0x3a && line.charCodeAt(j + 1) === 0x20) i = j + 2;
    // Cisco clock markers: "*" not authoritative, "." lost sync.
    const marker = line.charCodeAt(i);
    const timeStart = (marker === 0x2a || marker === 0x2e) && isCapital(line.charCodeAt(i + 1))
      ? i + 1
      : i;
    const bsd = readBsdTimestamp(line, timeStart, receivedAt, scan);
    if (bsd === BSD_INVALID) return null;
    if (bsd === BSD_OK) {
      hasTime = true;
    } else if (digitAt(line, i) >= 0 && line.charCodeAt(i + 4) === 0x2d /* - */) {
      // Looks like "2026-11-23T...": must be a valid ISO timestamp.
      if (!readIsoTimestamp(line, i, false, scan)) return null;
      hasTime = true;
    }
  }

  let ts: number | null = null;
  if (hasTime) {
    ts = scan.ms === scan.ms ? scan.ms : null;
    i = scan.next;
    // Cisco: "19:43:33.123 UTC: %SYS-..." and "19:43:33.123: %LINK-...".
    if (line.startsWith(" UTC:", i) || line.startsWith(" GMT:", i)) i += 4;
    if (line.charCodeAt(i) === 0x3a /* : */) i++;
    if (i < line.length && line.charCodeAt(i) !== 0x20) return null;
    while (line.charCodeAt(i) === 0x20) i++;
  }

  let host: string | null = null;
  let kind = tagKindAt(line, i);
  if (hasTime && kind === NO_TAG) {
    // Not a tag, so the token is the hostname (unless absurdly long).
    const limit = Math.min(line.length, i + MAX_HOSTNAME_CHARS + 1);
    let end = i;
    while (end < limit && line.charCodeAt(end) !== 0x20) end++;
    if (end > i && end - i <= MAX_HOSTNAME_CHARS) {
      host = line.slice(i, end);
      i = end;
      while (line.charCodeAt(i) === 0x20) i++;
      kind = tagKindAt(line, i);
    }
  }

  let program: string | null = null;
  let pid: number | null = null;
  let severity = pri < 0 ? -1 : pri & 7;
  let msgid: string | null = null;
  if (kind === CISCO_MNEMONIC) {
    program = mnemonic.program;
    severity = mnemonic.severity;
    msgid = mnemonic.mnemonic;
    i = mnemonic.messageStart;
  } else if (kind === TAG) {
    program = tag.program;
    pid = tag.pid;
    i = tag.messageStart;
  }
  const messageStart = Math.min(i, line.length);
  const message = line.slice(messageStart);

  const result: ParsedLine = {
    ts,
    host,
    program,
    pid,
    severity: severity < 0 ? inferSeverity(message) : severity,
    facility: pri < 0 ? null : pri >> 3,
    message,
    messageStart,
    format: "rfc3164",
  };
  if (msgid !== null) result.extra = { msgid };
  return result;
}

/**
 * Reads the tag or Cisco mnemonic at `i` into the module's scratch records.
 *
 * @param line Text to read.
 * @param i Index of the token.
 * @returns {@linkcode CISCO_MNEMONIC} (in `mnemonic`), {@linkcode TAG} (in `tag`) or {@linkcode NO_TAG}.
 */
function tagKindAt(line: string, i: number): number {
  if (readCiscoMnemonic(line, i, mnemonic)) return CISCO_MNEMONIC;
  return readTag(line, i, tag) ? TAG : NO_TAG;
}
