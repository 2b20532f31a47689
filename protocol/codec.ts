/**
 * Pure parsing and formatting of protocol lines. Nothing here throws on
 * untrusted input: parsers return a result object instead.
 *
 * @module
 */

import type { Ack, Command } from "./commands.ts";
import { FAIL, type FailReason } from "./messages.ts";

/** Result of {@linkcode parseCommand}. */
export type ParseResult =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly reason: FailReason };

/** Result of {@linkcode parseAck}. */
export type AckParseResult =
  | { readonly ok: true; readonly ack: Ack }
  | { readonly ok: false; readonly reason: string };

/** Longest `EVENT` stream id, in characters. */
const MAX_STREAM_CHARS = 64;
/** Most digits of an `EVENT` position (and of other protocol integers). */
const MAX_UINT_DIGITS = 16;
/** Shape of an `EVENT` stream id: URL-safe, 1 to {@linkcode MAX_STREAM_CHARS} characters. */
const STREAM_PATTERN = new RegExp(`^[A-Za-z0-9_.:-]{1,${MAX_STREAM_CHARS}}$`);
/** Shape of a non-negative decimal integer. */
const UINT_PATTERN = new RegExp(`^\\d{1,${MAX_UINT_DIGITS}}$`);
/** The verb of the common event line, as agents send it. */
const EVENT_VERB = "EVENT ";

function fail(reason: FailReason): ParseResult {
  return { ok: false, reason };
}

/** Splits off the first space-separated word; the rest keeps its spaces. */
function word(text: string): [string, string] {
  const space = text.indexOf(" ");
  return space < 0 ? [text, ""] : [text.slice(0, space), text.slice(space + 1)];
}

/**
 * Parses one protocol line (without its line terminator) into a command.
 *
 * Verbs are case-insensitive. Arguments are separated by single spaces; the
 * last argument of LOGIN, REGISTER, BATCH_EVENT and EVENT takes the rest of
 * the line, spaces included.
 *
 * @param line One line as received, with `\n` and any `\r` removed.
 * @returns The command, or the `ACK FAIL` reason for a bad line.
 * @example
 * ```ts
 * const r = parseCommand("LOGIN admin admin");
 * if (r.ok && r.command.type === "LOGIN") console.log(r.command.username);
 * ```
 */
export function parseCommand(line: string): ParseResult {
  if (line.length === 0) return fail(FAIL.emptyLine);
  if (line.includes("\0")) return fail(FAIL.nulByte);
  const [rawVerb, rest] = word(line);
  switch (rawVerb.toUpperCase()) {
    case "BATCH_EVENT":
      return rest.length === 0
        ? fail(FAIL.usageBatchEvent)
        : { ok: true, command: { type: "BATCH_EVENT", message: rest } };
    case "EVENT":
      return parseEvent(rest);
    case "LOGIN": {
      const [username, password] = word(rest);
      if (username.length === 0 || password.length === 0) return fail(FAIL.usageLogin);
      return { ok: true, command: { type: "LOGIN", username, password } };
    }
    case "REGISTER": {
      const [version, afterVersion] = word(rest);
      const [hostname, os] = word(afterVersion);
      if (!version || !hostname || !os) return fail(FAIL.usageRegister);
      return { ok: true, command: { type: "REGISTER", version, hostname, os } };
    }
    case "HEARTBEAT":
      return parseHeartbeat(rest);
    case "BYE":
      return rest.length === 0 ? { ok: true, command: { type: "BYE" } } : fail(FAIL.usageBye);
    case "TICKET":
      return rest.length === 0 ? { ok: true, command: { type: "TICKET" } } : fail(FAIL.usageTicket);
    default:
      return fail(FAIL.unknownCommand);
  }
}

function parseEvent(rest: string): ParseResult {
  const [stream, afterStream] = word(rest);
  const [position, message] = word(afterStream);
  if (!STREAM_PATTERN.test(stream) || !UINT_PATTERN.test(position) || message.length === 0) {
    return fail(FAIL.usageEvent);
  }
  const value = Number(position);
  if (!Number.isSafeInteger(value)) return fail(FAIL.usageEvent);
  return { ok: true, command: { type: "EVENT", stream, position: value, message } };
}

/** The parts of a well-formed `EVENT` line, filled by {@linkcode readEventLine}. */
export interface EventLineParts {
  /** Id of the source the line comes from, as in {@linkcode EventCommand.stream}. */
  stream: string;
  /** Position of the line in its stream. */
  position: number;
  /** The log line itself. */
  message: string;
}

/**
 * Reads the common, well-formed `EVENT <stream> <position> <message>` line
 * (verb in capitals) without the intermediate strings of
 * {@linkcode parseCommand}: the server's hot path. When `previousStream`
 * repeats, that same string is reused. For any other line, valid or not, it
 * returns false and the caller asks {@linkcode parseCommand}, which gives the
 * command or the exact failure reason; for lines it accepts, both agree.
 * Lines holding a NUL must not be passed (parseCommand rejects them).
 *
 * @param line One line, without its terminator and without NUL.
 * @param previousStream The stream of the line before, or null.
 * @param out Receives the parts when the line is read.
 * @returns Whether the line was read.
 * @example
 * ```ts
 * const parts = { stream: "", position: 0, message: "" };
 * readEventLine("EVENT s1 10 hello", null, parts); // true: "s1", 10, "hello"
 * ```
 */
