/**
 * The agent's checkpoint: for each followed path, every incarnation of the
 * file it still owes the server lines from (file_state.ts), restored on
 * restart so the agent resumes exactly where the server's acknowledgements
 * ended, finds rotated files under their new names (docs/DELIVERY.md), and
 * reports what it can no longer read.
 *
 * It is kept in two files of the state directory. `agent-state.json` holds
 * the whole state, written atomically (temp file, fsync, rename, fsync of the
 * directory; mode 0600) at start, at a clean stop, and whenever the change
 * file outgrows it. In between, each save appends to `agent-state.changes`
 * (state_changes.ts) only the paths whose positions moved, so a save costs
 * in proportion to what changed, not to the number of files followed.
 *
 * State file format (version 3), one entry per line:
 *
 * ```text
 * {"version":3,"savedAt":"2025-12-11T16:00:00.000Z","generation":7,"files":[
 * {"path":"/var/log/syslog","incarnations":[{"stream":"Zx1c0mRk3lq2wK0nTnVb3A","dev":2049,"ino":1234500,"fingerprint":"0d1e6a3c5b2a4f8e9d7c6b5a4f3e2d1c","fingerprintBytes":256,"offset":52000,"size":61000,"rotated":true},{"stream":"q8Jc0mRk3lq2wK0nTnVb3A","dev":2049,"ino":1234567,"fingerprint":"9f86d081884c7d659a2feaa0c55ad015","fingerprintBytes":256,"offset":81234,"size":81234,"rotated":false}]}
 * ]}
 * ```
 *
 * An incarnation whose content could not be found any more carries `lost`
 * (the reason): the agent still owes the server the gap event for it.
 * `generation` counts the whole writes; the change file names the one it
 * continues. Version 1 (one flat entry per path) and version 2 (the same
 * entries, pretty-printed, without a change file) are read and written as
 * version 3 at the next start; a higher version is refused.
 *
 * @module
 */

import { join } from "../_posix_path.ts";
import { type FileState, parseFileState } from "./file_state.ts";
import { parseVersionedObject, SmallFile } from "./small_file.ts";
import {
  applySet,
  type ChangeLine,
  changeOf,
  formatChangeLine,
  parseChanges,
  type SetRecord,
  STATE_CHANGES_FILE_NAME,
  StateChanges,
} from "./state_changes.ts";

export { type FileState, type IncarnationState, MAX_LOST_REASON_CHARS } from "./file_state.ts";
export { STATE_CHANGES_FILE_NAME } from "./state_changes.ts";

/** Version written into new state files; files with a higher version are refused. */
export const STATE_FILE_VERSION = 3;

/** Name of the state file inside the state directory. */
export const STATE_FILE_NAME = "agent-state.json";

/** Largest state file (and change file) read, in bytes; a bigger one is treated as corrupt. */
export const MAX_STATE_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Least size of the change file before the state is written whole again, in
 * bytes; beyond it, the change file may grow to the state file's size. Each
 * byte of change is thus written at most about twice, and reading the state
 * at start costs at most about twice the state file.
 */
export const MIN_STATE_CHANGES_BYTES = 64 * 1024;

/** Result of {@linkcode StateFile.load}. */
export type LoadStateResult =
  /** No state file yet: a first start. */
  | { readonly status: "missing" }
  /**
   * The saved positions, and when they were saved (ms since the epoch; absent
   * when the file has no valid `savedAt`). `ignoredBytes` counts the end of
   * the change file that was not applied (a save cut short by a crash).
   */
  | {
    readonly status: "ok";
    readonly files: readonly FileState[];
    readonly savedAtMs?: number;
    readonly ignoredBytes?: number;
  }
  /** The file exists but cannot be used; `reason` says why. */
  | { readonly status: "corrupt"; readonly reason: string }
  /** Written by a newer agent; refusing it avoids silently losing its positions. */
  | { readonly status: "unsupported"; readonly reason: string };

/** A parsed state file: the result, and the generation the change file must continue. */
type ParsedState =
  | (LoadStateResult & { readonly status: "ok"; readonly generation: number | undefined })
  | Exclude<LoadStateResult, { readonly status: "ok" }>;

