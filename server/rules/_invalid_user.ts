/**
 * A literal parse equivalent to `INVALID_USER_REGEX` (builtin_rules.ts), the
 * regex every line of a brute force with non-existent users meets. It gives
 * the same fields as the regex on every line it decides (`_invalid_user_test.ts`
 * compares the two on generated lines) at a quarter of the cost, and leaves
 * the lines it does not decide (line terminators inside, or longer than
 * {@linkcode MAX_LITERAL_PARSE_CHARS}) to the regex.
 *
 * @module
 */

/** Longest message parsed here; a longer one goes to the regex (linear-time engine). */
export const MAX_LITERAL_PARSE_CHARS = 1024;

const PREFIXES = ["invalid user ", "Invalid user ", "illegal user ", "Illegal user "];

/** Whether the char code may be part of an address (`[0-9A-Fa-f:.]`). */
function isAddressChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) ||
    c === 0x2e;
}

/** End of the address run at `i` (its length may be 0). */
function addressEnd(m: string, i: number): number {
  while (i < m.length && isAddressChar(m.charCodeAt(i))) i++;
  return i;
}

/** End of the digit run at `i`. */
function digitsEnd(m: string, i: number): number {
  while (i < m.length && m.charCodeAt(i) >= 0x30 && m.charCodeAt(i) <= 0x39) i++;
  return i;
}

/** `(?: port \d+)?(?: ssh2)?(?: \[preauth\])?$` from `i`. */
function tailOfFrom(m: string, i: number): boolean {
  if (m.startsWith(" port ", i)) {
    const end = digitsEnd(m, i + 6);
    if (end > i + 6) i = end;
  }
  if (m.startsWith(" ssh2", i)) i += 5;
  if (m.startsWith(" [preauth]", i)) i += 10;
  return i === m.length;
}

/**
 * The fields the regex would capture, null when it would not match, or
 * undefined when this parse does not decide (use the regex).
 *
 * @param m The message.
 * @returns `{ user, srcip }`, null or undefined.
 * @example
 * ```ts
 * invalidUserFields("Invalid user x from 192.0.2.1 port 22"); // { user: "x", srcip: "192.0.2.1" }
 * ```
 */
export function invalidUserFields(m: string): Record<string, string> | null | undefined {
  if (m.length > MAX_LITERAL_PARSE_CHARS) return undefined;
  for (let i = 0; i < m.length; i++) {
    const c = m.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return undefined;
  }
  let start = -1;
  for (const prefix of PREFIXES) {
    const at = m.indexOf(prefix);
    if (at >= 0 && (start < 0 || at < start)) start = at;
  }
  if (start < 0) return null;
  const userStart = start + 13;
  // The user is greedy: try the spaces from the end, the first that fits wins.
  for (let e = m.lastIndexOf(" "); e >= userStart; e = e === 0 ? -1 : m.lastIndexOf(" ", e - 1)) {
    // " from IP ..."
    if (m.startsWith(" from ", e)) {
      const ipEnd = addressEnd(m, e + 6);
      if (ipEnd > e + 6 && tailOfFrom(m, ipEnd)) {
        return { user: m.slice(userStart, e), srcip: m.slice(e + 6, ipEnd) };
      }
    }
    // "(?<! from) IP port N[: ...][ [preauth]]"
    if (!(e >= 5 && m.startsWith(" from", e - 5))) {
      const ipEnd = addressEnd(m, e + 1);
      if (ipEnd > e + 1 && m.startsWith(" port ", ipEnd)) {
        const portEnd = digitsEnd(m, ipEnd + 6);
        if (portEnd > ipEnd + 6) {
          const rest = m.charCodeAt(portEnd);
          const ok = portEnd === m.length || rest === 0x3a /* : */ ||
            (m.startsWith(" [preauth]", portEnd) && portEnd + 10 === m.length);
          if (ok) return { user: m.slice(userStart, e), srcip: m.slice(e + 1, ipEnd) };
        }
      }
    }
  }
  return null;
}
