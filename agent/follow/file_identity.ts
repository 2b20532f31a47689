/**
 * Which file a path points at: device and inode number, plus a fingerprint
 * of the file's first bytes. Device and inode tell a renamed-and-recreated
 * log file from the old one; the first bytes catch an inode number reused by
 * a new file and content replaced in place (after `copytruncate`).
 *
 * While following, the follower keeps the first bytes themselves (at most
 * {@linkcode FINGERPRINT_BYTES}) and compares them byte for byte; only the
 * state file stores their hash, the fingerprint.
 *
 * @module
 */

import { type ReadableFile, readAt } from "./readable_file.ts";

/** Bytes at the start of a file that identify its content, at most. */
export const FINGERPRINT_BYTES = 256;

/** Identity of one incarnation of a file, as saved in the state file. */
export interface FileIdentity {
  /** Device number (`st_dev`), 0 where the platform reports none. */
  readonly dev: number;
  /** Inode number (`st_ino`), 0 where the platform reports none. */
  readonly ino: number;
  /** Hex SHA-256 prefix (128 bits) of the first `fingerprintBytes` bytes of the file. */
  readonly fingerprint: string;
  /** How many leading bytes the fingerprint covers (fewer while the file is short). */
  readonly fingerprintBytes: number;
}

/** A {@linkcode FileIdentity} with the first bytes it was computed from. */
export interface FileIdentityWithHead extends FileIdentity {
  /** The first `fingerprintBytes` bytes of the file. */
  readonly head: Uint8Array;
}

/**
 * Whether two stat results or identities name the same file (device and inode).
 *
 * @param a A stat result or identity.
 * @param b Another one.
 * @returns True when device and inode both match.
 * @example
 * ```ts
 * const before = await Deno.stat("/var/log/syslog");
 * const after = await Deno.stat("/var/log/syslog");
 * sameFile(before, after); // true unless the file was rotated in between
 * ```
 */
export function sameFile(
  a: { readonly dev: number | null; readonly ino: number | null },
  b: { readonly dev: number | null; readonly ino: number | null },
): boolean {
  return (a.dev ?? 0) === (b.dev ?? 0) && (a.ino ?? 0) === (b.ino ?? 0);
}

/**
 * Hashes leading bytes of a file into a fingerprint.
 *
 * @param head The bytes (at most {@linkcode FINGERPRINT_BYTES}).
 * @returns 32 hex digits: the first 128 bits of their SHA-256.
 * @example
 * ```ts
 * await fingerprintOf(new Uint8Array()); // "e3b0c44298fc1c149afbf4c8996fb924"
 * ```
 */
export async function fingerprintOf(head: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(head)));
  // 128 bits are plenty to tell two log files apart.
  return digest.subarray(0, 16).toHex();
}

/**
 * Reads up to `length` bytes from the start of an open file. Moves the file position.
 *
 * @param file An open file.
 * @param length Most bytes to read.
 * @returns The bytes read (fewer when the file is shorter).
 * @example
 * ```ts
 * using file = await Deno.open("/var/log/syslog");
 * const head = await readFileHead(file, FINGERPRINT_BYTES);
 * ```
 */
export async function readFileHead(file: ReadableFile, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  return buffer.subarray(0, await readAt(file, 0, buffer));
}

/**
 * Whether an open file still starts with the given bytes. Moves the file position.
 *
 * @param file An open file.
 * @param head Bytes the file started with when last looked at.
 * @returns False when the file is shorter or its first bytes differ.
 * @example
 * ```ts
 * using file = await Deno.open("/var/log/syslog");
 * const { head } = await readFileIdentity(file);
 * await headMatches(file, head); // true until the content is replaced
 * ```
 */
export async function headMatches(file: ReadableFile, head: Uint8Array): Promise<boolean> {
  if (head.length === 0) return true;
  const now = await readFileHead(file, head.length);
  if (now.length !== head.length) return false;
  for (let i = 0; i < head.length; i++) if (now[i] !== head[i]) return false;
  return true;
}

/**
 * Computes the identity of an open file. Moves the file position.
 *
 * @param file An open file.
 * @param info The file's `stat()`, when the caller already has it.
 * @returns Device, inode, fingerprint and the first bytes it covers.
 * @example
 * ```ts
 * using file = await Deno.open("/var/log/syslog");
 * const identity = await readFileIdentity(file);
 * ```
 */
export async function readFileIdentity(
  file: Deno.FsFile,
  info?: Deno.FileInfo,
): Promise<FileIdentityWithHead> {
  const stat = info ?? await file.stat();
  const head = await readFileHead(file, Math.min(FINGERPRINT_BYTES, stat.size));
  return await identityOf(stat, head);
}

/**
 * The identity of a file from its `stat()` and the first bytes already read
 * (of its content: the decompressed start for a compressed copy).
 *
 * @param info The file's `stat()`.
 * @param head Its first bytes, at most {@linkcode FINGERPRINT_BYTES}.
 * @returns Device, inode, fingerprint and the first bytes it covers.
 * @example
 * ```ts
 * using file = await Deno.open("/var/log/syslog");
 * const head = await readFileHead(file, FINGERPRINT_BYTES);
 * const identity = await identityOf(await file.stat(), head);
 * ```
 */
export async function identityOf(
  info: Deno.FileInfo,
  head: Uint8Array,
): Promise<FileIdentityWithHead> {
  return {
    dev: info.dev ?? 0,
    ino: info.ino ?? 0,
    fingerprint: await fingerprintOf(head),
    fingerprintBytes: head.length,
    head,
  };
}

/**
 * Whether a file's first bytes still match a saved identity's fingerprint
 * (device and inode are compared separately with {@linkcode sameFile}).
 *
 * @param head The file's first bytes now (at least as many as were fingerprinted).
 * @param saved The identity saved earlier.
 * @returns True when the fingerprinted prefix is unchanged.
 * @example
 * ```ts
 * using file = await Deno.open("/var/log/syslog");
 * const now = await readFileIdentity(file);
 * await fingerprintMatches(now.head, savedIdentity);
 * ```
 */
export async function fingerprintMatches(
  head: Uint8Array,
  saved: FileIdentity,
): Promise<boolean> {
  if (head.length < saved.fingerprintBytes) return false;
  return await fingerprintOf(head.subarray(0, saved.fingerprintBytes)) === saved.fingerprint;
}
