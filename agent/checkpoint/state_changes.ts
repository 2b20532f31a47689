/**
 * The state's change file, `<state dir>/agent-state.changes`: what changed
 * since the state file (state_file.ts) was last written whole, one line per
 * save, so a save writes only the paths whose positions moved. Every now and
 * then (when the change file outgrows the state file) the state is written
 * whole again and the change file starts afresh.
 *
 * Format: text lines, each `<crc32 as 8 hex digits> <JSON>\n`, the CRC-32
 * taken over the JSON's UTF-8 bytes. The first line is the header, naming
 * the state file's version and the generation of the state file it
 * continues:
 *
 * ```text
 * 5d1e6a3c {"version":3,"generation":7}
 * 0b7f11c2 {"t":1764000000123,"set":[[3,52031],[8,1200,1310]]}
 * 9a0c44d1 {"t":1764000000324,"put":[{"slot":12,"path":"/var/log/new.log","incarnations":[…]}],"del":[4]}
 * ```
 *
 * Each later line is one save, at time `t` (ms since the epoch): `put`
 * gives a path its whole entry (as in the state file) under a slot number;
 * `set` changes only the last incarnation of the entry in a slot,
 * `[slot, offset]`, `[slot, offset, size]` or
 * `[slot, offset, size, fingerprintBytes, fingerprint]` (a size left out
 * equals the offset); `del` drops the entries of slots. The state file's
 * `files[i]` is slot `i`.
 *
 * Crash safety: a line is written with one `write` and made durable with
 * `fdatasync` before the save counts as done. A crash in the middle leaves a
 * last line without its newline or with a wrong CRC: it is ignored when
 * reading, with everything after it, so the agent resumes from the save
 * before (resending lines the server already has, which it answers
 * `Duplicate`). A change file of another generation than the state file
 * (a crash while the state was written whole) is stale and ignored: the
 * state file holds all of it.
 *
 * @module
 */

import { dirname } from "../_posix_path.ts";
import { crc32 } from "./_crc32.ts";
import { syncDirectory } from "./small_file.ts";
import {
  type FileState,
  type IncarnationState,
  isUint,
  parseFileState,
  sameIncarnation,
} from "./file_state.ts";

/** Name of the change file inside the state directory. */
export const STATE_CHANGES_FILE_NAME = "agent-state.changes";

/** A save's change to one slot: only the last incarnation's offset, size or fingerprint moved. */
export type SetRecord =
  | readonly [slot: number, offset: number]
  | readonly [slot: number, offset: number, size: number]
  | readonly [
    slot: number,
    offset: number,
    size: number,
    fingerprintBytes: number,
    fingerprint: string,
  ];

/** One save, as one line of the change file. */
export interface ChangeLine {
  /** When it was saved, in ms since the epoch. */
  readonly t: number;
  /** Whole entries, each with its slot. */
  readonly put?: readonly (FileState & { readonly slot: number })[];
  /** Changes of the last incarnation of an entry. */
  readonly set?: readonly SetRecord[];
  /** Slots whose entries are dropped (paths no longer followed). */
  readonly del?: readonly number[];
}

/** The header of a change file. */
export interface ChangesHeader {
  /** Version of the state format it was written in. */
  readonly version: number;
  /** Generation of the state file it continues. */
  readonly generation: number;
}

/** What {@linkcode parseChanges} read. */
export interface ParsedChanges {
  /** The header, or undefined when the file has no valid one. */
  readonly header: ChangesHeader | undefined;
  /** The saves, in order, up to the first line that is cut short or damaged. */
  readonly lines: readonly ChangeLine[];
  /** Bytes at the end that were ignored (a line cut short by a crash, or damage). */
  readonly ignoredBytes: number;
}

const ENCODER = new TextEncoder();
const HEX = /^[0-9a-f]{8}$/;
const HEX_FINGERPRINT = /^[0-9a-f]{1,128}$/;

/**
 * Formats one line of the change file.
 *
 * @param value The header or a save.
 * @returns `<crc32> <JSON>\n`.
 * @example
 * ```ts
 * formatChangeLine({ version: 3, generation: 1 }); // '… {"version":3,"generation":1}\n'
 * ```
 */
