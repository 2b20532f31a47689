/**
 * Reader for the Cisco message mnemonic that IOS, IOS XE, IOS XR and ASA put
 * where BSD syslog has its tag: `%FACILITY-SEVERITY-MNEMONIC: text`, e.g.
 * `%LINK-3-UPDOWN: Interface Gi0/1, changed state to down` or
 * `%ASA-6-302013: Built inbound TCP connection`. IOS XR adds a group before
 * the facility (`%PKT_INFRA-LINK-3-UPDOWN`), kept as part of the program.
 *
 * @module
 */

import { MAX_TAG_CHARS } from "./_limits.ts";

/** Where {@linkcode readCiscoMnemonic} leaves its result. */
export interface MnemonicScan {
  /** Facility part, e.g. `LINK`: the program of the line. */
  program: string;
  /** Severity digit of the mnemonic, 0..7 (same scale as syslog). */
  severity: number;
  /** The whole mnemonic as printed, e.g. `%LINK-3-UPDOWN`. */
  mnemonic: string;
  /** Index of the message: past the colon and the spaces after it. */
  messageStart: number;
}

/**
 * Creates an empty scratch record for {@linkcode readCiscoMnemonic}.
 *
 * @returns A record to reuse across calls.
 * @example
 * ```ts
 * const m = createMnemonicScan();
 * ```
 */
export function createMnemonicScan(): MnemonicScan {
  return { program: "", severity: 0, mnemonic: "", messageStart: 0 };
}

/**
 * Returns whether a char code may appear in a mnemonic: letters, digits, `_`, `-`.
 *
 * @param c Char code.
 * @returns True for `[A-Za-z0-9_-]`.
 */
function isMnemonicChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x5f || c === 0x2d;
}

/**
 * Reads `%FACILITY-<0..7>-MNEMONIC:` at `start`, followed by a space or the
 * end of the line.
 *
 * @param line Text to read.
 * @param start Index of the `%`.
 * @param out Receives program, severity, mnemonic and message start on success.
 * @returns True when a mnemonic was read.
 * @example
 * ```ts
 * const m = createMnemonicScan();
 * readCiscoMnemonic("%LINK-3-UPDOWN: Interface Gi0/1", 0, m); // true: "LINK", 3
 * ```
 */
export function readCiscoMnemonic(line: string, start: number, out: MnemonicScan): boolean {
  if (line.charCodeAt(start) !== 0x25 /* % */) return false;
  const limit = Math.min(line.length, start + MAX_TAG_CHARS);
  let severityAt = -1;
  let i = start + 1;
  for (; i < limit; i++) {
    const c = line.charCodeAt(i);
    if (!isMnemonicChar(c)) break;
    // The first "-<digit>-" with a name before it marks the severity.
    if (
      c === 0x2d && severityAt < 0 && i > start + 1 && line.charCodeAt(i + 2) === 0x2d
    ) {
      const d = line.charCodeAt(i + 1) - 48;
      if (d >= 0 && d <= 7) severityAt = i + 1;
    }
  }
  const colon = i;
  if (severityAt < 0 || colon <= severityAt + 2 || line.charCodeAt(colon) !== 0x3a /* : */) {
    return false;
  }
  const after = line.charCodeAt(colon + 1);
  if (after === after && after !== 0x20) return false; // neither the end nor a space
  let messageStart = colon + 1;
  while (line.charCodeAt(messageStart) === 0x20) messageStart++;
  out.program = line.slice(start + 1, severityAt - 1);
  out.severity = line.charCodeAt(severityAt) - 48;
  out.mnemonic = line.slice(start, colon);
  out.messageStart = messageStart;
  return true;
}
