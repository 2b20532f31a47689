/**
 * Finds the file an incarnation's content went to: after a restart, the
 * saved incarnation by device and inode (renamed, e.g. to `syslog.1`) or by
 * its fingerprint (copied by `copytruncate`, or compressed to `syslog.1.gz`);
 * while running, the copy `copytruncate` made of a file just truncated.
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
  headMatches,
  readFileHead,
  readFileIdentity,
  sameFile,
} from "./file_identity.ts";

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

/** Bytes copied at once when decompressing a rotated `.gz` file. */
const GZIP_COPY_BYTES = 256 * 1024;

/** What a search found: an open file holding the content, and how it was recognised. */
export interface FoundFile {
  /** Open handle, owned by the caller from now on. */
  readonly file: Deno.FsFile;
  /** Where it was found (for logs); for `gzip`, the compressed file. */
  readonly foundAt: string;
  /** Identity of the open file (for `gzip`, of the decompressed copy). */
  readonly identity: FileIdentityWithHead;
  /** Its size in bytes. */
  readonly size: number;
  /**
   * `same`: the very file (same device and inode, same first bytes);
   * `copy`: another file with the same first bytes;
   * `gzip`: a compressed copy, decompressed into an unlinked temp file.
   */
  readonly how: "same" | "copy" | "gzip";
}

