/**
 * The severity of a log line as the agent's `--min-severity` filter sees it:
 * the syslog PRI when the line opens with one (`<13>…`, as RFC 3164
 * and RFC 5424 lines and the agent's journal lines do), else the same
 * conservative keyword rules the server applies to lines without PRI.
 *
 * The keyword rules live in `protocol/severity.ts`, shared with the server,
 * so the agent's filter and the server's stored severity never disagree.
 *
 * One difference: the server infers from the message part of a parsed line,
 * the agent from the whole line (it does not parse formats), so a keyword in
 * a host or program name counts too, and `^debug` only matches at the very
 * start of the line.
 *
 * @module
 */

import { inferSeverity, severityByName } from "../../protocol/mod.ts";

/** Largest PRI value: facility 23 × 8 + severity 7. */
const MAX_PRI = 191;

/**
 * Reads a leading syslog PRI `<N>` (1 to 3 digits, N ≤ 191).
 *
 * @param line The line.
 * @returns N, or -1 when the line does not open with a valid PRI.
 * @example
 * ```ts
 * readPri("<34>Oct 11 22:14:15 mymachine su: 'su root' failed"); // 34
 * readPri("Oct 11 22:14:15 mymachine su: hello"); // -1
 * ```
 */
export function readPri(line: string): number {
  if (line.charCodeAt(0) !== 0x3c /* < */) return -1;
  let value = 0;
  let i = 1;
  for (; i <= 4; i++) {
    const d = line.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    value = value * 10 + d;
  }
  if (i === 1 || i > 4 || value > MAX_PRI) return -1;
  return line.charCodeAt(i) === 0x3e /* > */ ? value : -1;
}

/**
 * The severity of a line: from its PRI when it has one, else inferred.
 *
 * @param line The whole line.
 * @returns 0 (emergency) to 7 (debug).
 * @example
 * ```ts
 * lineSeverity("<11>Nov 23 19:43:33 web-01 app: all good"); // 3 (PRI 11 = user.err)
 * lineSeverity("2026-11-23T19:43:33Z web-01 app: warning: disk 91% full"); // 4
 * ```
 */
export function lineSeverity(line: string): number {
  const pri = readPri(line);
  return pri >= 0 ? pri & 7 : inferSeverity(line);
}

/**
 * Parses a `--min-severity` value: a name of `SEVERITY_NAMES` (protocol/severity.ts)
 * (case-insensitive) or a number from 0 to 7.
 *
 * @param text The value.
 * @returns The level, or undefined when the text names none.
 * @example
 * ```ts
 * parseSeverityName("warning"); // 4
 * parseSeverityName("3"); // 3
 * parseSeverityName("loud"); // undefined
 * ```
 */
export function parseSeverityName(text: string): number | undefined {
  if (/^[0-7]$/.test(text)) return Number(text);
  return severityByName(text);
}
