/**
 * Shared byte buffers, taken when data arrives and given back when it has
 * been copied out, so that thousands of idle agent connections hold no large
 * buffer each (docs/SCALING.md). Used for the connections' read buffers and
 * for the event batches they build.
 *
 * @module
 */

/**
 * A pool of equal-sized buffers. A buffer taken while none is free is
 * allocated; one given back while the pool holds `maxPooled` is dropped (left
 * to the garbage collector), so the pool itself never grows past that.
 *
 * @example
 * ```ts
 * const buffers = new BufferPool(64 * 1024, 8);
 * const buffer = buffers.take();
 * try {
 *   const n = await conn.read(buffer);
 * } finally {
 *   buffers.give(buffer);
 * }
 * ```
 */
export class BufferPool {
  /** Size of each buffer, in bytes. */
  readonly bytes: number;
  readonly #maxPooled: number;
  readonly #free: Uint8Array<ArrayBuffer>[] = [];
  #taken = 0;

  /**
   * @param bytes Size of each buffer, in bytes.
   * @param maxPooled Most free buffers kept for reuse.
   */
  constructor(bytes: number, maxPooled: number) {
    if (!Number.isInteger(bytes) || bytes < 1) {
      throw new RangeError(`Cannot create a buffer pool of ${bytes}-byte buffers`);
    }
    if (!Number.isInteger(maxPooled) || maxPooled < 0) {
      throw new RangeError(`Cannot create a buffer pool keeping ${maxPooled} buffers`);
    }
    this.bytes = bytes;
    this.#maxPooled = maxPooled;
  }

  /** Buffers taken and not given back yet. */
  get taken(): number {
    return this.#taken;
  }

  /** Free buffers kept for reuse. */
  get pooled(): number {
    return this.#free.length;
  }

  /**
   * A buffer for the data at hand; its contents are whatever its last user left.
   *
   * @returns A pooled buffer, or a new one when none is free.
   */
  take(): Uint8Array<ArrayBuffer> {
    this.#taken++;
    return this.#free.pop() ?? new Uint8Array(this.bytes);
  }

  /**
   * Gives a buffer back once nothing refers into it any more.
   *
   * @param buffer A buffer from {@linkcode BufferPool.take}.
   */
  give(buffer: Uint8Array<ArrayBuffer>): void {
    this.#taken--;
    if (buffer.length === this.bytes && this.#free.length < this.#maxPooled) {
      this.#free.push(buffer);
    }
  }
}
