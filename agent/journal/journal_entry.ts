/**
 * Turns one entry of `journalctl --output=json` into the syslog-style line
 * the agent sends, with the stream and position that make a resend
 * exactly-once:
 *
 * ```text
 * <PRI><ISO time> <_HOSTNAME> <SYSLOG_IDENTIFIER or _COMM>[<_PID>]: <MESSAGE>
 * <30>2026-11-23T19:43:33.123456Z web-01 systemd[1]: Started Session 7 of User deploy.
 * ```
 *
 * - PRI is `SYSLOG_FACILITY` (default 1, user) × 8 + `PRIORITY` (default 6,
 *   info), so the server's RFC 3164 parser reads the severity.
 * - The time is `_SOURCE_REALTIME_TIMESTAMP` when present, else
 *   `__REALTIME_TIMESTAMP` (microseconds, UTC).
 * - Field values that journalctl prints as byte arrays (non-UTF-8 or binary
 *   data) are decoded as UTF-8 with U+FFFD; line breaks and other control
 *   characters in the message become rsyslog-style octal escapes (`#012`
 *   for `\n`), so a multi-line message stays one line.
 * - The stream is `journal-<seqnum id>-<machine id prefix>` from the cursor's
 *   `s=` field and `_MACHINE_ID`; the position is the entry's sequence
 *   number (the cursor's `i=`, hexadecimal). Sequence numbers increase within
 *   one seqnum id, so the server's (stream, position) key drops resends.
 *
 * Everything here is pure and never throws: entries are written by any local
 * process, so they are untrusted.
 *
 * @module
 */

/** Longest host name put into a line; longer names are cut. */
export const MAX_JOURNAL_HOSTNAME_CHARS = 255;
/** Longest identifier (program name) put into a line; longer ones are cut. */
export const MAX_JOURNAL_IDENTIFIER_CHARS = 64;
/** Hexadecimal characters of `_MACHINE_ID` kept in the stream id. */
export const MACHINE_ID_STREAM_CHARS = 16;
/** Prefix of the stream ids of journal entries. */
export const JOURNAL_STREAM_PREFIX = "journal-";

/** A journal entry ready to send. */
export interface JournalLine {
  /** Stream id: `journal-<seqnum id>[-<machine id prefix>]`. */
  readonly stream: string;
  /** The entry's sequence number within that stream. */
  readonly position: number;
  /** The entry's cursor, to resume after it (`--after-cursor`). */
  readonly cursor: string;
  /** The syslog-style line. */
  readonly line: string;
}

/** Result of {@linkcode journalEntryToLine}. */
export type JournalEntryResult =
  | { readonly ok: true; readonly entry: JournalLine }
  | { readonly ok: false; readonly reason: string };

/** Options of {@linkcode journalEntryToLine}. */
export interface JournalEntryOptions {
  /** Host name for entries without `_HOSTNAME`. */
  readonly fallbackHostname: string;
  /** Time for entries without a valid timestamp, in ms since the epoch. */
  readonly nowMs: number;
}

/**
 * The parts of a journal cursor the agent uses.
 *
 * @param cursor A cursor such as `s=7a1f…;i=1c2;b=…;m=…;t=…;x=…`.
 * @returns The seqnum id (lowercase hex) and the sequence number, or
 *   undefined when either is missing or malformed.
 * @example
 * ```ts
 * parseJournalCursor("s=0123456789abcdef0123456789abcdef;i=1c2;b=00;m=1;t=2;x=3");
 * // { seqnumId: "0123456789abcdef0123456789abcdef", seqnum: 450 }
 * ```
 */
export function parseJournalCursor(
  cursor: string,
): { seqnumId: string; seqnum: number } | undefined {
  let seqnumId: string | undefined;
  let seqnum: number | undefined;
  for (const field of cursor.split(";")) {
    if (field.startsWith("s=")) seqnumId = field.slice(2);
    else if (field.startsWith("i=")) {
      const hex = field.slice(2);
      if (/^[0-9a-fA-F]{1,14}$/.test(hex)) seqnum = parseInt(hex, 16);
    }
  }
  if (seqnumId === undefined || !/^[0-9a-fA-F]{1,32}$/.test(seqnumId)) return undefined;
  if (seqnum === undefined || !Number.isSafeInteger(seqnum)) return undefined;
  return { seqnumId: seqnumId.toLowerCase(), seqnum };
}

const decoder = new TextDecoder();

/**
 * A field value as text: strings as they are, byte arrays decoded as UTF-8;
 * for a field that occurs several times, its first value.
 */
function fieldText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (typeof value[0] === "number") {
    const bytes = new Uint8Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const byte = value[i];
      if (typeof byte !== "number" || !Number.isInteger(byte) || byte < 0 || byte > 255) {
        return undefined;
      }
      bytes[i] = byte;
    }
    return decoder.decode(bytes);
  }
  return fieldText(value[0]);
}

