/**
 * Reader for the syslog PRI part `<N>` that opens RFC 5424 and RFC 3164
 * packets: N = facility × 8 + severity.
 *
 * @module
 */

/** Largest PRI value: facility 23 (local7) × 8 + severity 7 (debug). */
export const MAX_PRI = 191;

/** Most digits inside the angle brackets. */
const MAX_PRI_DIGITS = 3;

/**
 * Finds the end of a valid `<N>` at the start of `line` (1 to 3 digits, N at
 * most {@linkcode MAX_PRI}; leading zeros are tolerated).
 *
 * @param line Text to read.
 * @returns Index just past `>`, or -1 when the line does not open with a valid PRI.
 * @example
 * ```ts
 * priEnd("<34>1 2026-11-23T19:43:33Z ..."); // 4
 * ```
 */
export function priEnd(line: string): number {
  if (line.charCodeAt(0) !== 0x3c /* < */) return -1;
  let value = 0;
  let i = 1;
  for (; i <= MAX_PRI_DIGITS + 1; i++) {
    const d = line.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    value = value * 10 + d;
  }
  if (i === 1 || i > MAX_PRI_DIGITS + 1 || value > MAX_PRI) return -1;
  return line.charCodeAt(i) === 0x3e /* > */ ? i + 1 : -1;
}

/**
 * Reads the PRI value of a line whose PRI {@linkcode priEnd} accepted.
 *
 * @param line Text whose PRI was validated.
 * @param end The index `priEnd` returned.
 * @returns The PRI value 0..191: facility = pri >> 3, severity = pri & 7.
 * @example
 * ```ts
 * priValue("<34>1 ...", 4); // 34: facility 4 (auth), severity 2 (crit)
 * ```
 */
export function priValue(line: string, end: number): number {
  let value = 0;
  for (let i = 1; i < end - 1; i++) value = value * 10 + line.charCodeAt(i) - 48;
  return value;
}
