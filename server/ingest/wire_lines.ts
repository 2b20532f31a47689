/**
 * Agent event lines kept as bytes: the main thread copies each `EVENT` /
 * `BATCH_EVENT` line into one growing buffer and hands the buffer to a pool
 * worker as a transferable, without decoding or cloning any line. The
 * growing buffer is taken from a shared pool at the first line and given
 * back when the connection goes idle, so an idle connection holds none.
 *
 * @module
 */

import { BufferPool } from "../buffer_pool.ts";

/** Starting capacity of a batch buffer, in bytes; it doubles as needed. */
const INITIAL_BYTES = 64 * 1024;
/**
 * Free batch buffers kept for reuse by all connections. Batches are built
 * between a read and its dispatch, so few are taken at once; more are
 * allocated, and dropped when given back.
 */
export const MAX_POOLED_BATCH_BUFFERS = 16;

/** Starting buffers of the batches being built, shared by every builder. */
export const BATCH_BUFFERS: BufferPool = new BufferPool(INITIAL_BYTES, MAX_POOLED_BATCH_BUFFERS);

const EMPTY: Uint8Array<ArrayBuffer> = new Uint8Array(0);

const encoder = new TextEncoder();

/** Byte that follows every line in a batch, so a worker can decode the whole batch at once. */
export const WIRE_LINE_END = 10; // "\n"

/**
 * The transferable form of a batch: all lines back to back, each followed by
 * {@linkcode WIRE_LINE_END}, and where each ends.
 */
export interface WireLines {
  readonly bytes: Uint8Array;
  /** `ends[i]` is the offset in `bytes` just after line i, before its `\n`. */
  readonly ends: Uint32Array;
}

/**
 * Collects lines as bytes until they are taken as {@linkcode WireLines}.
 *
 * @example
 * ```ts
 * const wire = new WireLinesBuilder();
 * wire.append(new TextEncoder().encode("EVENT s1 10 hello"));
 * const { bytes, ends } = wire.take();
 * ```
 */
export class WireLinesBuilder {
  #bytes: Uint8Array<ArrayBuffer> = EMPTY;
  /** Whether {@linkcode #bytes} came from {@linkcode BATCH_BUFFERS}. */
  #pooled = false;
  #length = 0;
  #ends: number[] = [];

  /** Lines collected. */
  get count(): number {
    return this.#ends.length;
  }

  /** Bytes of buffer this builder holds now: none between batches. */
  get heldBytes(): number {
    return this.#bytes.length;
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    if (this.#bytes.length === 0 && extra <= BATCH_BUFFERS.bytes) {
      this.#bytes = BATCH_BUFFERS.take();
      this.#pooled = true;
      return;
    }
    const grown = new Uint8Array(
      Math.max(this.#bytes.length * 2, this.#length + extra, INITIAL_BYTES),
    );
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#release();
    this.#bytes = grown;
  }

  /** Lets go of the buffer, giving it back to the pool if it came from there. */
  #release(): void {
    if (this.#pooled) BATCH_BUFFERS.give(this.#bytes);
    this.#pooled = false;
    this.#bytes = EMPTY;
  }

  /** Copies one line's bytes (given without terminator; it must not contain `\n`). */
  append(line: Uint8Array): void {
    this.#reserve(line.length + 1);
    this.#bytes.set(line, this.#length);
    this.#length += line.length;
    this.#ends.push(this.#length);
    this.#bytes[this.#length++] = WIRE_LINE_END;
  }

  /** Appends one line given as text (the rare path, after a non-event line). */
  appendText(line: string): void {
    this.#reserve(line.length * 3 + 1);
    this.#length += encoder.encodeInto(line, this.#bytes.subarray(this.#length)).written;
    this.#ends.push(this.#length);
    this.#bytes[this.#length++] = WIRE_LINE_END;
  }

  /**
   * Hands over the collected lines and starts an empty batch in the same
   * buffer, so a busy connection does not allocate one per batch.
   */
  take(): WireLines {
    const taken = {
      bytes: this.#bytes.slice(0, this.#length),
      ends: Uint32Array.from(this.#ends),
    };
    this.#length = 0;
    this.#ends = [];
    return taken;
  }

  /**
   * Gives the buffer back (to the pool if it came from there) when no line is
   * held: called when the connection goes idle, so an idle one holds none.
   *
   * @param discard Drop lines still held too (the connection has closed).
   */
  release(discard = false): void {
    if (discard) {
      this.#length = 0;
      this.#ends = [];
    }
    if (this.#length === 0) this.#release();
  }
}
