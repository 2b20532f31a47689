/**
 * The part of an open file the follower reads through: a `Deno.FsFile`, or a
 * view of a rotated copy (agent/rotated_copy.ts) such as the decompressed
 * content of a `.gz` file (agent/gzip_file.ts).
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