function parseStateFile(text: string): ParsedState {
  const envelope = parseVersionedObject(text, STATE_FILE_VERSION);
  if (envelope.status !== "ok") return envelope;
  const { version, fields: { files, savedAt, generation } } = envelope;
  if (!Array.isArray(files)) return { status: "corrupt", reason: "files is not an array" };
  if (version >= 3 && (typeof generation !== "number" || !Number.isSafeInteger(generation))) {
    return { status: "corrupt", reason: "missing generation" };
  }
  const parsed: FileState[] = [];
  for (let i = 0; i < files.length; i++) {
    const entry = parseFileState(files[i], `files[${i}]`, version);
    if (typeof entry === "string") return { status: "corrupt", reason: entry };
    parsed.push(entry);
  }
  // Used to tell files born while the agent was stopped from older ones;
  // unusable when missing or invalid (then no such search is done).
  const savedAtMs = typeof savedAt === "string" ? Date.parse(savedAt) : NaN;
  return {
    status: "ok",
    files: parsed,
    ...(Number.isFinite(savedAtMs) ? { savedAtMs } : {}),
    generation: version >= 3 ? generation as number : undefined,
  };
}

/**
 * Parses the text of a state file (version 1, 2 or 3), without its change
 * file. Never throws.
 *
 * @param text The file's contents.
 * @returns The positions, or why the text is unusable.
 * @example
 * ```ts
 * parseState('{"version":2,"files":[]}'); // { status: "ok", files: [] }
 * ```
 */
export function parseState(text: string): LoadStateResult {
  const parsed = parseStateFile(text);
  if (parsed.status !== "ok") return parsed;
  const { generation: _, ...result } = parsed;
  return result;
}

/**
 * Formats positions as the text of a state file (version 3).
 *
 * @param files The positions to save.
 * @param savedAt When they were saved, ms since the epoch (read back as `savedAtMs`).
 * @param generation The count of whole writes, which the change file names.
 * @returns JSON with one entry per line, ending in a newline.
 * @example
 * ```ts
 * formatState([], Date.now(), 1); // '{"version":3,"savedAt":"…","generation":1,"files":[\n]}\n'
 * ```
 */
export function formatState(
  files: readonly FileState[],
  savedAt: number,
  generation = 0,
): string {
  const head = JSON.stringify({
    version: STATE_FILE_VERSION,
    savedAt: new Date(savedAt).toISOString(),
    generation,
  });
  const entries = files.map((file) => JSON.stringify(file)).join(",\n");
  return `${head.slice(0, -1)},"files":[\n${entries}${entries.length > 0 ? "\n" : ""}]}\n`;
}

/** The changes of one save, as the checkpoints hand them over. */
export interface StateChangeSet {
  /** The entries that changed (or are new). */
  readonly changed: readonly FileState[];
  /** The paths no longer followed. */
  readonly removed: readonly string[];
}

/** What {@linkcode StateFile} has written since it was made. */
export interface StateFileStats {
  /** Bytes written to the state file and the change file. */
  readonly bytesWritten: number;
  /** fsync and fdatasync calls. */
  readonly syncs: number;
  /** Times the state was written whole. */
  readonly wholeWrites: number;
}

/**
 * Loads and durably saves the agent's state in one directory: whole, or by
 * the changes since the last save. Saves must not overlap: the caller runs
 * one at a time.
 *
 * @example
 * ```ts
 * const state = new StateFile("/var/lib/nms-agent");
 * const loaded = await state.load();
 * await state.save([]); // whole
 * await state.saveChanges({ changed: [entry], removed: [] }); // one line of the change file
 * state.close();
 * ```
 */
export class StateFile extends SmallFile {
  /** Path of the change file. */
  readonly changesPath: string;
  readonly #changes: StateChanges;
  /** What is durable on disk now, by path. */
  #durable = new Map<string, FileState>();
  /** Slot of each durable path in the change file. */
  #slots = new Map<string, number>();
  #nextSlot = 0;
  #generation = 0;
  #wholeBytes = 0;
  /** The next save writes the state whole (nothing written yet, or a save failed). */
  #wholeNext = true;
  #wholeWrites = 0;
  #wholeBytesWritten = 0;
  #wholeSyncs = 0;

