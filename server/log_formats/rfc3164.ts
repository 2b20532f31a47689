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
 * - a space after the PRI (`<38> Mar  7 19:06:53 host tag: msg`), as rsyslog
 *   accepts;
 * - an ISO time with a space instead of `T` and a numeric or named zone
 *   (`<13>2020-03-23 06:47:42.801612-0700 host sshd[1]: x`);
 * - a malformed RFC 5424 header (`<1>1 - - ...`): not a time, so the PRI is
 *   kept and the rest is the message.
 *
 * Forms of the host part written by other syslog daemons:
 * - BusyBox syslogd (Alpine) writes `facility.level` after the hostname
 *   (`Nov 23 19:43:33 alpine auth.info sshd[812]: ...`); it is read as
 *   facility and severity when the line has no PRI;
 * - Solaris puts `[ID 800047 auth.notice] ` before the message; it is taken
 *   off the message the same way.
 *
 * A timestamp that starts like one but is impossible (`Feb 30`, hour 25)
 * makes the line not RFC 3164.
 *
 * @module
 */

import { BSD_INVALID, BSD_OK, readBsdTimestamp } from "./_bsd_timestamp.ts";
import { createMnemonicScan, readCiscoMnemonic } from "./_cisco_mnemonic.ts";
import { digitAt, fourDigits } from "./_digits.ts";
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
    while (line.charCodeAt(i) === 0x20) i++; // "<38> Mar  7 ...", as rsyslog accepts
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
    } else if (fourDigits(line, i) >= 0 && line.charCodeAt(i + 4) === 0x2d /* - */) {
      // Looks like "2026-11-23T..." (or "2026-11-23 ..." with a zone): must be a valid ISO timestamp.
      if (!readIsoTimestamp(line, i, false, scan, true)) return null;
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

  let severity = pri < 0 ? -1 : pri & 7;
  let facility = pri < 0 ? -1 : pri >> 3;
  // BusyBox syslogd: "host auth.info tag: msg".
  if (kind === NO_TAG && host !== null) {
    const level = readFacilityLevel(line, i);
    if (level !== null) {
      if (pri < 0) {
        facility = level.facility;
        severity = level.severity;
      }
      i = level.next;
      kind = tagKindAt(line, i);
    }
  }

  let program: string | null = null;
  let pid: number | null = null;
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
    // Solaris: "sshd[1]: [ID 800047 auth.notice] Failed ...".
    if (line.startsWith("[ID ", i)) {
      const level = readSolarisId(line, i);
      if (level !== null) {
        if (pri < 0) {
          facility = level.facility;
          severity = level.severity;
        }
        i = level.next;
      }
    }
  }
  const messageStart = Math.min(i, line.length);
  const message = line.slice(messageStart);

  const result: ParsedLine = {
    ts,
    host,
    program,
    pid,
    severity: severity < 0 ? inferSeverity(message) : severity,
    facility: facility < 0 ? null : facility,
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

/** Syslog facility numbers by the names syslog daemons print. */
const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** Syslog severity numbers by the names syslog daemons print. */
const LEVELS: Readonly<Record<string, number>> = {
  emerg: 0,
  panic: 0,
  alert: 1,
  crit: 2,
  err: 3,
  error: 3,
  warn: 4,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

/** Longest `facility.level` token (`authpriv.warning`). */
const MAX_FACILITY_LEVEL_CHARS = 16;

/**
 * Reads a `facility.level` token ending at a space, as BusyBox syslogd writes.
 *
 * @param line Text to read.
 * @param start Index of the token.
 * @returns Facility, severity and the index after the spaces that follow, or null.
 */
function readFacilityLevel(
  line: string,
  start: number,
): { facility: number; severity: number; next: number } | null {
  let end = start;
  const limit = Math.min(line.length, start + MAX_FACILITY_LEVEL_CHARS + 1);
  while (end < limit && line.charCodeAt(end) !== 0x20) end++;
  if (end === limit || end === start) return null;
  return facilityLevel(line.slice(start, end), end, line);
}

/**
 * Reads Solaris's `[ID 800047 auth.notice] ` message prefix.
 *
 * @param line Text to read.
 * @param start Index of the `[`.
 * @returns Facility, severity and the index of the message after it, or null.
 */
function readSolarisId(
  line: string,
  start: number,
): { facility: number; severity: number; next: number } | null {
  let i = start + 4;
  const digits = i;
  while (digitAt(line, i) >= 0 && i - digits < 12) i++;
  if (i === digits || line.charCodeAt(i) !== 0x20) return null;
  const close = line.indexOf("]", i);
  if (close < 0 || close - i > MAX_FACILITY_LEVEL_CHARS + 1) return null;
  return facilityLevel(line.slice(i + 1, close), close + 1, line);
}

function facilityLevel(
  token: string,
  end: number,
  line: string,
): { facility: number; severity: number; next: number } | null {
  const dot = token.indexOf(".");
  if (dot < 0) return null;
  const facilityName = token.slice(0, dot);
  const levelName = token.slice(dot + 1);
  if (!Object.hasOwn(FACILITIES, facilityName) || !Object.hasOwn(LEVELS, levelName)) return null;
  const facility = FACILITIES[facilityName]!;
  const severity = LEVELS[levelName]!;
  let next = end;
  while (line.charCodeAt(next) === 0x20) next++;
  return { facility, severity, next };
}
