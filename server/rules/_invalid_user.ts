/**
 * A literal parse equivalent to the regex of rule 5710 (`INVALID_USER_REGEX`
 * in builtin_rules.ts) on the form every line of a brute force with
 * non-existent users takes, `... invalid user X from IP port N[ ssh2][ [preauth]]`.
 * It decides only lines of that form and leaves every other line to the
 * regex (`undefined`); `_invalid_user_test.ts` compares the two on generated
 * lines.
 *
 * @module
 */

/** Whether the char code may be part of an address (`[0-9A-Fa-f:.]`). */
function isAddressChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) ||
    c === 0x2e;
}

/**
 * The fields the regex captures on a line of the common form, or undefined
 * to let the regex decide.
 *
 * @param m The message.
 * @returns `{ user, srcip }`, or undefined.
 * @example
 * ```ts
 * invalidUserFields("Failed password for invalid user x from 192.0.2.1 port 22 ssh2"); // { user: "x", srcip: "192.0.2.1" }
 * ```
 */
export function invalidUserFields(m: string): Record<string, string> | undefined {
  const u = m.indexOf("invalid user ");
  if (u < 0 || m.indexOf("Invalid user ") >= 0 || m.indexOf("llegal user ") >= 0) return undefined;
  const f = m.lastIndexOf(" from ");
  if (f < u + 12) return undefined;
  // The address, then exactly " port N[ ssh2][ [preauth]]" to the end.
  let i = f + 6;
  while (i < m.length && isAddressChar(m.charCodeAt(i))) i++;
  if (i === f + 6 || !m.startsWith(" port ", i)) return undefined;
  const ipEnd = i;
  i += 6;
  const digits = i;
  while (i < m.length && m.charCodeAt(i) >= 0x30 && m.charCodeAt(i) <= 0x39) i++;
  if (i === digits) return undefined;
  if (m.startsWith(" ssh2", i)) i += 5;
  if (m.startsWith(" [preauth]", i)) i += 10;
  if (i !== m.length) return undefined;
  // The regex's `.*` does not cross line terminators.
  const userStart = u + 13;
  for (let k = userStart; k < f; k++) {
    const c = m.charCodeAt(k);
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return undefined;
  }
  return { user: m.slice(userStart, f), srcip: m.slice(f + 6, ipEnd) };
}