export function readEventLine(
  line: string,
  previousStream: string | null,
  out: EventLineParts,
): boolean {
  if (!line.startsWith(EVENT_VERB)) return false;
  const afterStream = line.indexOf(" ", EVENT_VERB.length);
  const streamLength = afterStream - EVENT_VERB.length;
  if (streamLength < 1 || streamLength > MAX_STREAM_CHARS) return false;
  const afterPosition = line.indexOf(" ", afterStream + 1);
  const digits = afterPosition - afterStream - 1;
  if (digits < 1 || digits > MAX_UINT_DIGITS || afterPosition === line.length - 1) return false;
  let position = 0;
  for (let i = afterStream + 1; i < afterPosition; i++) {
    const digit = line.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return false;
    position = position * 10 + digit;
  }
  if (!Number.isSafeInteger(position)) return false;
  if (
    previousStream !== null && previousStream.length === streamLength &&
    line.startsWith(previousStream, EVENT_VERB.length)
  ) {
    out.stream = previousStream;
  } else {
    const stream = line.slice(EVENT_VERB.length, afterStream);
    if (!STREAM_PATTERN.test(stream)) return false;
    out.stream = stream;
  }
  out.position = position;
  out.message = line.slice(afterPosition + 1);
  return true;
}

function parseHeartbeat(rest: string): ParseResult {
  const parts = rest.split(" ");
  const uptime = Number(parts[0]);
  if (!parts[0] || !Number.isFinite(uptime) || uptime < 0 || parts.length > 2) {
    return fail(FAIL.usageHeartbeat);
  }
  const uptimeSeconds = Math.floor(uptime);
  if (parts.length === 1) return { ok: true, command: { type: "HEARTBEAT", uptimeSeconds } };
  const lag = parts[1]!;
  if (!lag.startsWith("lag=") || !UINT_PATTERN.test(lag.slice(4))) {
    return fail(FAIL.usageHeartbeat);
  }
  return {
    ok: true,
    command: { type: "HEARTBEAT", uptimeSeconds, lagBytes: Number(lag.slice(4)) },
  };
}

/**
 * Formats a command as one protocol line, without the trailing newline.
 *
 * @param command The command to format.
 * @returns The line, e.g. `HEARTBEAT 3600`.
 * @example
 * ```ts
 * formatCommand({ type: "BATCH_EVENT", message: "sshd: session opened" });
 * // "BATCH_EVENT sshd: session opened"
 * ```
 */
export function formatCommand(command: Command): string {
  switch (command.type) {
    case "LOGIN":
      return `LOGIN ${command.username} ${command.password}`;
    case "REGISTER":
      return `REGISTER ${command.version} ${command.hostname} ${command.os}`;
    case "HEARTBEAT":
      return command.lagBytes === undefined
        ? `HEARTBEAT ${command.uptimeSeconds}`
        : `HEARTBEAT ${command.uptimeSeconds} lag=${command.lagBytes}`;
    case "BATCH_EVENT":
      return `BATCH_EVENT ${command.message}`;
    case "EVENT":
      return `EVENT ${command.stream} ${command.position} ${command.message}`;
    case "BYE":
      return "BYE";
    case "TICKET":
      return "TICKET";
  }
}

/**
 * Formats an acknowledgement line, without the trailing newline.
 *
 * @param ok Whether the command succeeded.
 * @param message The OK text or FAIL reason (see `messages.ts`).
 * @returns `ACK OK <message>` or `ACK FAIL <message>`.
 * @example
 * ```ts
 * formatAck(true, "Login successful"); // "ACK OK Login successful"
 * ```
 */
export function formatAck(ok: boolean, message: string): string {
  return `ACK ${ok ? "OK" : "FAIL"} ${message}`;
}

/**
 * Formats an acknowledgement line with its newline, ready to write.
 *
 * @param ok Whether the command succeeded.
 * @param message The OK text or FAIL reason (see `messages.ts`).
 * @returns `ACK OK <message>\n` or `ACK FAIL <message>\n`.
 * @example
 * ```ts
 * formatAckLine(false, "Invalid credentials"); // "ACK FAIL Invalid credentials\n"
 * ```
 */
export function formatAckLine(ok: boolean, message: string): string {
  return `${formatAck(ok, message)}\n`;
}

/**
 * Parses a server line as an acknowledgement.
 *
 * @param line One line from the server, without its terminator.
 * @returns The acknowledgement, or why the line is not one.
 * @example
 * ```ts
 * const r = parseAck("ACK FAIL Invalid credentials");
 * // r.ok && !r.ack.ok && r.ack.message === "Invalid credentials"
 * ```
 */