export function formatChangeLine(value: ChangesHeader | ChangeLine): string {
  const json = JSON.stringify(value);
  return `${crc32(ENCODER.encode(json)).toString(16).padStart(8, "0")} ${json}\n`;
}

/** The JSON of one line when its CRC matches, else undefined. */
function checkedJson(line: string): unknown {
  if (line.length < 10 || line[8] !== " ") return undefined;
  const crc = line.slice(0, 8);
  const json = line.slice(9);
  if (!HEX.test(crc) || parseInt(crc, 16) !== crc32(ENCODER.encode(json))) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

/** Validates a save's JSON; undefined when malformed. */
function parseChangeLine(value: unknown, version: number): ChangeLine | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { t, put, set, del } = value as Record<string, unknown>;
  if (!isUint(t)) return undefined;
  const puts: (FileState & { slot: number })[] = [];
  if (put !== undefined) {
    if (!Array.isArray(put)) return undefined;
    for (const entry of put) {
      const slot = (entry as Record<string, unknown> | null)?.slot;
      const state = parseFileState(entry, "put", version);
      if (!isUint(slot) || typeof state === "string") return undefined;
      puts.push({ ...state, slot });
    }
  }
  const sets: SetRecord[] = [];
  if (set !== undefined) {
    if (!Array.isArray(set)) return undefined;
    for (const record of set) {
      if (!Array.isArray(record) || ![2, 3, 5].includes(record.length)) return undefined;
      if (!record.slice(0, 4).every(isUint)) return undefined;
      if (record.length === 5 && !HEX_FINGERPRINT.test(String(record[4]))) return undefined;
      sets.push(record as unknown as SetRecord);
    }
  }
  if (del !== undefined && (!Array.isArray(del) || !del.every(isUint))) return undefined;
  return {
    t,
    ...(puts.length > 0 ? { put: puts } : {}),
    ...(sets.length > 0 ? { set: sets } : {}),
    ...(del !== undefined && del.length > 0 ? { del: del as number[] } : {}),
  };
}

/**
 * Reads the text of a change file. Never throws: what cannot be read is
 * reported as ignored bytes.
 *
 * @param text The file's contents.
 * @returns The header and the saves up to the first line that is cut short or damaged.
 * @example
 * ```ts
 * const { header, lines } = parseChanges(await Deno.readTextFile(path));
 * ```
 */
export function parseChanges(text: string): ParsedChanges {
  let at = 0;
  let header: ChangesHeader | undefined;
  const lines: ChangeLine[] = [];
  while (at < text.length) {
    const end = text.indexOf("\n", at);
    // A line without its newline was cut short by a crash.
    if (end < 0) break;
    const value = checkedJson(text.slice(at, end));
    if (header === undefined) {
      const { version, generation } = (value ?? {}) as Record<string, unknown>;
      if (!isUint(version) || version === 0 || !isUint(generation)) break;
      header = { version, generation };
    } else {
      const line = parseChangeLine(value, header.version);
      if (line === undefined) break;
      lines.push(line);
    }
    at = end + 1;
  }
  return { header, lines, ignoredBytes: ENCODER.encode(text.slice(at)).length };
}

/**
 * How a path's entry changed between two saves.
 *
 * @param slot The entry's slot.
 * @param before What was saved, if anything.
 * @param after What is to be saved now.
 * @returns `undefined` when unchanged; a {@linkcode SetRecord} when only the
 *   last incarnation's offset, size or fingerprint moved; `"put"` otherwise.
 * @example
 * ```ts
 * changeOf(3, saved, { ...saved, incarnations: [{ ...inc, offset: inc.offset + 31, size: inc.offset + 31 }] });
 * // [3, offset + 31]
 * ```
 */
export function changeOf(
  slot: number,
  before: FileState | undefined,
  after: FileState,
): SetRecord | "put" | undefined {
  if (before === undefined) return "put";
  const a = before.incarnations;
  const b = after.incarnations;
  if (a.length !== b.length) return "put";
  if (b.length === 0) return undefined;
  for (let i = 0; i < b.length - 1; i++) if (!sameIncarnation(a[i]!, b[i]!)) return "put";
  const was = a.at(-1)!;
  const now = b.at(-1)!;
  if (sameIncarnation(was, now)) return undefined;
  if (
    was.stream !== now.stream || was.dev !== now.dev || was.ino !== now.ino ||
    was.rotated !== now.rotated || was.lost !== now.lost
  ) {
    return "put";
  }
  if (was.fingerprint !== now.fingerprint || was.fingerprintBytes !== now.fingerprintBytes) {
    return [slot, now.offset, now.size, now.fingerprintBytes, now.fingerprint];
  }
  return now.size === now.offset ? [slot, now.offset] : [slot, now.offset, now.size];
}

