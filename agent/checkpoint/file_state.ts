/**
 * What the agent saves per followed path: every incarnation of the file it
 * still owes the server lines from (the current file and rotated ones not
 * yet read to their end), each with its stream id, device, inode,
 * fingerprint, the offset just after the last line the server acknowledged,
 * and the largest size seen; and the validation of such an entry read back
 * from disk, which never throws.
 *
 * @module
 */

/** Longest `lost` reason kept, in characters; a longer one is cut. */
export const MAX_LOST_REASON_CHARS = 200;

/** Saved position of one incarnation of a followed file. */
export interface IncarnationState {
  /** Stream id of the incarnation. */
  readonly stream: string;
  /** Device number of its file. */
  readonly dev: number;
  /** Inode number of its file. */
  readonly ino: number;
  /** Fingerprint of its first bytes (see `follow/file_identity.ts`). */
  readonly fingerprint: string;
  /** Bytes the fingerprint covers. */
  readonly fingerprintBytes: number;
  /** Byte offset just after the last acknowledged line. */
  readonly offset: number;
  /** Largest size of the file seen, in bytes (at least `offset`). */
  readonly size: number;
  /** The path no longer names this file (rotated, replaced or removed). */
  readonly rotated: boolean;
  /** Set when the content cannot be read any more: why; its gap event is still owed. */
  readonly lost?: string;
}

/** Saved positions of one followed path. */
export interface FileState {
  /** Absolute path as given on the command line. */
  readonly path: string;
  /** Incarnations, oldest first; the last one is the current file unless it is rotated. */
  readonly incarnations: readonly IncarnationState[];
}

const STREAM_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const HEX_PATTERN = /^[0-9a-f]{1,128}$/;

/**
 * Whether a value is a non-negative safe integer.
 *
 * @param value Anything parsed from JSON.
 * @returns True for 0, 1, 2, … up to `Number.MAX_SAFE_INTEGER`.
 * @example
 * ```ts
 * isUint(3); // true
 * isUint(-1); // false
 * ```
 */
export function isUint(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Validates one incarnation (or a version 1 entry, which has the same fields
 * but `size`, `rotated` and `lost`).
 *
 * @param value A parsed JSON value.
 * @param where Where it was found, for the reason (`files[3].incarnations[0]`).
 * @returns The incarnation, or a reason it is invalid.
 * @example
 * ```ts
 * parseIncarnation({ stream: "x" }, "files[0]"); // "files[0].dev or .ino is invalid"
 * ```
 */
export function parseIncarnation(value: unknown, where: string): IncarnationState | string {
  if (typeof value !== "object" || value === null) return `${where} is not an object`;
  const entry = value as Record<string, unknown>;
  const { stream, dev, ino, fingerprint, fingerprintBytes, offset } = entry;
  if (typeof stream !== "string" || !STREAM_PATTERN.test(stream)) {
    return `${where}.stream is invalid`;
  }
  if (!isUint(dev) || !isUint(ino)) return `${where}.dev or .ino is invalid`;
  if (typeof fingerprint !== "string" || !HEX_PATTERN.test(fingerprint)) {
    return `${where}.fingerprint is invalid`;
  }
  if (!isUint(fingerprintBytes) || !isUint(offset)) {
    return `${where}.fingerprintBytes or .offset is invalid`;
  }
  const size = entry.size ?? offset;
  if (!isUint(size)) return `${where}.size is invalid`;
  const rotated = entry.rotated ?? false;
  if (typeof rotated !== "boolean") return `${where}.rotated is invalid`;
  const lost = entry.lost;
  if (lost !== undefined && typeof lost !== "string") return `${where}.lost is invalid`;
  return {
    stream,
    dev,
    ino,
    fingerprint,
    fingerprintBytes,
    offset,
    size: Math.max(size, offset),
    rotated,
    ...(lost === undefined ? {} : { lost: lost.slice(0, MAX_LOST_REASON_CHARS) }),
  };
}

/**
 * Validates the saved positions of one path.
 *
 * @param value A parsed JSON value: `{ path, incarnations: [...] }`, or in
 *   version 1 one flat entry (the current incarnation with its path).
 * @param where Where it was found, for the reason (`files[3]`).
 * @param version The format version it was written in.
 * @returns The entry, or a reason it is invalid.
 * @example
 * ```ts
 * parseFileState({ path: "/var/log/syslog", incarnations: [] }, "files[0]", 3);
 * ```
 */
export function parseFileState(value: unknown, where: string, version: number): FileState | string {
  if (typeof value !== "object" || value === null) return `${where} is not an object`;
  const entry = value as Record<string, unknown>;
  const path = entry.path;
  if (typeof path !== "string" || path.length === 0) return `${where}.path is invalid`;
  if (version === 1) {
    // Version 1: one flat entry, the current incarnation.
    const inc = parseIncarnation(entry, where);
    return typeof inc === "string" ? inc : { path, incarnations: [inc] };
  }
  if (!Array.isArray(entry.incarnations)) return `${where}.incarnations is not an array`;
  const incarnations: IncarnationState[] = [];
  for (let i = 0; i < entry.incarnations.length; i++) {
    const inc = parseIncarnation(entry.incarnations[i], `${where}.incarnations[${i}]`);
    if (typeof inc === "string") return inc;
    incarnations.push(inc);
  }
  return { path, incarnations };
}

/**
 * Whether two saved incarnations are the same in every field.
 *
 * @param a One.
 * @param b The other.
 * @returns True when equal.
 * @example
 * ```ts
 * sameIncarnation(saved, { ...saved, offset: saved.offset + 10 }); // false
 * ```
 */
export function sameIncarnation(a: IncarnationState, b: IncarnationState): boolean {
  return a.stream === b.stream && a.offset === b.offset && a.size === b.size &&
    a.dev === b.dev && a.ino === b.ino && a.fingerprint === b.fingerprint &&
    a.fingerprintBytes === b.fingerprintBytes && a.rotated === b.rotated && a.lost === b.lost;
}
