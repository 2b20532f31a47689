/**
 * Agent event lines kept as bytes: the main thread copies each `EVENT` /
 * `BATCH_EVENT` line into one growing buffer and hands the buffer to a pool
 * worker as a transferable, without decoding or cloning any line.
 *
 * @module
 */

/** Starting capacity of a batch buffer, in bytes; it doubles as needed. */
const INITIAL_BYTES = 64 * 1024;

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
  #bytes = new Uint8Array(INITIAL_BYTES);
  #length = 0;
  #ends: number[] = [];

  /** Lines collected. */
  get count(): number {
    return this.#ends.length;
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + extra));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
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

  /** Hands over the collected lines and starts an empty batch. */
  take(): WireLines {
    const taken = {
      bytes: this.#bytes.slice(0, this.#length),
      ends: Uint32Array.from(this.#ends),
    };
    this.#length = 0;
    this.#ends = [];
    return taken;
  }
}
