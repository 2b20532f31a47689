/**
 * Log bytes that are not UTF-8, kept recoverable (docs/SYSLOG.md, "What is
 * stored"). A message of valid UTF-8 (nearly all) is decoded as it is. In a
 * message with invalid bytes (Latin-1 from an old device, binary), each
 * invalid byte becomes the four characters `\xNN` and each backslash becomes
 * `\\`, and the event gets the `escaped` flag: the text stays readable and
 * searchable, and {@linkcode encodeLogText} gives back the exact bytes.
 *
 * @module
 */

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/** A decoded message. */
export interface DecodedLogText {
  readonly text: string;
  /** The text escapes invalid bytes as `\xNN` and backslashes as `\\`. */
  readonly escaped: boolean;
}

/**
 * Length of the valid UTF-8 sequence at `i`, or 0 when the byte there starts none.
 */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  if (b < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const c = bytes[i + k];
    return c !== undefined && c >= lo && c <= hi;
  };
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xf1 && b <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/**
 * Decodes a message's bytes, escaping them when they are not valid UTF-8.
 *
 * @param bytes The message as received.
 * @returns The text, and whether it is escaped.
 * @example
 * ```ts
 * decodeLogBytes(Uint8Array.of(0x63, 0x61, 0x66, 0xe9)); // { text: "caf\\xe9", escaped: true }
 * ```
 */
export function decodeLogBytes(bytes: Uint8Array): DecodedLogText {
  try {
    return { text: strict.decode(bytes), escaped: false };
  } catch {
    // Not UTF-8: escape below.
  }
  let text = "";
  let run = 0; // start of the current run of valid bytes
  let i = 0;
  const flush = (end: number) => {
    if (end > run) text += lenient.decode(bytes.subarray(run, end));
  };
  while (i < bytes.length) {
    const b = bytes[i]!;
    const length = b === 0x5c ? 0 : sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    flush(i);
    text += b === 0x5c ? "\\\\" : `\\x${b.toString(16).padStart(2, "0")}`;
    i++;
    run = i;
  }
  flush(i);
  return { text, escaped: true };
}

/**
 * The bytes a stored message was received as.
 *
 * @param text The stored text.
 * @param escaped Whether the event has the `escaped` flag.
 * @returns The original bytes.
 * @example
 * ```ts
 * encodeLogText("caf\\xe9", true); // Uint8Array [0x63, 0x61, 0x66, 0xe9]
 * ```
 */
export function encodeLogText(text: string, escaped: boolean): Uint8Array {
  if (!escaped) return encoder.encode(text);
  const parts: Uint8Array[] = [];
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== 0x5c) continue;
    parts.push(encoder.encode(text.slice(run, i)));
    if (text[i + 1] === "x") {
      parts.push(Uint8Array.of(parseInt(text.slice(i + 2, i + 4), 16)));
      i += 3;
    } else {
      parts.push(Uint8Array.of(0x5c));
      i += 1;
    }
    run = i + 1;
  }
  parts.push(encoder.encode(text.slice(run)));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
