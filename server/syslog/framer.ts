/**
 * RFC 6587 framing of syslog over TCP (and TLS, RFC 5425): bytes in, messages
 * out. Pure code, no sockets.
 *
 * Two framings exist and senders do not announce theirs:
 *
 * - octet counting, `LEN SP MSG` (`97 <13>1 2026-...`), the RFC 5425 framing,
 *   rsyslog's `tcp_framing="octet-counted"` and `logger --octet-count`;
 * - non-transparent framing, one message per line ending in LF (CR LF
 *   accepted), the traditional framing of rsyslog, syslog-ng and devices.
 *
 * The first frame of a connection decides. A frame that starts with 1 to
 * {@linkcode MAX_OCTET_COUNT_DIGITS} digits followed by a space is
 * octet-counted, and the connection then keeps checking each frame the same
 * way (a frame without a count is read up to its LF, as rsyslog does). Any
 * other first frame makes the connection newline-framed for good, so lines
 * that start with digits (`2026-11-23T...`, Cisco's `123: *Nov 23 ...`) are
 * never mistaken for a count.
 *
 * @module
 */

import { MAX_LINE_BYTES } from "../../protocol/mod.ts";
import { decodeLogBytes } from "../log_formats/mod.ts";

/**
 * Most digits in an octet count. Ten digits allow any count a sender could
 * mean; a longer run of digits is not a count and makes the frame a line.
 */
export const MAX_OCTET_COUNT_DIGITS = 10;

/** Receives what {@linkcode SyslogFramer.push} finds. */
export interface SyslogFrameSink {
  /**
   * A complete message, decoded as UTF-8, without its framing. A message that
   * is not UTF-8 comes escaped (`decodeLogBytes()` in server/log_formats).
   *
   * @param message The message, at most `maxFrameBytes` bytes of it.
   * @param droppedBytes Bytes cut off beyond `maxFrameBytes` (0 when the message is whole).
   * @param escaped The message holds invalid bytes as `\xNN` and backslashes as `\\`.
   */
  frame(message: string, droppedBytes: number, escaped: boolean): void;
}

/** Options of {@linkcode SyslogFramer}. */
export interface SyslogFramerOptions {
  /**
   * Longest message kept, in bytes. The rest of a longer message is read and
   * discarded without being buffered, and the kept part is reported with
   * the number of bytes dropped.
   * @default {MAX_LINE_BYTES} (64 KiB)
   */
  maxFrameBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;

const FRAME_START = 0;
const COUNT = 1;
const BODY = 2;
const LINE = 3;

const UNDECIDED = 0;
const OCTET_COUNTED = 1;
const NEWLINE = 2;

/**
 * Splits one connection's byte stream into syslog messages.
 *
 * @example
 * ```ts
 * const framer = new SyslogFramer();
 * const messages: string[] = [];
 * const sink = { frame: (m: string) => messages.push(m) };
 * framer.push(new TextEncoder().encode("11 <13>hello\n5 <13>a"), sink);
 * // messages: ["<13>hello\n", "<13>a"]
 * ```
 */
export class SyslogFramer {
  readonly #max: number;
  #mode = UNDECIDED;
  #state = FRAME_START;
  #count = 0;
  #countDigits = 0;
  #remaining = 0;
  #carry: Uint8Array;
  #carryLength = 0;
  #dropped = 0;
  /** Last byte appended to the carry or dropped, to find the CR of a CR LF. */
  #lastByte = 0;