/** A saved incarnation to look for. */
export interface SearchTarget extends FileIdentity {
  /** Offset the content must reach: the acknowledged offset. */
  readonly offset: number;
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

function closeQuietly(file: Deno.FsFile): void {
  try {
    file.close();
  } catch {
    // Already closed.
  }
}

/**
 * Looks for a saved incarnation's content at the path and among its
 * siblings: first the same file (device, inode and first bytes match, size
 * at least the offset), then, among siblings only, a copy whose first bytes
 * match, then a `.gz` sibling whose decompressed start matches.
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
    if (info.size < target.offset) continue;
    const found = await openMatching(candidate, info, target, "same");
    if (found !== undefined) return found;
  }
  // 2. A copy (copytruncate): another inode with the same first bytes. Never
  // the path itself: a new file that happens to start alike is not a copy.
  if (target.fingerprintBytes > 0) {
    for (const candidate of plain) {
      const info = await statQuietly(candidate);
      if (info === undefined || sameFile(info, target) || options.claimed.has(fileKey(info))) {
        continue;
      }
      if (info.size < target.offset) continue;
      const found = await openMatching(candidate, info, target, "copy");
      if (found !== undefined) return found;
    }
  }
  // 3. A compressed copy (logrotate's `compress`).
  if ((options.gzip ?? true) && target.fingerprintBytes > 0) {
    for (const candidate of siblings.filter((p) => p.endsWith(".gz"))) {
      const found = await decompressMatching(candidate, target);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

async function openMatching(
  candidate: string,
  info: Deno.FileInfo,
  target: SearchTarget,
  how: "same" | "copy",
): Promise<FoundFile | undefined> {
  const file = await openQuietly(candidate);
  if (file === undefined) return undefined;
  try {
    const opened = await file.stat();
    // Renamed again between stat and open: not the file looked at.
    if (!sameFile(opened, info)) throw new Error("changed");
    const identity = await readFileIdentity(file, opened);
    if (!await fingerprintMatches(identity.head, target)) throw new Error("other content");
    return { file, foundAt: candidate, identity, size: opened.size, how };
  } catch {
    closeQuietly(file);
    return undefined;
  }
}

/**
 * Looks among the siblings of a path for a copy of a file that was just
 * truncated in place (`copytruncate`): a file of another inode that starts
 * with the same bytes and is at least `minSize` long.
 *
 * @param path The followed path.
 * @param head The first bytes the truncated file had (as many as known).
 * @param minSize Least size the copy must have: how far the old content was read.
 * @param exclude `dev:ino` keys to skip (the truncated file, rotated ones).
 * @returns The open copy, or undefined.
 * @example
 * ```ts
 * const copy = await findCopy("/var/log/app.log", inc.head, inc.readOffset, new Set());
 * ```
 */
export async function findCopy(
  path: string,
  head: Uint8Array,
  minSize: number,
  exclude: ReadonlySet<string>,
): Promise<FoundFile | undefined> {
  if (head.length === 0) return undefined;
  for (const candidate of await siblingsOf(path)) {
    if (candidate.endsWith(".gz")) continue;
    const info = await statQuietly(candidate);
    if (info === undefined || info.size < minSize || exclude.has(fileKey(info))) continue;
    const file = await openQuietly(candidate);
    if (file === undefined) continue;
    try {
      if (!await headMatches(file, head)) throw new Error("other content");
      const opened = await file.stat();
      const identity = await readFileIdentity(file, opened);
      return { file, foundAt: candidate, identity, size: opened.size, how: "copy" };
    } catch {
      closeQuietly(file);
    }
  }
  return undefined;
}

/**
 * Decompresses a `.gz` sibling whose start matches the target into an
 * unlinked temp file: the first {@linkcode FINGERPRINT_BYTES} and everything
 * from the target's offset on, at the same offsets (the part in between is
 * left as a hole), so the incarnation reads on at its saved offset. Without
 * a target, the whole content is kept.
 */
async function decompressMatching(
  candidate: string,
  target: SearchTarget | undefined,
): Promise<FoundFile | undefined> {
  const keepFrom = target?.offset ?? 0;
  const source = await openQuietly(candidate);
  if (source === undefined) return undefined;
  let out: Deno.FsFile | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    reader = source.readable.pipeThrough(new DecompressionStream("gzip")).getReader();
    let head: Uint8Array = new Uint8Array(0);
    let position = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (out === undefined) {
        head = concat(head, value);
        if (head.length < FINGERPRINT_BYTES) continue;
        if (target !== undefined && !await fingerprintMatches(head, target)) return undefined;
        out = await openUnlinkedTemp();
        await writeKept(out, 0, head, keepFrom);
        position = head.length;
        continue;
      }
      await writeKept(out, position, value, keepFrom);
      position += value.length;
    }
    reader = undefined;
    if (out === undefined) {
      // Shorter than the fingerprint: the whole content is the head.
      if (target !== undefined && !await fingerprintMatches(head, target)) return undefined;
      out = await openUnlinkedTemp();
      await writeKept(out, 0, head, keepFrom);
      position = head.length;
    }
    if (position < keepFrom) return undefined;
    await out.truncate(position);
    const opened = await out.stat();
    const identity = await readFileIdentity(out, opened);
    const found: FoundFile = {
      file: out,
      foundAt: candidate,
      identity,
      size: position,
      how: "gzip",
    };
    out = undefined;
    return found;
  } catch {
    return undefined;
  } finally {
    if (reader !== undefined) await reader.cancel().catch(() => {});
    if (out !== undefined) closeQuietly(out);
    // The readable stream closes the source when it ends; close it if it did not.
    closeQuietly(source);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const merged = new Uint8Array(a.length + b.length);
  merged.set(a);
  merged.set(b, a.length);
  return merged;
}

async function openUnlinkedTemp(): Promise<Deno.FsFile> {
  const path = await Deno.makeTempFile({ prefix: "nms-agent-gunzip-" });
  const file = await Deno.open(path, { read: true, write: true });
  // Unlinked at once: the open handle keeps the data until it is closed,
  // and nothing is left behind whatever happens to the agent.
  await Deno.remove(path);
  return file;
}

/** Writes the parts of `chunk` (at file offset `position`) inside the head or from `keepFrom` on. */
async function writeKept(
  out: Deno.FsFile,
  position: number,
  chunk: Uint8Array,
  keepFrom: number,
): Promise<void> {
  const ranges: [number, number][] = [
    [0, Math.min(chunk.length, FINGERPRINT_BYTES - position)],
    [Math.max(0, keepFrom - position), chunk.length],
  ];
  for (const [from, to] of ranges) {
    if (to <= from) continue;
    await out.seek(position + from, Deno.SeekMode.Start);
    for (let at = from; at < to; at += GZIP_COPY_BYTES) {
      await writeAll(out, chunk.subarray(at, Math.min(to, at + GZIP_COPY_BYTES)));
    }
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
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
 * file a decompressed copy in an unlinked temp file.
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
  if (born.compressed) return await decompressMatching(born.path, undefined);
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