  /**
   * @param dir The state directory; created (mode 0700) on first save.
   */
  constructor(dir: string) {
    super(dir, STATE_FILE_NAME, { maxBytes: MAX_STATE_FILE_BYTES, what: "agent state file" });
    this.changesPath = join(dir, STATE_CHANGES_FILE_NAME);
    this.#changes = new StateChanges(this.changesPath);
  }

  /** What is saved now, by path: the base the next {@linkcode StateFile.saveChanges} is compared with. */
  get saved(): ReadonlyMap<string, FileState> {
    return this.#durable;
  }

  /** Bytes written and syncs made since this object was made. */
  get stats(): StateFileStats {
    return {
      bytesWritten: this.#wholeBytesWritten + this.#changes.bytesWritten,
      syncs: this.#wholeSyncs + this.#changes.syncs,
      wholeWrites: this.#wholeWrites,
    };
  }

  /**
   * Reads the state file and applies its change file. Never throws for a
   * missing or damaged file; the result says what was found. Throws only
   * when the directory cannot be read at all (e.g. permission denied), which
   * is a configuration error.
   *
   * @returns The positions, or the reason there are none.
   */
  async load(): Promise<LoadStateResult> {
    const read = await this.read();
    if (read.status !== "ok") return read;
    const parsed = parseStateFile(read.text);
    if (parsed.status !== "ok") return parsed;
    const { generation, ...result } = parsed;
    const files = new Map<number, FileState>(result.files.map((file, i) => [i, file]));
    let savedAtMs = result.savedAtMs;
    let ignoredBytes = 0;
    if (generation !== undefined) {
      const changes = await readSmallText(this.changesPath, MAX_STATE_FILE_BYTES);
      if (changes === TOO_LARGE) {
        return { status: "corrupt", reason: `${STATE_CHANGES_FILE_NAME} is too large` };
      }
      if (changes !== undefined) {
        const { header, lines, ignoredBytes: ignored } = parseChanges(changes);
        if (header !== undefined && header.version > STATE_FILE_VERSION) {
          return {
            status: "unsupported",
            reason: `${STATE_CHANGES_FILE_NAME} version ${header.version} is newer than ` +
              `the supported version ${STATE_FILE_VERSION}`,
          };
        }
        // A change file of another generation is stale: the state file holds all of it.
        if (header?.generation === generation) {
          for (const line of lines) {
            if (!applyLine(files, line)) break;
            savedAtMs = line.t;
          }
          ignoredBytes = ignored;
        }
      }
    }
    const loaded = [...files.values()];
    this.#durable = new Map(loaded.map((file) => [file.path, file]));
    this.#generation = generation ?? 0;
    return {
      status: "ok",
      files: loaded,
      ...(savedAtMs !== undefined ? { savedAtMs } : {}),
      ...(ignoredBytes > 0 ? { ignoredBytes } : {}),
    };
  }

  /**
   * Writes the state whole: the state file replaced atomically (readers see
   * the old or the new contents, whatever moment the process or machine
   * dies), then the change file started afresh.
   *
   * @param files The positions to save.
   * @param savedAt When, in ms since the epoch.
   * @returns Resolves once the new state is durable.
   */
  async save(files: readonly FileState[], savedAt: number = Date.now()): Promise<void> {
    this.#wholeNext = true;
    const generation = this.#generation + 1;
    const text = formatState(files, savedAt, generation);
    // Steps 1-4 (small_file.ts): temp file, fsync, rename, fsync of the
    // directory. A crash before the rename keeps the old state file and its
    // change file; after it, the change file is of the older generation and
    // is ignored, since the new state file holds everything.
    await this.write(text);
    const bytes = new TextEncoder().encode(text).length;
    this.#wholeBytes = bytes;
    this.#wholeBytesWritten += bytes;
    this.#wholeSyncs += 2;
    this.#wholeWrites++;
    this.#generation = generation;
    this.#durable = new Map(files.map((file) => [file.path, file]));
    this.#slots = new Map(files.map((file, i) => [file.path, i]));
    this.#nextSlot = files.length;
    // Step 5: the change file restarts for this generation.
    await this.#changes.reset({ version: STATE_FILE_VERSION, generation });
    this.#wholeNext = false;
  }

