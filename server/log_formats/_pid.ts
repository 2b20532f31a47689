/**
 * Process id reader shared by the tag reader and the RFC 5424 PROCID field.
 *
 * @module
 */

/**
 * Largest pid kept: the store holds pids in an Int32Array, and Linux pids
 * stay below 2^22. Larger numbers are kept in the message only.
 */
export const MAX_PID = 2_147_483_647;

/** Most digits a pid may have (MAX_PID has 10). */
const MAX_PID_DIGITS = 10;

/**
 * Reads `text[start, end)` as a pid: only decimal digits, at most
 * {@linkcode MAX_PID}.
 *
 * @param text Text holding the pid.
 * @param start First index.
 * @param end Index past the last digit.
 * @returns The pid, or null when the range is empty, not all digits or too large.
 * @example
 * ```ts
 * readPid("sshd[812]", 5, 8); // 812
 * ```
 */
export function readPid(text: string, start: number, end: number): number | null {
  if (end <= start || end - start > MAX_PID_DIGITS) return null;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return null;
    value = value * 10 + d;
  }
  return value <= MAX_PID ? value : null;
}