export function parseAck(line: string): AckParseResult {
  if (line.startsWith("ACK OK ")) return { ok: true, ack: { ok: true, message: line.slice(7) } };
  if (line.startsWith("ACK FAIL ")) {
    return { ok: true, ack: { ok: false, message: line.slice(9) } };
  }
  return { ok: false, reason: `Not an acknowledgement: ${JSON.stringify(line.slice(0, 80))}` };
}

const EVENT_PREFIX = [69, 86, 69, 78, 84, 32]; // "EVENT "
const SPACE = 0x20;
const LF = 0x0a;

/**
 * Most bytes {@linkcode encodeEventLine} writes for a stream id and a message
 * of these sizes: room to reserve before calling it.
 *
 * @param streamBytes Length of the stream id, in bytes.
 * @param messageBytes Length of the message, in bytes.
 * @returns The longest the encoded line can be, newline included.
 * @example
 * ```ts
 * eventLineMaxBytes(22, 100); // 147
 * ```
 */
export function eventLineMaxBytes(streamBytes: number, messageBytes: number): number {
  return EVENT_PREFIX.length + streamBytes + 1 + MAX_UINT_DIGITS + 1 + messageBytes + 1;
}

/**
 * Writes `EVENT <stream> <position> <message>` and its newline into `out`
 * without allocating: the agent's hot path, which copies each line's bytes as
 * read from the file. The same line as {@linkcode formatCommand} gives, encoded
 * as UTF-8. The caller checks the parts: a stream id as
 * {@linkcode parseCommand} accepts it, a safe integer position, and a
 * non-empty message without line breaks or NUL.
 *
 * @param out The buffer, with {@linkcode eventLineMaxBytes} bytes of room from `at`.
 * @param at Where the line starts in `out`.
 * @param stream The stream id, as ASCII bytes.
 * @param position The end offset of the line in its stream.
 * @param message The line's bytes.
 * @returns The offset just after the newline.
 * @example
 * ```ts
 * const encoder = new TextEncoder();
 * const stream = encoder.encode("q8Jc0mRk3lq2wK0nTnVb3A");
 * const message = encoder.encode("sshd: session opened");
 * const out = new Uint8Array(eventLineMaxBytes(stream.length, message.length));
 * const end = encodeEventLine(out, 0, stream, 42, message);
 * new TextDecoder().decode(out.subarray(0, end)); // "EVENT q8Jc0mRk3lq2wK0nTnVb3A 42 sshd: session opened\n"
 * ```
 */
export function encodeEventLine(
  out: Uint8Array,
  at: number,
  stream: Uint8Array,
  position: number,
  message: Uint8Array,
): number {
  for (let i = 0; i < EVENT_PREFIX.length; i++) out[at++] = EVENT_PREFIX[i]!;
  out.set(stream, at);
  at += stream.length;
  out[at++] = SPACE;
  at = writeDigits(out, at, position);
  out[at++] = SPACE;
  out.set(message, at);
  at += message.length;
  out[at++] = LF;
  return at;
}

/**
 * Writes a non-negative safe integer as ASCII decimal digits.
 *
 * @returns The index after the last digit.
 */
function writeDigits(out: Uint8Array, at: number, value: number): number {
  if (value < 10) {
    out[at] = 0x30 + value;
    return at + 1;
  }
  let digits = 0;
  for (let v = value; v >= 1; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = at + digits - 1; i >= at; i--) {
    out[i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return at + digits;
}
const BATCH_EVENT_PREFIX = [66, 65, 84, 67, 72, 95, 69, 86, 69, 78, 84, 32]; // "BATCH_EVENT "

function startsWithVerb(bytes: Uint8Array, verb: readonly number[]): boolean {
  if (bytes.length <= verb.length) return false;
  for (let i = 0; i < verb.length; i++) {
    const byte = bytes[i]!;
    // ASCII letters compare case-insensitively, as parseCommand's verbs do.
    if (byte !== verb[i] && (byte & 0xdf) !== verb[i]) return false;
  }
  return true;
}

/**
 * Tells from a line's first bytes whether it is an `EVENT` or `BATCH_EVENT`
 * command, without decoding it: the server's hot path forwards such lines to
 * a worker as bytes. The line is still fully validated by
 * {@linkcode parseCommand} there.
 *
 * @param bytes One line, without its terminator.
 * @returns `"EVENT"`, `"BATCH_EVENT"` or null for any other line.
 * @example
 * ```ts
 * eventVerb(new TextEncoder().encode("EVENT s1 10 hello")); // "EVENT"
 * ```
 */
export function eventVerb(bytes: Uint8Array): "EVENT" | "BATCH_EVENT" | null {
  if (startsWithVerb(bytes, EVENT_PREFIX)) return "EVENT";
  if (startsWithVerb(bytes, BATCH_EVENT_PREFIX)) return "BATCH_EVENT";
  return null;
}