  /**
   * Saves what changed since the last save: one line of the change file,
   * made durable before resolving. Writes the state whole instead when
   * nothing was written yet, when the last save failed, or when the change
   * file would outgrow the state file (and {@linkcode MIN_STATE_CHANGES_BYTES}).
   * Nothing is written when nothing changed.
   *
   * @param changes The entries that changed and the paths no longer followed.
   * @param savedAt When, in ms since the epoch.
   * @returns Resolves once the changes are durable.
   */
  async saveChanges(changes: StateChangeSet, savedAt: number = Date.now()): Promise<void> {
    const put: (FileState & { slot: number })[] = [];
    const set: SetRecord[] = [];
    const del: number[] = [];
    let nextSlot = this.#nextSlot;
    const newSlots: [string, number][] = [];
    for (const entry of changes.changed) {
      let slot = this.#slots.get(entry.path);
      if (slot === undefined) newSlots.push([entry.path, slot = nextSlot++]);
      const change = changeOf(slot, this.#durable.get(entry.path), entry);
      if (change === undefined) continue;
      if (change === "put") put.push({ slot, ...entry });
      else set.push(change);
    }
    for (const path of changes.removed) {
      const slot = this.#slots.get(path);
      if (slot !== undefined) del.push(slot);
    }
    if (put.length === 0 && set.length === 0 && del.length === 0 && !this.#wholeNext) return;
    const merged = new Map(this.#durable);
    for (const entry of changes.changed) merged.set(entry.path, entry);
    for (const path of changes.removed) merged.delete(path);
    const line = formatChangeLine({
      t: savedAt,
      ...(put.length > 0 ? { put } : {}),
      ...(set.length > 0 ? { set } : {}),
      ...(del.length > 0 ? { del } : {}),
    });
    const limit = Math.max(MIN_STATE_CHANGES_BYTES, this.#wholeBytes);
    if (this.#wholeNext || this.#changes.bytes + line.length > limit) {
      await this.save([...merged.values()], savedAt);
      return;
    }
    try {
      await this.#changes.append(line);
    } catch (error) {
      // The file may end in part of the line: write the state whole next time.
      this.#wholeNext = true;
      throw error;
    }
    this.#durable = merged;
    for (const [path, slot] of newSlots) this.#slots.set(path, slot);
    for (const path of changes.removed) this.#slots.delete(path);
    this.#nextSlot = nextSlot;
  }

  /**
   * Moves an unusable state file aside to `<name>.corrupt` (with its change
   * file), so it can be inspected and the next start does not trip over it again.
   *
   * @returns The path the state file was moved to.
   */
  override async quarantine(): Promise<string> {
    try {
      await Deno.rename(this.changesPath, `${this.changesPath}.corrupt`);
    } catch {
      // No change file.
    }
    return await super.quarantine();
  }

  /** Closes the change file. Idempotent. */
  close(): void {
    this.#changes.close();
  }
}

/** Applies one save to the entries by slot; false when it does not fit them (damage). */
function applyLine(files: Map<number, FileState>, line: ChangeLine): boolean {
  for (const { slot, ...entry } of line.put ?? []) files.set(slot, entry);
  for (const record of line.set ?? []) {
    const entry = files.get(record[0]);
    const changed = entry === undefined ? undefined : applySet(entry, record);
    if (changed === undefined) return false;
    files.set(record[0], changed);
  }
  for (const slot of line.del ?? []) files.delete(slot);
  return true;
}

/** What {@linkcode readSmallText} returns for a file over the limit. */
const TOO_LARGE = Symbol("too large");

/** A small file's text, undefined when missing, or {@linkcode TOO_LARGE}. */
async function readSmallText(
  path: string,
  maxBytes: number,
): Promise<string | typeof TOO_LARGE | undefined> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) return undefined;
    if (info.size > maxBytes) return TOO_LARGE;
    return new TextDecoder().decode(await Deno.readFile(path));
  } catch {
    return undefined;
  }
}
