/**
 * Parser for the high-precision format modern rsyslog writes to
 * /var/log/syslog (template `RSYSLOG_FileFormat`):
 *
 * ```text
 * TIMESTAMP SP HOSTNAME SP TAG MESSAGE
 * 2026-11-23T19:43:33.123456+00:00 web-01 sshd[812]: Accepted publickey for deploy from 198.51.100.4
 * ```
 *
 * The timestamp is RFC 3339 and must carry its offset (`Z` or `±hh:mm`), as
 * rsyslog always writes it; the hostname must not look like a tag and a tag
 * must follow it. Lines without offset, hostname or tag are left to the
 * paper's format (`paper_iso.ts`).
 *
 * @module
 */

import { readIsoTimestamp } from "./_iso_timestamp.ts";
import { MAX_HOSTNAME_CHARS } from "./_limits.ts";
import { createTagScan, readTag } from "./_tag.ts";
import { createTimestampScan } from "./_timestamp_scan.ts";
import type { ParsedLine } from "./parsed_line.ts";
import { inferSeverity } from "../../protocol/severity.ts";

const scan = createTimestampScan();
const tag = createTagScan();

/**
 * Parses an rsyslog high-precision line.
 *
 * @param line One log line (trailing whitespace and NULs already trimmed by `parseLogLine`).
 * @returns The fields with `format: "rsyslog_iso"` (severity inferred, facility null), or null.
 * @example
 * ```ts
 * import { parseRsyslogIso } from "./rsyslog_iso.ts";
 *
 * const p = parseRsyslogIso("2026-11-23T19:43:33.123456+00:00 web-01 systemd[1]: Started Session 7.");
 * // p.ts Date.UTC(2026, 10, 23, 19, 43, 33, 123), p.host "web-01", p.program "systemd", p.pid 1
 * ```
 */
export function parseRsyslogIso(line: string): ParsedLine | null {
  const c0 = line.charCodeAt(0);
  if (!(c0 >= 0x30 && c0 <= 0x39)) return null;
  if (!readIsoTimestamp(line, 0, true, scan, true)) return null;
  let i = scan.next;
  if (line.charCodeAt(i) !== 0x20) return null;
  while (line.charCodeAt(i) === 0x20) i++;

  // Hostname: a token that is not itself a tag.
  const hostStart = i;
  const limit = Math.min(line.length, i + MAX_HOSTNAME_CHARS + 1);
  while (i < limit && line.charCodeAt(i) !== 0x20) i++;
  if (i === hostStart || i - hostStart > MAX_HOSTNAME_CHARS || i === line.length) return null;
  if (line.charCodeAt(i - 1) === 0x3a /* : */) return null;
  const hostEnd = i;
  while (line.charCodeAt(i) === 0x20) i++;

  if (!readTag(line, i, tag)) return null;
  const messageStart = Math.min(tag.messageStart, line.length);
  const message = line.slice(messageStart);
  return {
    ts: scan.ms,
    host: line.slice(hostStart, hostEnd),
    program: tag.program,
    pid: tag.pid,
    severity: inferSeverity(message),
    facility: null,
    message,
    messageStart,
    format: "rsyslog_iso",
  };
}
