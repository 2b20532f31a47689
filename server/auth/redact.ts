/**
 * Keeps secrets out of the server's log: a line a client sent may be logged
 * (an excerpt of a dropped line), and a malformed `LOGIN` still carries a
 * password. Everything after `LOGIN <user>` is cut from any line before it is
 * logged, whatever the case, spacing or garbage around it.
 *
 * @module
 */

/** What replaces the redacted part. */
export const REDACTED = "[redacted]";

/** Characters of a user name: what is kept after `LOGIN`. */
const NAME_CHAR = /[A-Za-z0-9_.@-]/;

/**
 * A client's line, fit for the log: the part after `LOGIN <user>` replaced.
 * Runs in time linear in the line (no regular expression over it).
 *
 * @param line What a client sent.
 * @returns The line, redacted from its first `LOGIN` (any case) on.
 * @example
 * ```ts
 * redactLine("LOGIN  admin secret"); // "LOGIN  admin [redacted]"
 * redactLine("BATCH_EVENT hello"); // unchanged
 * ```
 */
export function redactLine(line: string): string {
  const at = line.toLowerCase().indexOf("login");
  if (at < 0) return line;
  let i = at + 5;
  while (i < line.length && !NAME_CHAR.test(line[i]!)) i++;
  while (i < line.length && NAME_CHAR.test(line[i]!)) i++;
  return i < line.length ? `${line.slice(0, i)} ${REDACTED}` : line;
}
