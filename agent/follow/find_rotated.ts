/**
 * Finds the file an incarnation's content went to after a restart: the
 * saved incarnation by device and inode (renamed, e.g. to `syslog.1`) or by
 * its fingerprint (copied by `copytruncate`, or compressed to `syslog.1.gz`,
 * read as a stream). While running, the copy `copytruncate` made of a file
 * just truncated is found by find_copy.ts.
 *
 * Only the followed path and its siblings are searched: the entries of the
 * same directory whose name starts with the followed file's name
 * (`syslog.1`, `syslog-20251211`, `syslog.2.gz`), which is where logrotate
 * puts rotated files unless `olddir` is set.
 *
 * @module
 */

import { basename, dirname, join } from "../_posix_path.ts";
import {
  type FileIdentity,
  type FileIdentityWithHead,
  FINGERPRINT_BYTES,
  fingerprintMatches,
  identityOf,
  readFileHead,
  readFileIdentity,
  sameFile,
} from "./file_identity.ts";
import type { ReadableFile } from "./readable_file.ts";
import { RotatedCopy } from "./rotated_copy.ts";

/** Most sibling names looked at in one search; the rest are ignored (logged by the caller). */
export const MAX_SIBLINGS_SEARCHED = 256;

/**
 * Name suffix (after the followed file's name) of a rotated file: `.1`,
 * `.2`, `-20261125`, `-2026-11-25`, each optionally followed by `.gz`.
 */
export const ROTATION_SUFFIX_PATTERN = /^(?:[.-][0-9]+)+(?:\.gz)?$/;

/**
 * How far before the state file's save time a file's modification time may
 * lie and still count as after it, in ms: file system timestamps come from a
 * coarse kernel clock (up to a tick, ~10 ms, behind the wall clock), so a
 * file written just after the save can carry an earlier time. A rotated file
 * the agent read and let go of was idle for 5 s before that
 * (`DEFAULT_ROTATED_IDLE_MS`), so it never falls inside this margin.
 */
export const BORN_MTIME_SLACK_MS = 1_000;

/** What a search found: an open file holding the content, and how it was recognised. */
export interface FoundFile {
  /**
   * Open handle, owned by the caller from now on: a {@linkcode RotatedCopy}
   * when the content is final (a copy, or a compressed file).
   */
  readonly file: ReadableFile;
  /** Where it was found (for logs); for `gzip`, the compressed file. */
  readonly foundAt: string;
  /**
   * Device and inode of the file (for `gzip`, of the `.gz` file), and the
   * first bytes of its content.
   */
  readonly identity: FileIdentityWithHead;
  /** Its size in bytes; 0 for `gzip` (known once it is read to its end). */
  readonly size: number;
  /**
   * `same`: the very file (same device and inode, same first bytes);
   * `copy`: another file with the same first bytes;
   * `gzip`: a compressed copy, read decompressed as a stream.
   */
  readonly how: "same" | "copy" | "gzip";
}

/** A saved incarnation to look for. */
export interface SearchTarget extends FileIdentity {
  /** Offset the content must reach: the acknowledged offset. */
  readonly offset: number;
  /**
   * Largest size of the content seen, in bytes. A sibling with the same
   * device and inode that is shorter is a copy (`copytruncate`) the agent
   * had switched to: its end is final.
   * @default {offset}
   */
  readonly size?: number;
}

/** Options of {@linkcode findIncarnation}. */
export interface FindOptions {
  /** `dev:ino` keys of files already taken by other incarnations; skipped. */
  readonly claimed: ReadonlySet<string>;
  /**
   * Whether to decompress `.gz` siblings whose start matches.
   * @default {true}
   */
  readonly gzip?: boolean;
}

/**
 * Key of a file for claim sets.
 *
 * @param info A stat result or identity.
 * @returns `dev:ino`.
 * @example
 * ```ts
 * fileKey(await Deno.stat("/var/log/syslog")); // "2049:1234567"
 * ```
 */
export function fileKey(
  info: { readonly dev: number | null; readonly ino: number | null },
): string {
  return `${info.dev ?? 0}:${info.ino ?? 0}`;
}

/**
 * Lists the siblings of a path: entries of its directory whose name starts
 * with its name, itself excluded, sorted by name. Never throws.
 *
 * @param path The followed path.
 * @returns Absolute paths, at most {@linkcode MAX_SIBLINGS_SEARCHED}.
 * @example
 * ```ts
 * await siblingsOf("/var/log/syslog"); // ["/var/log/syslog.1", "/var/log/syslog.2.gz"]
 * ```
 */
export async function siblingsOf(path: string): Promise<string[]> {
  const dir = dirname(path);
  const name = basename(path);
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name !== name && entry.name.startsWith(name)) names.push(entry.name);
      if (names.length >= MAX_SIBLINGS_SEARCHED) break;
    }
  } catch {
    return [];
  }
  return names.sort().map((n) => join(dir, n));
}

async function statQuietly(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? info : undefined;
  } catch {
    return undefined;
  }
}

