/**
 * Agent event lines kept as bytes: the main thread copies each `EVENT` /
 * `BATCH_EVENT` line into one growing buffer and hands the buffer to a pool
 * worker as a transferable, without decoding or cloning any line. The
 * growing buffer is taken from a shared pool at the first line and given
 * back when the connection goes idle, so an idle connection holds none: a
 * small one first, since most agents send a line or a few at a time, and a
 * large one once the lines outgrow it.
 *
 * @module
 */

import { BufferPool } from "../../common/buffer_pool.ts";

/**
 * Capacity of the buffer a batch starts in, in bytes: a few agent lines. A
 * connection holds it from its first line until it goes idle, which includes
 * the wait for a batch credit; thousands of agents that each send a line at a
 * time then hold thousands of these, not thousands of large ones.
 */
const SMALL_BYTES = 4 * 1024;
/**
 * Free small batch buffers kept for reuse by all connections: as many as a
 * fleet sending at once holds between a read and the connection going idle.
 */
export const MAX_POOLED_SMALL_BATCH_BUFFERS = 1024;
/** Capacity a batch grows to once it outgrows the small buffer, in bytes; it doubles as needed. */
const INITIAL_BYTES = 64 * 1024;
/**
 * Free large batch buffers kept for reuse by all connections. Only busy
 * connections take one; more are allocated, and dropped when given back.
 */
export const MAX_POOLED_BATCH_BUFFERS = 16;

/** Starting buffers of the batches being built, shared by every builder. */
export const SMALL_BATCH_BUFFERS: BufferPool = new BufferPool(
  SMALL_BYTES,
  MAX_POOLED_SMALL_BATCH_BUFFERS,
);
/** Buffers of the batches that outgrew their small buffer, shared by every builder. */
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
  /** The pool {@linkcode #bytes} came from, or null. */
  #pool: BufferPool | null = null;
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
    const needed = this.#length + extra;
    if (needed <= this.#bytes.length) return;
    const pool = needed <= SMALL_BATCH_BUFFERS.bytes
      ? SMALL_BATCH_BUFFERS
      : needed <= BATCH_BUFFERS.bytes
      ? BATCH_BUFFERS
      : null;
    const grown = pool
      ? pool.take()
      : new Uint8Array(Math.max(this.#bytes.length * 2, needed, INITIAL_BYTES));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#release();
    this.#bytes = grown;
    this.#pool = pool;
  }

  /** Lets go of the buffer, giving it back to the pool if it came from there. */
  #release(): void {
    this.#pool?.give(this.#bytes);
    this.#pool = null;
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
      ends: new Uint32Array(this.#ends),
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
