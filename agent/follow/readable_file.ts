/**
 * The part of an open file the follower reads through: a `Deno.FsFile`, or a
 * view of a rotated copy (agent/rotated_copy.ts) such as the decompressed
 * content of a `.gz` file (agent/gzip_file.ts), and reading a span of it.
 *
 * @module
 */

/** An open, readable, seekable file: what `Deno.FsFile` offers the follower. */
export interface ReadableFile {
  /**
   * Reads into `buffer` from the current position.
   *
   * @param buffer Where the bytes go.
   * @returns The number of bytes read, or null at the end of the file.
   */
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * Moves the position.
   *
   * @param offset Where to, relative to `whence`.
   * @param whence `Deno.SeekMode.Start` (the only mode every implementation supports).
   * @returns The new position from the start.
   */
  seek(offset: number, whence: Deno.SeekMode): Promise<number>;
  /**
   * The file's size as far as it is known.
   *
   * @returns At least `size`.
   */
  stat(): Promise<{ readonly size: number }>;
  /** Releases the file; reads fail afterwards. */
  close(): void;
}

/**
 * Reads from `offset` until `buffer` is full or the file ends. Moves the
 * file position.
 *
 * @param file An open file.
 * @param offset Where to start, from the start of the file.
 * @param buffer Where the bytes go.
 * @returns The number of bytes read: fewer than `buffer.length` only at the end of the file.
 * @example
 * ```ts
 * using file = await Deno.open("/var/log/syslog");
 * const head = new Uint8Array(256);
 * const filled = await readAt(file, 0, head);
 * ```
 */
export async function readAt(
  file: ReadableFile,
  offset: number,
  buffer: Uint8Array,
): Promise<number> {
  await file.seek(offset, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < buffer.length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}
