/**
 * RFC 5424 STRUCTURED-DATA parameters, both ways: {@linkcode readStructuredParams}
 * gives the rules the parameters of a stored element as fields, and
 * {@linkcode formatStructuredData} writes one element for NMS's own events.
 * Values are escaped as RFC 5424 §6.3.3 requires (`"`, `\` and `]` take a
 * backslash), so a user name that holds `"] [x` stays one value.
 *
 * @module
 */

import { scanStructuredData } from "./_structured_data.ts";

/** Most parameters read from one STRUCTURED-DATA text; the rest are ignored. */
export const MAX_STRUCTURED_PARAMS = 32;

/**
 * Reads the parameters of a STRUCTURED-DATA text, unescaped. When a name
 * appears twice the first value wins. Malformed text gives no parameters.
 *
 * @param sd STRUCTURED-DATA as stored, e.g. `[nms@32473 user="admin" srcip="10.0.0.9"]`.
 * @returns The parameters by name.
 * @example
 * ```ts
 * readStructuredParams('[nms@32473 user="a\\"b" srcip="10.0.0.9"]'); // { user: 'a"b', srcip: "10.0.0.9" }
 * ```
 */
export function readStructuredParams(sd: string): Record<string, string> {
  const params: Record<string, string> = {};
  if (scanStructuredData(sd, 0) !== sd.length) return params;
  let count = 0;
  let i = 0;
  while (i < sd.length && count < MAX_STRUCTURED_PARAMS) {
    const c = sd.charCodeAt(i);
    if (c === 0x5b /* [ */) {
      // Skip the SD-ID.
      while (i < sd.length && sd.charCodeAt(i) !== 0x20 && sd.charCodeAt(i) !== 0x5d) i++;
      continue;
    }
    if (c !== 0x20) {
      i++;
      continue;
    }
    const eq = sd.indexOf('="', i);
    const name = sd.slice(i + 1, eq);
    let value = "";
    let j = eq + 2;
    for (;;) {
      const v = sd.charCodeAt(j);
      if (v === 0x22 /* " */) break;
      if (v === 0x5c /* \ */) {
        value += sd[j + 1];
        j += 2;
        continue;
      }
      value += sd[j];
      j++;
    }
    if (!(name in params)) params[name] = value;
    count++;
    i = j + 1;
  }
  return params;
}

/**
 * Writes one STRUCTURED-DATA element. Control characters in values become
 * `?`, and names must already be valid SD-NAMEs (the callers use constants).
 *
 * @param id The SD-ID, e.g. `nms@32473`.
 * @param params Parameter values by name; undefined and null ones are left out.
 * @returns The element, e.g. `[nms@32473 user="admin"]`.
 * @example
 * ```ts
 * formatStructuredData("nms@32473", { user: 'a"b' }); // '[nms@32473 user="a\\"b"]'
 * ```
 */
export function formatStructuredData(
  id: string,
  params: Readonly<Record<string, string | null | undefined>>,
): string {
  let out = `[${id}`;
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    // deno-lint-ignore no-control-regex
    out += ` ${name}="${value.replace(/[\x00-\x1f\x7f]/g, "?").replace(/["\\\]]/g, "\\$&")}"`;
  }
  return out + "]";
}