  /** @param options The size limit. */
  constructor(options: SyslogFramerOptions = {}) {
    this.#max = options.maxFrameBytes ?? MAX_LINE_BYTES;
    if (!Number.isInteger(this.#max) || this.#max < 1) {
      throw new RangeError(`Cannot create a syslog framer: invalid maxFrameBytes ${this.#max}`);
    }
    this.#carry = new Uint8Array(Math.min(this.#max, 4096));
  }

  /** The framing this connection uses, once its first frame has told. */
  get framing(): "undecided" | "octet-counted" | "newline" {
    return this.#mode === OCTET_COUNTED
      ? "octet-counted"
      : this.#mode === NEWLINE
      ? "newline"
      : "undecided";
  }

  /**
   * Feeds bytes and reports every message they complete.
   *
   * @param chunk The next bytes of the stream.
   * @param sink Receives messages in stream order.
   */
  push(chunk: Uint8Array, sink: SyslogFrameSink): void {
    let i = 0;
    const length = chunk.length;
    while (i < length) {
      switch (this.#state) {
        case FRAME_START: {
          const b = chunk[i]!;
          if (this.#mode !== NEWLINE && b >= 0x30 && b <= 0x39) {
            this.#state = COUNT;
            this.#count = 0;
            this.#countDigits = 0;
          } else {
            if (this.#mode === UNDECIDED) this.#mode = NEWLINE;
            this.#state = LINE;
          }
          break;
        }
        case COUNT: {
          const b = chunk[i]!;
          if (b >= 0x30 && b <= 0x39 && this.#countDigits < MAX_OCTET_COUNT_DIGITS) {
            this.#count = this.#count * 10 + (b - 0x30);
            this.#countDigits++;
            // Kept in case this turns out to be the start of a line, not a count.
            this.#append(chunk, i, i + 1);
            i++;
          } else if (b === SP && this.#count > 0) {
            this.#mode = OCTET_COUNTED;
            this.#state = BODY;
            this.#remaining = this.#count;
            this.#carryLength = 0;
            this.#dropped = 0;
            i++;
          } else {
            // Not a count: the digits read so far open a newline-framed line.
            if (this.#mode === UNDECIDED) this.#mode = NEWLINE;
            this.#state = LINE;
          }
          break;
        }
        case BODY: {
          const take = Math.min(this.#remaining, length - i);
          if (take === this.#remaining && this.#carryLength === 0 && this.#dropped === 0) {
            // Fast path: the whole message lies in this chunk.
            const end = i + Math.min(take, this.#max);
            frame(sink, chunk.subarray(i, end), take - (end - i));
          } else {
            this.#append(chunk, i, i + take);
            if (take === this.#remaining) this.#emit(sink, false);
          }
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = FRAME_START;
          break;
        }
        case LINE: {
          const newline = chunk.indexOf(LF, i);
          if (newline < 0) {
            this.#append(chunk, i, length);
            i = length;
          } else if (this.#carryLength === 0 && this.#dropped === 0) {
            // Fast path: the whole line lies in this chunk.
            let end = newline;
            if (end > i && chunk[end - 1] === CR) end--;
            const kept = Math.min(end, i + this.#max);
            if (end > i) frame(sink, chunk.subarray(i, kept), end - kept);
            i = newline + 1;
            this.#state = FRAME_START;
          } else {
            this.#append(chunk, i, newline);
            this.#emit(sink, true);
            i = newline + 1;
            this.#state = FRAME_START;
          }
          break;
        }
      }
    }
  }

  /**
   * Reports what is left when the stream ends: a last line without its LF,
   * or the part of an octet-counted message that arrived (with the missing
   * bytes counted as dropped).
   *
   * @param sink Receives the last message, if any.
   */
  end(sink: SyslogFrameSink): void {
    if (this.#state === BODY) this.#dropped += this.#remaining;
    if (this.#state !== FRAME_START) this.#emit(sink, this.#state !== BODY);
    this.#state = FRAME_START;
    this.#remaining = 0;
  }

  /** Appends `chunk[start, end)` to the carry, keeping at most the limit and counting the rest. */
  #append(chunk: Uint8Array, start: number, end: number): void {
    const room = this.#max - this.#carryLength;
    const kept = Math.min(room, end - start);
    this.#dropped += end - start - kept;
    if (end > start) this.#lastByte = chunk[end - 1]!;
    if (kept <= 0) return;
    const needed = this.#carryLength + kept;
    if (needed > this.#carry.length) {
      const grown = new Uint8Array(Math.min(this.#max, Math.max(needed, this.#carry.length * 2)));
      grown.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = grown;
    }
    this.#carry.set(chunk.subarray(start, start + kept), this.#carryLength);
    this.#carryLength = needed;
  }

  /** Reports the carried message and resets the carry. */
  #emit(sink: SyslogFrameSink, line: boolean): void {
    let end = this.#carryLength;
    let dropped = this.#dropped;
    // A line's CR before LF is framing, not content.
    if (line && this.#lastByte === CR) {
      if (dropped > 0) dropped--;
      else if (end > 0) end--;
    }
    this.#carryLength = 0;
    this.#dropped = 0;
    this.#lastByte = 0;
    if (end === 0 && dropped === 0) return; // an empty line is no message
    frame(sink, this.#carry.subarray(0, end), dropped);
  }
}

/** Decodes a message's bytes (escaped when not UTF-8) and hands it to the sink. */
function frame(sink: SyslogFrameSink, bytes: Uint8Array, dropped: number): void {
  const { text, escaped } = decodeLogBytes(bytes);
  sink.frame(text, dropped, escaped);
}
