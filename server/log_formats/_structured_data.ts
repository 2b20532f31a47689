/**
 * Scanner for RFC 5424 STRUCTURED-DATA: one or more
 * `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]` elements, where a value escapes
 * `"`, `\` and `]` with a backslash. The scan is a single left-to-right pass
 * with no backtracking; the text itself is kept as received, escapes included.
 *
 * @module
 */

/**
 * Finds the end of an SD-NAME (SD-ID or PARAM-NAME): printable US-ASCII
 * except `=`, space, `]` and `"`. Length is not capped at RFC 5424's 32, to
 * keep senders that use longer names.
 *
 * @param line Text to read.
 * @param start Index of the name's first character.
 * @returns Index past the name, or -1 when the name is empty.
 */
function sdNameEnd(line: string, start: number): number {
  let i = start;
  for (;;) {
    const c = line.charCodeAt(i);
    if (!(c > 0x20 && c < 0x7f) || c === 0x3d /* = */ || c === 0x5d /* ] */ || c === 0x22 /* " */) {
      break;
    }
    i++;
  }
  return i > start ? i : -1;
}

/**
 * Scans the STRUCTURED-DATA that starts with `[` at `start`.
 *
 * @param line Text to read.
 * @param start Index of the first `[`.
 * @returns Index just past the last element's `]`, or -1 when the data is malformed.
 * @example
 * ```ts
 * scanStructuredData('[a@1 k="v\\"]"][b@2] msg', 0); // 20
 * ```
 */
export function scanStructuredData(line: string, start: number): number {
  let i = start;
  while (line.charCodeAt(i) === 0x5b /* [ */) {
    i = sdNameEnd(line, i + 1);
    if (i < 0) return -1;
    for (;;) {
      const c = line.charCodeAt(i);
      if (c === 0x5d /* ] */) {
        i++;
        break;
      }
      if (c !== 0x20) return -1;
      i = sdNameEnd(line, i + 1);
      if (i < 0) return -1;
      if (line.charCodeAt(i) !== 0x3d /* = */ || line.charCodeAt(i + 1) !== 0x22 /* " */) return -1;
      i += 2;
      // PARAM-VALUE: up to the first unescaped quote. A backslash escapes the
      // next character; past the end charCodeAt gives NaN, which ends the scan.
      for (;;) {
        const v = line.charCodeAt(i);
        if (v === 0x22) break;
        if (v !== v) return -1;
        i += v === 0x5c /* \ */ ? 2 : 1;
      }
      i++;
    }
  }
  return i;
}
