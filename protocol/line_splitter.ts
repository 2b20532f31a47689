/**
 * A byte-level line splitter with a maximum line length, shared by the server
 * (socket bytes) and the agent (file bytes). Unlike a text stream splitter it
 * never buffers more than `maxLineBytes` of one line, and it reports where in
 * the byte stream each line ended.
 *
 * @module
 */

import { MAX_LINE_BYTES } from "./limits.ts";

/** Receives what {@linkcode LineSplitter.push} finds. */
export interface LineSink {
  /**
   * A complete line, decoded as UTF-8 (invalid bytes become U+FFFD), without
   * its `\n` or a `\r` before it.
   *
   * @param text The line.
   * @param endOffset Stream offset just after the line's `\n`.
   */
  line(text: string, endOffset: number): void;
  /**
   * A line longer than the limit ended; its bytes were discarded.
   *
   * @param bytes How many bytes the line had, newline excluded.
   * @param endOffset Stream offset just after the line's `\n`.
   */
  overflow(bytes: number, endOffset: number): void;
}

/** Receives what {@linkcode LineSplitter.pushBytes} finds, undecoded. */
export interface ByteLineSink {
  /**
   * A complete line's bytes, without its `\n` or a `\r` before it. The view is
   * only valid during the call: copy what you keep.
   *
   * @param bytes The line.
   * @param endOffset Stream offset just after the line's `\n`.
   */
  line(bytes: Uint8Array, endOffset: number): void;
  /** Same as {@linkcode LineSink.overflow}. */
  overflow(bytes: number, endOffset: number): void;
}

/** Options of {@linkcode LineSplitter}. */
export interface LineSplitterOptions {
  /**
   * Longest line in bytes, line terminator excluded.
   * @default {MAX_LINE_BYTES} (64 KiB)
   */
  maxLineBytes?: number;
  /**
   * Stream offset of the first byte that will be pushed.
   * @default {0}
   */
  startOffset?: number;
}

const LF = 10;
const CR = 13;
/** Size of the buffer first taken for a partial line, in bytes; it doubles as needed. */
const FIRST_CARRY_BYTES = 4096;
const NO_CARRY = new Uint8Array(0);

/**
 * Splits a byte stream into lines at `\n`, accepting `\r\n`.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const splitter = new LineSplitter();
 * const sink = { line: (t: string) => lines.push(t), overflow: () => {} };
 * splitter.push(new TextEncoder().encode("a\r\nb\nc"), sink);
 * // lines: ["a", "b"]; "c" waits for its newline
 * ```
 */
export class LineSplitter {
  readonly #max: number;
  #decoder: TextDecoder | undefined;
  /** Bytes of a line whose newline has not arrived; allocated on first need, so an idle splitter holds none. */
  #carry: Uint8Array = NO_CARRY;
  #carryLength = 0;
  #discarding = false;
  #discarded = 0;
  #offset: number;

  /**
   * Creates a splitter that has seen no bytes yet.
   *
   * @param options Limits and the starting offset.
   */
  constructor(options: LineSplitterOptions = {}) {
    this.#max = options.maxLineBytes ?? MAX_LINE_BYTES;
    if (!Number.isInteger(this.#max) || this.#max < 1) {
      throw new RangeError(`Cannot create a line splitter: invalid maxLineBytes ${this.#max}`);
    }
    this.#offset = options.startOffset ?? 0;
  }

  /** Stream offset just after the last complete line (the start of the held partial line). */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes held for a line whose newline has not arrived yet (discarded bytes included). */
  get pendingBytes(): number {
    return this.#discarding ? this.#discarded : this.#carryLength;
  }

  /**
   * Lets go of the buffer of partial lines when it holds none, so a splitter
   * that goes idle between lines keeps no buffer. A no-op while a partial
   * line is held.
   */
  compact(): void {
    if (this.#carryLength === 0) this.#carry = NO_CARRY;
  }

  /** Bytes of buffer held for partial lines (0 after {@linkcode compact} between lines). */
  get heldBytes(): number {
    return this.#carry.length;
  }

  /**
   * Feeds bytes and reports every line they complete, decoded as UTF-8.
   *
   * @param chunk The next bytes of the stream.
   * @param sink Receives lines and overflows, in stream order.
   */
  push(chunk: Uint8Array, sink: LineSink): void {
    const decoder = this.#decoder ??= new TextDecoder();
    this.pushBytes(chunk, {
      line: (bytes, end) => sink.line(decoder.decode(bytes), end),
      overflow: (bytes, end) => sink.overflow(bytes, end),
    });
  }

  /**
   * Feeds bytes and reports every line they complete as bytes, so a caller
   * that only forwards lines never decodes them.
   *
   * @param chunk The next bytes of the stream.
   * @param sink Receives line views and overflows, in stream order.
   */
  pushBytes(chunk: Uint8Array, sink: ByteLineSink): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(LF, start);
      if (newline < 0) break;
      const length = newline - start;
      const end = this.#offset + this.pendingBytes + length + 1;
      if (this.#discarding) {
        sink.overflow(this.#discarded + length, end);
        this.#discarding = false;
        this.#discarded = 0;
      } else if (this.#carryLength > 0) {
        const total = this.#carryLength + length;
        if (this.#contentLength(total, chunk, newline) > this.#max) {
          sink.overflow(total, end);
        } else {
          this.#append(chunk.subarray(start, newline));
          sink.line(this.#trim(this.#carry, this.#carryLength), end);
        }
        this.#carryLength = 0;
      } else if (this.#contentLength(length, chunk, newline) > this.#max) {
        sink.overflow(length, end);
      } else {
        sink.line(this.#trim(chunk.subarray(start, newline), length), end);
      }
      this.#offset = end;
      start = newline + 1;
    }
    const rest = chunk.length - start;
    if (rest === 0) return;
    if (this.#discarding) {
      this.#discarded += rest;
    } else if (this.#carryLength + rest > this.#max + 1) {
      // +1 leaves room for a `\r` whose `\n` is in the next chunk.
      this.#discarding = true;
      this.#discarded = this.#carryLength + rest;
      this.#carryLength = 0;
    } else {
      this.#append(chunk.subarray(start));
    }
  }

  /** Length of a line's content: a final `\r` does not count against the limit. */
  #contentLength(length: number, chunk: Uint8Array, newline: number): number {
    if (length === 0) return 0;
    const last = newline > 0 ? chunk[newline - 1] : this.#carry[this.#carryLength - 1];
    return last === CR ? length - 1 : length;
  }

  /** The first `length` bytes without a final `\r`. */
  #trim(bytes: Uint8Array, length: number): Uint8Array {
    const end = length > 0 && bytes[length - 1] === CR ? length - 1 : length;
    return bytes.subarray(0, end);
  }

  #append(bytes: Uint8Array): void {
    const needed = this.#carryLength + bytes.length;
    if (needed > this.#carry.length) {
      const grown = new Uint8Array(
        Math.max(needed, this.#carry.length * 2, Math.min(this.#max + 1, FIRST_CARRY_BYTES)),
      );
      grown.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = grown;
    }
    this.#carry.set(bytes, this.#carryLength);
    this.#carryLength = needed;
  }
}
