/**
 * Reader for the syslog TAG that precedes a message: `sshd[812]: `,
 * `kernel: `, `postfix/smtpd[99]: `, `sudo:   alice : ...`.
 *
 * Heuristic (RFC 3164 leaves it open): a tag is one space-free token that
 * ends with `:` or `[pid]:`. Any other token is a hostname or message text.
 *
 * @module
 */

import { MAX_TAG_CHARS } from "./_limits.ts";
import { readPid } from "./_pid.ts";

/** Where {@linkcode readTag} leaves its result. */
export interface TagScan {
  /** Program name: the tag without `[pid]` and colon. */
  program: string;
  /** Pid from `[pid]`, or null when absent or not a number. */
  pid: number | null;
  /** Index of the message: past the colon and the spaces after it. */
  messageStart: number;
}

/**
 * Creates an empty scratch record for {@linkcode readTag}.
 *
 * @returns A record to pass to `readTag` again and again.
 * @example
 * ```ts
 * const tag = createTagScan();
 * ```
 */
export function createTagScan(): TagScan {
  return { program: "", pid: null, messageStart: 0 };
}

/**
 * Reads a tag token at `start` when there is one.
 *
 * @param line Text to read.
 * @param start Index of the token's first character.
 * @param out Receives program, pid and message start on success.
 * @returns True when the token at `start` is a tag.
 * @example
 * ```ts
 * const tag = createTagScan();
 * readTag("CRON[123]: (root) CMD (true)", 0, tag); // true: "CRON", 123, 11
 * ```
 */
export function readTag(line: string, start: number, out: TagScan): boolean {
  const length = line.length;
  const limit = Math.min(length, start + MAX_TAG_CHARS);
  let end = start;
  while (end < limit && line.charCodeAt(end) !== 0x20) end++;
  if (end === limit && limit < length) return false; // token longer than MAX_TAG_CHARS
  // The token is line[start, end); it must end with ":".
  const colon = end - 1;
  if (colon <= start || line.charCodeAt(colon) !== 0x3a /* : */) return false;

  let programEnd = colon;
  let pid: number | null = null;
  if (line.charCodeAt(colon - 1) === 0x5d /* ] */) {
    let open = colon - 2;
    while (open >= start && line.charCodeAt(open) !== 0x5b /* [ */) open--;
    if (open >= start) {
      programEnd = open;
      pid = readPid(line, open + 1, colon - 1);
    }
  }
  if (programEnd === start) return false; // "[12]:" or ":" names no program

  let messageStart = end;
  while (line.charCodeAt(messageStart) === 0x20) messageStart++;
  out.program = line.slice(start, programEnd);
  out.pid = pid;
  out.messageStart = messageStart;
  return true;
}