/** A small integer field (`PRIORITY`, `_PID`), or undefined. */
function fieldInteger(value: unknown, max: number): number | undefined {
  const text = fieldText(value);
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/** One token without spaces, brackets or colons (they would confuse the tag parser). */
function token(text: string | undefined, maxChars: number): string | undefined {
  if (text === undefined) return undefined;
  // deno-lint-ignore no-control-regex
  const cleaned = text.replace(/[\s\x00-\x1f\x7f[\]:]/g, "_").slice(0, maxChars);
  return cleaned.length > 0 ? cleaned : undefined;
}

/** Control characters but tab: escaped in messages. */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f]/g;

/** Replaces control characters but tab with `#` and three octal digits, as rsyslog does. */
function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => "#" + c.charCodeAt(0).toString(8).padStart(3, "0"));
}

/** Microseconds since the epoch as an RFC 3339 UTC time with six decimals. */
function isoMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // "2026-11-23T19:43:33.123Z"
  const frac = String(micros % 1_000_000).padStart(6, "0");
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** A microsecond timestamp field, or undefined when absent or out of range. */
function fieldMicros(value: unknown): number | undefined {
  const text = fieldText(value);
  if (text === undefined || !/^\d{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  // Year 1970 to 9999: Date cannot format beyond.
  return Number.isSafeInteger(n) && n < 253402300800_000_000 ? n : undefined;
}

/**
 * Converts one parsed `journalctl --output=json` object into a line to send.
 *
 * @param entry The parsed JSON object.
 * @param options Fallbacks for a missing host name and time.
 * @returns The line with its stream, position and cursor, or why the entry
 *   cannot be sent exactly once (no usable cursor).
 * @example
 * ```ts
 * const result = journalEntryToLine({
 *   __CURSOR: "s=0123456789abcdef0123456789abcdef;i=2a;b=1;m=1;t=1;x=1",
 *   __REALTIME_TIMESTAMP: "1795462813123456",
 *   _HOSTNAME: "web-01", SYSLOG_IDENTIFIER: "sshd", _PID: "812", PRIORITY: "6",
 *   SYSLOG_FACILITY: "4", MESSAGE: "Accepted publickey for deploy",
 * }, { fallbackHostname: "localhost", nowMs: Date.now() });
 * // result.entry.line: "<38>2026-11-23T19:40:13.123456Z web-01 sshd[812]: Accepted publickey for deploy"
 * // result.entry.position: 42
 * ```
 */
export function journalEntryToLine(
  entry: unknown,
  options: JournalEntryOptions,
): JournalEntryResult {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    return { ok: false, reason: "not a JSON object" };
  }
  const fields = entry as Record<string, unknown>;
  const cursor = fields["__CURSOR"];
  if (typeof cursor !== "string") return { ok: false, reason: "no __CURSOR" };
  const parsed = parseJournalCursor(cursor);
  if (parsed === undefined) return { ok: false, reason: "malformed __CURSOR" };
  const machine = fieldText(fields["_MACHINE_ID"]);
  const machinePart = machine !== undefined && /^[0-9a-fA-F]{1,32}$/.test(machine)
    ? `-${machine.slice(0, MACHINE_ID_STREAM_CHARS).toLowerCase()}`
    : "";
  const stream = `${JOURNAL_STREAM_PREFIX}${parsed.seqnumId}${machinePart}`;

  const severity = fieldInteger(fields["PRIORITY"], 7) ?? 6;
  const facility = fieldInteger(fields["SYSLOG_FACILITY"], 23) ?? 1;
  const micros = fieldMicros(fields["_SOURCE_REALTIME_TIMESTAMP"]) ??
    fieldMicros(fields["__REALTIME_TIMESTAMP"]) ?? Math.max(0, Math.floor(options.nowMs)) * 1000;
  const host = token(fieldText(fields["_HOSTNAME"]), MAX_JOURNAL_HOSTNAME_CHARS) ??
    token(options.fallbackHostname, MAX_JOURNAL_HOSTNAME_CHARS) ?? "localhost";
  const ident = token(fieldText(fields["SYSLOG_IDENTIFIER"]), MAX_JOURNAL_IDENTIFIER_CHARS) ??
    token(fieldText(fields["_COMM"]), MAX_JOURNAL_IDENTIFIER_CHARS) ?? "journal";
  const pid = fieldInteger(fields["_PID"], 2 ** 31) ?? fieldInteger(fields["SYSLOG_PID"], 2 ** 31);
  const message = escapeControls((fieldText(fields["MESSAGE"]) ?? "").replace(/[\r\n]+$/, ""));
  const line = `<${facility * 8 + severity}>${isoMicros(micros)} ${host} ${ident}${
    pid === undefined ? "" : `[${pid}]`
  }: ${message}`;
  return { ok: true, entry: { stream, position: parsed.seqnum, cursor, line } };
}
