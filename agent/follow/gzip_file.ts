/**
 * The decompressed content of a `.gz` file (logrotate's `compress`), read
 * as a stream through `DecompressionStream`: never decompressed whole, into
 * memory or onto disk. Reads go forward; a seek forward skips decoded
 * bytes, a seek backward (a rewind after a reconnect) decodes again from the
 * first byte of the same descriptor, so a renamed or removed file stays
 * readable.
 *
 * A stream that cannot be decoded to its end (cut short, corrupt, a second
 * gzip member, trailing bytes) ends where decoding stopped, and
 * {@linkcode GzipFile.damage} says why.
 *
 * @module
 */

import type { ReadableFile } from "./readable_file.ts";

/**
 * Compressed bytes handed to the decoder at once. Bounds the decoded bytes
 * held at once: the decoder returns all that one piece expands to, and
 * deflate expands at most about 1,032:1, so about 4 MiB for hostile input,
 * and tens of KiB for log lines.
 */
export const GZIP_INPUT_PIECE_BYTES = 4 * 1024;

/** Compressed bytes read from the file per system call (handed on in pieces). */
const GZIP_READ_BYTES = 64 * 1024;

const EMPTY: Uint8Array<ArrayBuffer> = new Uint8Array(0);

/**
 * A `.gz` file opened for reading its decompressed content.
 *
 * @example
 * ```ts
 * using gz = await GzipFile.open("/var/log/syslog.2.gz");
 * const buffer = new Uint8Array(65_536);
 * await gz.seek(1_000_000, Deno.SeekMode.Start); // skips decoded bytes
 * const n = await gz.read(buffer); // null at the end
 * ```
 */
export class GzipFile implements ReadableFile, Disposable {
  readonly #file: Deno.FsFile;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Bumped by every restart: reads of an abandoned decoder stop. */
  #generation = 0;
  /** Decoded bytes at offsets `#chunkStart` to `#chunkStart + #chunk.length`. */
  #chunk: Uint8Array = EMPTY;
  #chunkStart = 0;
  #decoderDone = false;
  #position = 0;
  #end: number | undefined;
  #damage: string | undefined;
  /** Serializes the descriptor's seek + read pairs (an abandoned decoder may still read). */
  #io: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Times decoding started again from the first byte (backward seeks). */
  restarts = 0;

  /**
   * @param file The open `.gz` file, owned from now on (closed by {@linkcode GzipFile.close}).
   */
  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Opens a `.gz` file.
   *
   * @param path The file.
   * @returns The file, positioned at decoded offset 0.
   * @throws {Deno.errors.NotFound} Like `Deno.open`.
   */
  static async open(path: string): Promise<GzipFile> {
    return new GzipFile(await Deno.open(path, { read: true }));
  }

  /** Why decoding stopped before the end of the stream, if it did. */
  get damage(): string | undefined {
    return this.#damage;
  }

  /** The decoded size, once the end was reached; undefined before. */
  get size(): number | undefined {
    return this.#end;
  }

  /**
   * Reads decoded bytes from the current position, filling `buffer` unless
   * the content ends first (so a short read means the end).
   *
   * @param buffer Where the bytes go.
   * @returns Bytes read, or null at the end.
   */
  async read(buffer: Uint8Array): Promise<number | null> {
    if (this.#closed) throw new Deno.errors.BadResource("Cannot read a closed gzip file");
    if (buffer.length === 0) return 0;
    if (this.#position < this.#chunkStart) this.#restart();
    let filled = 0;
    while (filled < buffer.length) {
      const at = this.#position - this.#chunkStart;
      if (at < this.#chunk.length) {
        const n = Math.min(buffer.length - filled, this.#chunk.length - at);
        buffer.set(this.#chunk.subarray(at, at + n), filled);
        filled += n;
        this.#position += n;
        continue;
      }
      if (!await this.#nextChunk()) break;
    }
    return filled === 0 ? null : filled;
  }

  /**
   * Moves the position in the decoded content; it takes effect on the next read.
   *
   * @param offset Decoded offset from the start.
   * @param whence Only `Deno.SeekMode.Start`.
   * @returns `offset`.
   * @throws {TypeError} For another mode or a negative offset.
   */
  seek(offset: number, whence: Deno.SeekMode): Promise<number> {
    if (whence !== Deno.SeekMode.Start || !(offset >= 0)) {
      return Promise.reject(new TypeError(`Cannot seek a gzip file to ${offset} (mode ${whence})`));
    }
    this.#position = offset;
    return Promise.resolve(offset);
  }

  /**
   * The decoded size as far as known: exact once the end was read.
   *
   * @returns The size.
   */
  stat(): Promise<{ readonly size: number }> {
    return Promise.resolve({ size: this.#end ?? this.#chunkStart + this.#chunk.length });
  }

  /**
   * The compressed file's own `stat()` (device and inode for identity).
   *
   * @returns Its file info.
   */
  fileInfo(): Promise<Deno.FileInfo> {
    return this.#file.stat();
  }

  /** Stops decoding and closes the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abandonDecoder();
    try {
      this.#file.close();
    } catch {
      // Already closed.
    }
  }

  /** Same as {@linkcode GzipFile.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Decodes the next chunk; false at the end of the stream (or where it cannot be decoded). */
  async #nextChunk(): Promise<boolean> {
    if (this.#decoderDone) return false;
    const reader = this.#reader ??= this.#startDecoder();
    const start = this.#chunkStart + this.#chunk.length;
    try {
      const { value, done } = await reader.read();
      if (!done) {
        this.#chunkStart = start;
        this.#chunk = value;
        return true;
      }
    } catch (error) {
      this.#damage = (error as Error).message;
      this.#abandonDecoder();
    }
    this.#decoderDone = true;
    this.#chunkStart = start;
    this.#chunk = EMPTY;
    this.#end = start;
    return false;
  }

  #restart(): void {
    this.restarts++;
    this.#abandonDecoder();
    this.#chunk = EMPTY;
    this.#chunkStart = 0;
    this.#decoderDone = false;
    this.#damage = undefined;
  }

  #abandonDecoder(): void {
    this.#generation++;
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.cancel().catch(() => {});
  }

  #startDecoder(): ReadableStreamDefaultReader<Uint8Array> {
    const generation = this.#generation;
    let offset = 0;
    let slab: Uint8Array<ArrayBuffer> = EMPTY;
    let slabAt = 0;
    const compressed = new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        if (slabAt >= slab.length) {
          const buffer = new Uint8Array(GZIP_READ_BYTES);
          const n = await this.#readAt(offset, buffer);
          // Abandoned meanwhile: nobody reads this decoder any more.
          if (generation !== this.#generation) return;
          if (n === null || n === 0) {
            controller.close();
            return;
          }
          offset += n;
          slab = buffer.subarray(0, n);
          slabAt = 0;
        }
        const piece = slab.subarray(slabAt, slabAt + GZIP_INPUT_PIECE_BYTES);
        slabAt += piece.length;
        controller.enqueue(piece);
      },
    }, { highWaterMark: 0 });
    return compressed.pipeThrough(new DecompressionStream("gzip")).getReader();
  }

  #readAt(offset: number, buffer: Uint8Array): Promise<number | null> {
    const run = this.#io.then(async () => {
      await this.#file.seek(offset, Deno.SeekMode.Start);
      return await this.#file.read(buffer);
    });
    this.#io = run.catch(() => {});
    return run;
  }
}