/**
 * Applies a {@linkcode SetRecord} to an entry.
 *
 * @param entry The entry in the record's slot.
 * @param record The change.
 * @returns The changed entry, or undefined when the record does not fit it
 *   (no incarnation).
 * @example
 * ```ts
 * applySet(saved, [3, 52031]); // the last incarnation at offset and size 52031
 * ```
 */
export function applySet(entry: FileState, record: SetRecord): FileState | undefined {
  const last = entry.incarnations.at(-1);
  if (last === undefined) return undefined;
  const offset = record[1];
  const size = Math.max(record[2] ?? offset, offset);
  const changed: IncarnationState = {
    ...last,
    offset,
    size,
    ...(record.length === 5 ? { fingerprintBytes: record[3], fingerprint: record[4] } : {}),
  };
  return { path: entry.path, incarnations: [...entry.incarnations.slice(0, -1), changed] };
}

/**
 * The open change file: started afresh after each whole write of the state,
 * then appended to, one durable line per save. Saves must not overlap.
 *
 * @example
 * ```ts
 * const changes = new StateChanges("/var/lib/nms-agent/agent-state.changes");
 * await changes.reset({ version: 3, generation: 8 });
 * await changes.append(formatChangeLine({ t: Date.now(), set: [[0, 120]] }));
 * changes.close();
 * ```
 */
export class StateChanges {
  /** Path of the file. */
  readonly path: string;
  #file: Deno.FsFile | undefined;
  #bytes = 0;
  /** Bytes written to the file since it was made. */
  bytesWritten = 0;
  /** fsync and fdatasync calls made. */
  syncs = 0;

  /**
   * @param path The change file.
   */
  constructor(path: string) {
    this.path = path;
  }

  /** Size of the file now, in bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Empties the file and writes its header, durably. Called right after the
   * state file was written whole: a crash before this leaves a change file
   * of the older generation, which is ignored.
   *
   * @param header The version and the generation of the state file just written.
   * @returns Resolves once the header is durable.
   */
  async reset(header: ChangesHeader): Promise<void> {
    this.close();
    let created = false;
    try {
      await Deno.lstat(this.path);
    } catch {
      created = true;
    }
    const file = await Deno.open(this.path, {
      write: true,
      create: true,
      truncate: true,
      mode: 0o600,
    });
    this.#file = file;
    this.#bytes = 0;
    // `mode` applies only when the file is created.
    await Deno.chmod(this.path, 0o600);
    await this.#write(formatChangeLine(header));
    if (created) {
      // A new directory entry survives a power loss only once the directory is synced.
      await syncDirectory(dirname(this.path));
      this.syncs++;
    }
  }

  /**
   * Appends one line and makes it durable (fdatasync) before resolving.
   *
   * @param line A line from {@linkcode formatChangeLine}.
   * @returns Resolves once the line is durable.
   * @throws When the file is not open ({@linkcode StateChanges.reset} first)
   *   or cannot be written; the file may then end in part of the line, which
   *   a reader ignores, and the caller must reset it before appending again.
   */
  append(line: string): Promise<void> {
    if (this.#file === undefined) {
      return Promise.reject(new TypeError(`Cannot append to ${this.path}: not open`));
    }
    return this.#write(line);
  }

  /** Closes the file. Idempotent. */
  close(): void {
    try {
      this.#file?.close();
    } catch {
      // Already closed.
    }
    this.#file = undefined;
  }

  async #write(line: string): Promise<void> {
    const file = this.#file!;
    const bytes = ENCODER.encode(line);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    this.#bytes += bytes.length;
    this.bytesWritten += bytes.length;
    // The line counts only once it is on disk: a crash before leaves the
    // previous saves, which are all the agent claims to have saved.
    await file.syncData();
    this.syncs++;
  }
}
