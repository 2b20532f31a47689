/**
 * The agent's checkpoint: for each followed path, every incarnation of the
 * file it still owes the server lines from (the current file and rotated ones
 * not yet read to their end), each with its stream id, device, inode,
 * fingerprint, the offset just after the last line the server acknowledged,
 * and the largest size seen. Restored on restart so the agent resumes exactly
 * where the server's acknowledgements ended, finds rotated files under their
 * new names (docs/DELIVERY.md), and reports what it can no longer read.
 *
 * Format (version 2), pretty-printed JSON in `<state dir>/agent-state.json`:
 *
 * ```json
 * {
 *   "version": 2,
 *   "savedAt": "2025-12-11T16:00:00.000Z",
 *   "files": [
 *     {
 *       "path": "/var/log/syslog",
 *       "incarnations": [
 *         {
 *           "stream": "Zx1c0mRk3lq2wK0nTnVb3A",
 *           "dev": 2049,
 *           "ino": 1234500,
 *           "fingerprint": "0d1e6a3c5b2a4f8e9d7c6b5a4f3e2d1c",
 *           "fingerprintBytes": 256,
 *           "offset": 52000,
 *           "size": 61000,
 *           "rotated": true
 *         },
 *         {
 *           "stream": "q8Jc0mRk3lq2wK0nTnVb3A",
 *           "dev": 2049,
 *           "ino": 1234567,
 *           "fingerprint": "9f86d081884c7d659a2feaa0c55ad015",
 *           "fingerprintBytes": 256,
 *           "offset": 81234,
 *           "size": 81234,
 *           "rotated": false
 *         }
 *       ]
 *     }
 *   ]
 * }
 * ```
 *
 * An incarnation whose content could not be found any more carries `lost`
 * (the reason): the agent still owes the server the gap event for it.
 * Version 1 files (one flat entry per path) are read and upgraded.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { SmallFile } from "./small_file.ts";

/** Version written into new state files; files with a higher version are refused. */
export const STATE_FILE_VERSION = 2;

/** Name of the state file inside the state directory. */
export const STATE_FILE_NAME = "agent-state.json";

/** Largest state file read, in bytes; a bigger file is treated as corrupt. */
export const MAX_STATE_FILE_BYTES = 16 * 1024 * 1024;

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

/** Result of {@linkcode StateFile.load}. */
export type LoadStateResult =
  /** No state file yet: a first start. */
  | { readonly status: "missing" }
  /**
   * The saved positions, and when they were saved (ms since the epoch; absent
   * when the file has no valid `savedAt`).
   */
  | { readonly status: "ok"; readonly files: readonly FileState[]; readonly savedAtMs?: number }
  /** The file exists but cannot be used; `reason` says why. */
  | { readonly status: "corrupt"; readonly reason: string }
  /** Written by a newer agent; refusing it avoids silently losing its positions. */
  | { readonly status: "unsupported"; readonly reason: string };

const STREAM_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const HEX_PATTERN = /^[0-9a-f]{1,128}$/;

function isUint(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Validates one incarnation (or a version 1 entry, which has the same fields
 * but `size`, `rotated` and `lost`).
 *
 * @returns The incarnation, or a reason it is invalid.
 */
function parseIncarnation(value: unknown, where: string): IncarnationState | string {
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
 * Validates one parsed `files[]` entry of either version.
 *
 * @returns The entry, or a reason it is invalid.
 */
function parseEntry(value: unknown, index: number, version: number): FileState | string {
  const where = `files[${index}]`;
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
 * Parses the text of a state file (version 1 or 2). Never throws.
 *
 * @param text The file's contents.
 * @returns The positions, or why the text is unusable.
 * @example
 * ```ts
 * parseState('{"version":2,"files":[]}'); // { status: "ok", files: [] }
 * ```
 */
export function parseState(text: string): LoadStateResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { status: "corrupt", reason: `invalid JSON (${errorMessage(error)})` };
  }
  if (typeof data !== "object" || data === null) {
    return { status: "corrupt", reason: "not an object" };
  }
  const { version, files, savedAt } = data as Record<string, unknown>;
  if (!isUint(version) || version === 0) return { status: "corrupt", reason: "missing version" };
  if (version > STATE_FILE_VERSION) {
    return {
      status: "unsupported",
      reason: `version ${version} is newer than the supported version ${STATE_FILE_VERSION}`,
    };
  }
  if (!Array.isArray(files)) return { status: "corrupt", reason: "files is not an array" };
  const parsed: FileState[] = [];
  for (let i = 0; i < files.length; i++) {
    const entry = parseEntry(files[i], i, version);
    if (typeof entry === "string") return { status: "corrupt", reason: entry };
    parsed.push(entry);
  }
  // Used to tell files born while the agent was stopped from older ones;
  // unusable when missing or invalid (then no such search is done).
  const savedAtMs = typeof savedAt === "string" ? Date.parse(savedAt) : NaN;
  return { status: "ok", files: parsed, ...(Number.isFinite(savedAtMs) ? { savedAtMs } : {}) };
}

/**
 * Formats positions as the text of a state file.
 *
 * @param files The positions to save.
 * @param savedAt When they were saved, ms since the epoch (read back as `savedAtMs`).
 * @returns Pretty-printed JSON ending in a newline.
 * @example
 * ```ts
 * formatState([], Date.now()); // '{\n  "version": 2, ...'
 * ```
 */
export function formatState(files: readonly FileState[], savedAt: number): string {
  return JSON.stringify(
    { version: STATE_FILE_VERSION, savedAt: new Date(savedAt).toISOString(), files },
    null,
    2,
  ) + "\n";
}

/**
 * Loads and atomically saves the agent's state file in one directory.
 * Saves must not overlap: the caller runs one at a time.
 *
 * @example
 * ```ts
 * const state = new StateFile("/var/lib/nms-agent");
 * const loaded = await state.load();
 * await state.save([]);
 * ```
 */
export class StateFile extends SmallFile {
  /**
   * @param dir The state directory; created (mode 0700) on first save.
   */
  constructor(dir: string) {
    super(dir, STATE_FILE_NAME, { maxBytes: MAX_STATE_FILE_BYTES, what: "agent state file" });
  }

  /**
   * Reads the state file. Never throws for a missing or damaged file; the
   * result says what was found. Throws only when the directory cannot be read
   * at all (e.g. permission denied), which is a configuration error.
   *
   * @returns The positions, or the reason there are none.
   */
  async load(): Promise<LoadStateResult> {
    const read = await this.read();
    return read.status === "ok" ? parseState(read.text) : read;
  }

  /**
   * Replaces the state file atomically: readers see the old or the new
   * contents, never a mix, whatever moment the process or machine dies.
   *
   * @param files The positions to save.
   * @param savedAt When, in ms since the epoch.
   * @returns Resolves once the new state is durable.
   */
  async save(files: readonly FileState[], savedAt: number = Date.now()): Promise<void> {
    await this.write(formatState(files, savedAt));
  }
}
