/**
 * A rotated file whose content is final: the copy `copytruncate` made of a
 * file before truncating it, or a compressed rotated file. Nothing is
 * appended to it any more, so where it ends the content ends: bytes the agent
 * knows existed beyond its end, and a line it ends inside of, were written
 * between logrotate's copy and its truncation and are gone. The follower
 * reports them as a gap event once the copy is read to its end
 * ({@linkcode RotatedCopy.gapAtEnd}), instead of losing them silently.
 *
 * @module
 */

import { basename } from "../_posix_path.ts";
import { GzipFile } from "./gzip_file.ts";
import type { ReadableFile } from "./readable_file.ts";

/** Start of the gap reason of bytes written between logrotate's copy and its truncation. */
export const GAP_REASON_COPY_WINDOW = "written between logrotate's copy and its truncation";

/** Start of the gap reason of a compressed copy that cannot be decoded to its end. */
export const GAP_REASON_COPY_DAMAGED = "the compressed copy cannot be decompressed further";

/** Offsets of the incarnation reading a copy, at the copy's end. */
export interface CopyEndOffsets {
  /** End of the last complete line read (a held partial line starts here). */
  readonly lineEnd: number;
  /** Offset of the next byte to read: the copy's end. */
  readonly readOffset: number;
  /** Largest size of the original file the agent saw. */
  readonly knownSize: number;
}

/** Bytes to report as a gap at the end of a copy. */
export interface CopyEndGap {
  /** Offset of the first byte lost (the start of a line cut by the copy). */
  readonly from: number;
  /** Offset just after the last byte known to have existed. */
  readonly to: number;
  /** Why, for the gap event. */
  readonly reason: string;
}

/**
 * A rotated copy open for reading: a plain file or a `.gz` one, read
 * through the same {@linkcode ReadableFile} calls.
 *
 * @example
 * ```ts
 * const copy = new RotatedCopy(await Deno.open("/var/log/app.log.1"), "/var/log/app.log.1");
 * copy.gapAtEnd({ lineEnd: 1000, readOffset: 1040, knownSize: 1040 });
 * // { from: 1000, to: 1040, reason: "written between logrotate's copy and its truncation (…)" }
 * ```
 */
export class RotatedCopy implements ReadableFile {
  /** Where it was found (for logs and gap reasons); the file may have moved since. */
  readonly foundAt: string;
  readonly #file: Deno.FsFile | GzipFile;
  #emptyDamageReported = false;

  /**
   * @param file The open copy, owned from now on.
   * @param foundAt Its path when found.
   */
  constructor(file: Deno.FsFile | GzipFile, foundAt: string) {
    this.#file = file;
    this.foundAt = foundAt;
  }

  /**
   * Opens a plain copy, or a `.gz` one as decompressed content.
   *
   * @param path The copy.
   * @returns The open copy.
   * @throws {Deno.errors.NotFound} Like `Deno.open`.
   */
  static async open(path: string): Promise<RotatedCopy> {
    const file = path.endsWith(".gz") ? await GzipFile.open(path) : await Deno.open(path);
    return new RotatedCopy(file, path);
  }

  /** Whether it is read through a decompressor. */
  get compressed(): boolean {
    return this.#file instanceof GzipFile;
  }

  /** Why a compressed copy could not be decoded to its end, if it could not. */
  get damage(): string | undefined {
    return this.#file instanceof GzipFile ? this.#file.damage : undefined;
  }

  /**
   * Reads from the current position.
   *
   * @param buffer Where the bytes go.
   * @returns Bytes read, or null at the end.
   */
  read(buffer: Uint8Array): Promise<number | null> {
    return this.#file.read(buffer);
  }

  /**
   * Moves the position (decoded offsets for a compressed copy).
   *
   * @param offset Offset from the start.
   * @param whence `Deno.SeekMode.Start`.
   * @returns The new position.
   */
  seek(offset: number, whence: Deno.SeekMode): Promise<number> {
    return this.#file.seek(offset, whence);
  }

  /**
   * The content's size as far as known (a compressed copy's once read to its end).
   *
   * @returns The size.
   */
  stat(): Promise<{ readonly size: number }> {
    return this.#file.stat();
  }

  /**
   * The file's own `stat()`: device and inode (of the `.gz` file when compressed).
   *
   * @returns Its file info.
   */
  fileInfo(): Promise<Deno.FileInfo> {
    return this.#file instanceof GzipFile ? this.#file.fileInfo() : this.#file.stat();
  }

  /** Closes the file. */
  close(): void {
    try {
      this.#file.close();
    } catch {
      // Already closed.
    }
  }

  /**
   * What is lost at the end of the copy, once it is read to its end: from the
   * start of a line the copy ends inside of (or from its end) to the largest
   * size the agent saw of the original, or where a compressed copy stopped
   * decoding. Undefined when nothing is. A gap of no known size (a damaged
   * copy that ends on a line boundary) is reported once.
   *
   * @param offsets The reading incarnation's offsets at the end.
   * @returns The gap, or undefined.
   */
  gapAtEnd(offsets: CopyEndOffsets): CopyEndGap | undefined {
    const from = Math.min(offsets.lineEnd, offsets.readOffset);
    const to = Math.max(offsets.readOffset, offsets.knownSize);
    const name = JSON.stringify(basename(this.foundAt));
    const damage = this.damage;
    if (damage !== undefined) {
      if (to <= from) {
        if (this.#emptyDamageReported) return undefined;
        this.#emptyDamageReported = true;
      }
      return {
        from,
        to,
        reason:
          `${GAP_REASON_COPY_DAMAGED} (${name} stops at byte ${offsets.readOffset}: ${damage})`,
      };
    }
    if (to <= from) return undefined;
    const why = offsets.knownSize > offsets.readOffset
      ? `the copy ${name} ends before byte ${offsets.knownSize}, the largest size seen`
      : `the copy ${name} ends inside a line`;
    return { from, to, reason: `${GAP_REASON_COPY_WINDOW} (${why})` };
  }
}
