/**
 * Finds, while the agent runs, the copy `copytruncate` made of a file the
 * follower just found truncated, wherever logrotate left it by then: the
 * plain copy (`app.log.1`, also while it is being compressed), or the
 * compressed copy (`app.log.1.gz`, read as a stream) once `compress` has
 * removed the plain one. Without `delaycompress` that happens within
 * milliseconds, long before an agent that is behind (server down, window
 * full) notices the truncation.
 *
 * A copy compressed with something the agent cannot decompress (xz, zstd,
 * bzip2, …) cannot be recognised; the search then names the newest such
 * sibling, so the gap event says where the lines probably are.
 *
 * @module
 */

import { basename } from "../_posix_path.ts";
import { FINGERPRINT_BYTES, identityOf, readFileHead } from "./file_identity.ts";
import { fileKey, type FoundFile, siblingsOf } from "./find_rotated.ts";
import { RotatedCopy } from "./rotated_copy.ts";

/**
 * Times the siblings are listed and searched when no copy is found and the
 * listing changed meanwhile: logrotate may remove the plain copy between
 * the listing and the open, after writing the `.gz` one the listing missed.
 */
export const COPY_SEARCH_ATTEMPTS = 3;

/** How recently a copy in an unreadable format must have been modified to be named, in ms. */
export const UNREADABLE_COPY_RECENT_MS = 60_000;

/**
 * Name endings of compressed rotated files the agent cannot decompress
 * (no maintained decoder in the runtime), with the compressor's name.
 */
export const UNREADABLE_COMPRESSIONS: Readonly<Record<string, string>> = {
  ".xz": "xz",
  ".zst": "zstd",
  ".bz2": "bzip2",
  ".lz4": "lz4",
  ".lzma": "lzma",
  ".lz": "lzip",
  ".lzo": "lzop",
  ".br": "brotli",
  ".Z": "compress",
};

/** Rotation suffix before an unreadable compression ending: `.1`, `-20261125`. */
const ROTATED_PREFIX = /^(?:[.-][0-9]+)+(\.[A-Za-z0-9]+)$/;

/** What {@linkcode findRotatedCopy} found. */
export interface CopySearch {
  /** The copy, open (a {@linkcode RotatedCopy}), when one was found. */
  readonly copy?: FoundFile;
  /**
   * Without a copy: where it probably went, when that is a format the agent
   * cannot read (`the newest compressed copy "app.log.1.xz" is compressed with xz, …`).
   */
  readonly unreadable?: string;
}

/**
 * Looks among the siblings of a path for the copy of a file just truncated in
 * place (`copytruncate`): a file of another inode, plain or `.gz`, whose
 * content starts with the same bytes. A plain copy at least `minSize` long
 * comes first, then a `.gz` one, then a plain one shorter than `minSize`
 * (the agent read past the copy's end in the original before the
 * truncation; its end still tells what the copy→truncate window lost).
 * Never throws.
 *
 * @param path The followed path.
 * @param head The first bytes the truncated file had (as many as known).
 * @param minSize How far the old content was read.
 * @param exclude `dev:ino` keys to skip (the truncated file, files already being read).
 * @returns The copy, or where it probably went when it cannot be read.
 * @example
 * ```ts
 * const { copy } = await findRotatedCopy("/var/log/app.log", inc.head, inc.readOffset, new Set());
 * ```
 */
export async function findRotatedCopy(
  path: string,
  head: Uint8Array,
  minSize: number,
  exclude: ReadonlySet<string>,
): Promise<CopySearch> {
  if (head.length === 0) return {};
  let siblings: string[] = [];
  for (let attempt = 0; attempt < COPY_SEARCH_ATTEMPTS; attempt++) {
    const listed = await siblingsOf(path);
    if (attempt > 0 && sameList(listed, siblings)) break;
    siblings = listed;
    const copy = await searchOnce(siblings, head, minSize, exclude);
    if (copy !== undefined) return { copy };
  }
  const unreadable = await newestUnreadable(path, siblings);
  return unreadable === undefined ? {} : { unreadable };
}

async function searchOnce(
  siblings: readonly string[],
  head: Uint8Array,
  minSize: number,
  exclude: ReadonlySet<string>,
): Promise<FoundFile | undefined> {
  let shorter: FoundFile | undefined;
  try {
    for (const candidate of siblings.filter((p) => compressionOf(p) === undefined)) {
      const found = await openIfCopy(candidate, head, exclude);
      if (found === undefined) continue;
      if (found.size >= minSize) return found;
      if (shorter === undefined) shorter = found;
      else found.file.close();
    }
    for (const candidate of siblings.filter((p) => p.endsWith(".gz"))) {
      const found = await openIfCopy(candidate, head, exclude);
      if (found !== undefined) return found;
    }
    const found = shorter;
    shorter = undefined;
    return found;
  } finally {
    shorter?.file.close();
  }
}

/** Opens a candidate as a {@linkcode RotatedCopy} if its content starts with `head`. */
async function openIfCopy(
  candidate: string,
  head: Uint8Array,
  exclude: ReadonlySet<string>,
): Promise<FoundFile | undefined> {
  let copy: RotatedCopy | undefined;
  try {
    copy = await RotatedCopy.open(candidate);
    const info = await copy.fileInfo();
    if (!info.isFile || exclude.has(fileKey(info))) return undefined;
    // The plain file's size tells before reading whether it can hold the head.
    if (!copy.compressed && info.size < head.length) return undefined;
    const start = await readFileHead(copy, FINGERPRINT_BYTES);
    if (start.length < head.length) return undefined;
    for (let i = 0; i < head.length; i++) if (start[i] !== head[i]) return undefined;
    const found: FoundFile = {
      file: copy,
      foundAt: candidate,
      identity: await identityOf(info, start),
      size: copy.compressed ? 0 : info.size,
      how: copy.compressed ? "gzip" : "copy",
    };
    copy = undefined;
    return found;
  } catch {
    return undefined;
  } finally {
    copy?.close();
  }
}

/** The newest recently modified rotated sibling compressed in a format the agent cannot read. */
async function newestUnreadable(
  path: string,
  siblings: readonly string[],
): Promise<string | undefined> {
  const name = basename(path);
  let newest: { file: string; format: string; mtimeMs: number } | undefined;
  for (const candidate of siblings) {
    const format = compressionOf(candidate);
    if (format === undefined || format === "gzip") continue;
    if (!ROTATED_PREFIX.test(basename(candidate).slice(name.length))) continue;
    const mtimeMs = (await Deno.stat(candidate).catch(() => undefined))?.mtime?.getTime();
    if (mtimeMs === undefined || mtimeMs < Date.now() - UNREADABLE_COPY_RECENT_MS) continue;
    if (newest === undefined || mtimeMs > newest.mtimeMs) {
      newest = { file: basename(candidate), format, mtimeMs };
    }
  }
  if (newest === undefined) return undefined;
  return `the newest compressed copy ${JSON.stringify(newest.file)} is compressed with ` +
    `${newest.format}, which the agent cannot read`;
}

/** The compressor a name says, if any: `gzip` or one of {@linkcode UNREADABLE_COMPRESSIONS}. */
function compressionOf(path: string): string | undefined {
  if (path.endsWith(".gz")) return "gzip";
  const dot = path.lastIndexOf(".");
  return dot < 0 ? undefined : UNREADABLE_COMPRESSIONS[path.slice(dot)];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