async function openQuietly(path: string): Promise<Deno.FsFile | undefined> {
  try {
    return await Deno.open(path, { read: true });
  } catch {
    return undefined;
  }
}

function closeQuietly(file: ReadableFile): void {
  try {
    file.close();
  } catch {
    // Already closed.
  }
}

/**
 * Looks for a saved incarnation's content at the path and among its
 * siblings: first the same file (device, inode and first bytes match; at the
 * path, size at least the offset), then, among siblings only, a copy whose
 * first bytes match and that reaches the offset, then a `.gz` sibling whose
 * decompressed start matches, then a copy shorter than the offset (the
 * agent had read past its end in the original before the truncation). A
 * copy, and a sibling with the same inode that is shorter than the size
 * seen, are returned as a {@linkcode RotatedCopy}: their end is final.
 *
 * @param path The followed path.
 * @param target The saved identity and offset.
 * @param options Files to skip, gzip on or off.
 * @returns The open file, or undefined when the content is nowhere.
 * @example
 * ```ts
 * const found = await findIncarnation("/var/log/syslog", saved, { claimed: new Set() });
 * ```
 */
export async function findIncarnation(
  path: string,
  target: SearchTarget,
  options: FindOptions,
): Promise<FoundFile | undefined> {
  const siblings = await siblingsOf(path);
  const plain = siblings.filter((p) => !p.endsWith(".gz"));
  // 1. The very file, by device and inode; its first bytes catch inode reuse.
  for (const candidate of [path, ...plain]) {
    const info = await statQuietly(candidate);
    if (info === undefined || !sameFile(info, target) || options.claimed.has(fileKey(info))) {
      continue;
    }
    // Shorter than the offset at the path: truncated, not the content.
    if (candidate === path && info.size < target.offset) continue;
    // Renamed files only grow: one shorter than seen is a copy.
    const final = candidate !== path && info.size < Math.max(target.offset, target.size ?? 0);
    const found = await openMatching(candidate, info, target, "same", final);
    if (found !== undefined) return found;
  }
  if (target.fingerprintBytes === 0) return undefined;
  // 2. A copy (copytruncate): another inode with the same first bytes. Never
  // the path itself: a new file that happens to start alike is not a copy.
  const shorter: [string, Deno.FileInfo][] = [];
  for (const candidate of plain) {
    const info = await statQuietly(candidate);
    if (info === undefined || sameFile(info, target) || options.claimed.has(fileKey(info))) {
      continue;
    }
    if (info.size < target.offset) {
      shorter.push([candidate, info]);
      continue;
    }
    const found = await openMatching(candidate, info, target, "copy", true);
    if (found !== undefined) return found;
  }
  // 3. A compressed copy (logrotate's `compress`), of any length.
  if (options.gzip ?? true) {
    for (const candidate of siblings.filter((p) => p.endsWith(".gz"))) {
      const found = await openCompressed(candidate, target, options.claimed);
      if (found !== undefined) return found;
    }
  }
  // 4. A copy that ends before the offset: all of it was read, maybe more.
  for (const [candidate, info] of shorter) {
    const found = await openMatching(candidate, info, target, "copy", true);
    if (found !== undefined) return found;
  }
  return undefined;
}

async function openMatching(
  candidate: string,
  info: Deno.FileInfo,
  target: SearchTarget,
  how: "same" | "copy",
  final: boolean,
): Promise<FoundFile | undefined> {
  const file = await openQuietly(candidate);
  if (file === undefined) return undefined;
  try {
    const opened = await file.stat();
    // Renamed again between stat and open: not the file looked at.
    if (!sameFile(opened, info)) throw new Error("changed");
    const identity = await readFileIdentity(file, opened);
    if (!await fingerprintMatches(identity.head, target)) throw new Error("other content");
    const handle = final ? new RotatedCopy(file, candidate) : file;
    return { file: handle, foundAt: candidate, identity, size: opened.size, how };
  } catch {
    closeQuietly(file);
    return undefined;
  }
}

/**
 * Opens a `.gz` file as a stream of its decompressed content when its start
 * matches the target (any start without a target). Never throws.
 */
async function openCompressed(
  candidate: string,
  target: SearchTarget | undefined,
  claimed: ReadonlySet<string> = new Set(),
): Promise<FoundFile | undefined> {
  let copy: RotatedCopy | undefined;
  try {
    copy = await RotatedCopy.open(candidate);
    const info = await copy.fileInfo();
    if (claimed.has(fileKey(info))) throw new Error("claimed");
    const head = await readFileHead(copy, FINGERPRINT_BYTES);
    if (copy.damage !== undefined) throw new Error(copy.damage);
    if (target !== undefined && !await fingerprintMatches(head, target)) {
      throw new Error("other content");
    }
    const identity = await identityOf(info, head);
    const found: FoundFile = { file: copy, foundAt: candidate, identity, size: 0, how: "gzip" };
    copy = undefined;
    return found;
  } catch {
    return undefined;
  } finally {
    copy?.close();
  }
}

