/**
 * The followers' read buffers, shared: a follower takes one when it has
 * something to read and gives it back when the read pass ends, so a thousand
 * idle files hold no buffer at all. The agent reads one file at a time, so
 * one buffer is usually all that exists.
 *
 * @module
 */

/**
 * Buffers kept for reuse once given back; more taken at the same moment are
 * allocated, and dropped (left to the garbage collector) when given back.
 */
export const MAX_POOLED_READ_BUFFERS = 2;

/**
 * A pool of equal-sized read buffers.
 *
 * @example
 * ```ts
 * const buffers = new ReadBufferPool(256 * 1024);
 * const buffer = buffers.take();
 * try {
 *   await file.read(buffer);
 * } finally {
 *   buffers.give(buffer);
 * }
 * ```
 */
export class ReadBufferPool {
  /** Size of each buffer, in bytes. */
  readonly bytes: number;
  readonly #free: Uint8Array[] = [];

  /**
   * @param bytes Size of each buffer, in bytes.
   */
  constructor(bytes: number) {
    if (!Number.isInteger(bytes) || bytes < 1) {
      throw new RangeError(`Cannot create read buffers of ${bytes} bytes`);
    }
    this.bytes = bytes;
  }

  /**
   * A buffer for one read pass.
   *
   * @returns A pooled buffer, or a new one when none is free.
   */
  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(this.bytes);
  }

  /**
   * Gives a buffer back once nothing refers into it any more.
   *
   * @param buffer A buffer from {@linkcode ReadBufferPool.take}.
   */
  give(buffer: Uint8Array): void {
    if (buffer.length === this.bytes && this.#free.length < MAX_POOLED_READ_BUFFERS) {
      this.#free.push(buffer);
    }
  }
}
