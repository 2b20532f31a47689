/**
 * Parser for the paper's log format, `<ISO time> <message>`:
 *
 * ```text
 * 2025-12-11T16:00:00 sshd: session opened
 * 2025-12-11T16:00:00.250+01:00 cron[42]: job done
 * 2025-12-11T16:00:00 disk almost full
 * ```
 *
 * The time is ISO 8601 with `T`, an optional fraction and an optional offset;
 * without offset it is UTC. When the message starts with `word:` or
 * `word[pid]:` the word is the program and the message is the rest; otherwise
 * program is null and the message is everything after the time.
 *
 * @module
 */

import { readIsoTimestamp } from "./_iso_timestamp.ts";
import { createTagScan, readTag } from "./_tag.ts";
import { createTimestampScan } from "./_timestamp_scan.ts";
import type { ParsedLine } from "./parsed_line.ts";
import { inferSeverity } from "../../protocol/severity.ts";

const scan = createTimestampScan();
const tag = createTagScan();

/**
 * Parses a line in the paper's format.
 *
 * @param line One log line (trailing whitespace and NULs already trimmed by `parseLogLine`).
 * @returns The fields with `format: "paper_iso"` (host and facility null, severity inferred), or null.
 * @example
 * ```ts
 * import { parsePaperIso } from "./paper_iso.ts";
 *
 * const p = parsePaperIso("2025-12-11T16:00:00 sshd: session opened");
 * // p.ts Date.UTC(2025, 11, 11, 16), p.program "sshd", p.message "session opened"
 * ```
 */
export function parsePaperIso(line: string): ParsedLine | null {
  const c0 = line.charCodeAt(0);
  if (!(c0 >= 0x30 && c0 <= 0x39)) return null;
  if (!readIsoTimestamp(line, 0, false, scan, true)) return null;
  let i = scan.next;
  if (i < line.length && line.charCodeAt(i) !== 0x20) return null;
  while (line.charCodeAt(i) === 0x20) i++;

  let program: string | null = null;
  let pid: number | null = null;
  if (readTag(line, i, tag)) {
    program = tag.program;
    pid = tag.pid;
    i = tag.messageStart;
  }
  const messageStart = Math.min(i, line.length);
  const message = line.slice(messageStart);
  return {
    ts: scan.ms,
    host: null,
    program,
    pid,
    severity: inferSeverity(message),
    facility: null,
    message,
    messageStart,
    format: "paper_iso",
  };
}