/** Options of {@linkcode findBornWhileStopped}. */
export interface BornWhileStoppedOptions {
  /** `dev:ino` keys of files taken by saved incarnations; skipped. */
  readonly claimed: ReadonlySet<string>;
  /** Sibling paths taken by saved incarnations (`.gz` files they were found in); skipped. */
  readonly claimedPaths: ReadonlySet<string>;
  /**
   * When the agent last saved its state, in ms since the epoch: only files
   * modified after it (less {@linkcode BORN_MTIME_SLACK_MS}) count, so
   * rotated files older than the stop are not read again.
   */
  readonly modifiedAfterMs: number;
}

/** A sibling born and rotated away while the agent was stopped. */
export interface BornFile {
  /** Its path. */
  readonly path: string;
  /** Its modification time, in ms since the epoch. */
  readonly mtimeMs: number;
  /** Whether it is gzip-compressed (name ends in `.gz`). */
  readonly compressed: boolean;
}

/**
 * Lists the rotated siblings of a path (name = its name + a
 * {@linkcode ROTATION_SUFFIX_PATTERN} suffix) that no saved incarnation
 * claimed, that are not the file at the path (by device and inode, or by
 * first bytes), and that were modified after the state was saved (less
 * {@linkcode BORN_MTIME_SLACK_MS}): files
 * created and rotated away entirely while the agent was stopped. Oldest
 * first (by modification time; `.N` ties by number, highest first). Never throws.
 *
 * @param path The followed path.
 * @param options Claimed files and the state file's save time.
 * @returns The files, oldest first.
 * @example
 * ```ts
 * await findBornWhileStopped("/var/log/app.log", {
 *   claimed: new Set(), claimedPaths: new Set(), modifiedAfterMs: Date.parse(savedAt),
 * }); // [{ path: "/var/log/app.log.1", mtimeMs: 1795000000000, compressed: false }]
 * ```
 */
export async function findBornWhileStopped(
  path: string,
  options: BornWhileStoppedOptions,
): Promise<BornFile[]> {
  const name = basename(path);
  const current = await statQuietly(path);
  const currentHead = current === undefined ? new Uint8Array(0) : await headOfQuietly(path);
  const found: BornFile[] = [];
  for (const candidate of await siblingsOf(path)) {
    if (!ROTATION_SUFFIX_PATTERN.test(basename(candidate).slice(name.length))) continue;
    if (options.claimedPaths.has(candidate)) continue;
    const info = await statQuietly(candidate);
    if (info === undefined || options.claimed.has(fileKey(info))) continue;
    const mtimeMs = info.mtime?.getTime();
    if (mtimeMs === undefined || !(mtimeMs > options.modifiedAfterMs - BORN_MTIME_SLACK_MS)) {
      continue;
    }
    if (current !== undefined && sameFile(info, current)) continue;
    const compressed = candidate.endsWith(".gz");
    if (!compressed && currentHead.length > 0) {
      // A copy of the file at the path (same first bytes) is read there.
      const head = await headOfQuietly(candidate);
      const n = Math.min(head.length, currentHead.length);
      if (n > 0 && bytesEqual(head.subarray(0, n), currentHead.subarray(0, n))) continue;
    }
    found.push({ path: candidate, mtimeMs, compressed });
  }
  return found.sort((a, b) => a.mtimeMs - b.mtimeMs || rotationNumberOrder(name, a.path, b.path));
}

/** Among equal times: `.N` suffixes by number, highest (oldest) first; else by name. */
function rotationNumberOrder(name: string, a: string, b: string): number {
  const na = /^\.([0-9]+)(?:\.gz)?$/.exec(basename(a).slice(name.length));
  const nb = /^\.([0-9]+)(?:\.gz)?$/.exec(basename(b).slice(name.length));
  if (na !== null && nb !== null) return Number(nb[1]) - Number(na[1]);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Opens a rotated file to read it whole: the file itself, or for a `.gz`
 * file its decompressed content as a stream (a {@linkcode RotatedCopy}).
 *
 * @param born The file, from {@linkcode findBornWhileStopped}.
 * @returns The open file (`how` is `same` or `gzip`), or undefined when it
 *   cannot be opened or decompressed.
 * @example
 * ```ts
 * const found = await openWhole(born);
 * ```
 */
export async function openWhole(born: BornFile): Promise<FoundFile | undefined> {
  if (born.compressed) return await openCompressed(born.path, undefined);
  const file = await openQuietly(born.path);
  if (file === undefined) return undefined;
  try {
    const opened = await file.stat();
    if (!opened.isFile) throw new Error("not a file");
    const identity = await readFileIdentity(file, opened);
    return { file, foundAt: born.path, identity, size: opened.size, how: "same" };
  } catch {
    closeQuietly(file);
    return undefined;
  }
}

async function headOfQuietly(path: string): Promise<Uint8Array> {
  const file = await openQuietly(path);
  if (file === undefined) return new Uint8Array(0);
  try {
    return await readFileHead(file, FINGERPRINT_BYTES);
  } catch {
    return new Uint8Array(0);
  } finally {
    closeQuietly(file);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
