/**
 * The agent's checkpoints: the state file (acknowledged offsets of every
 * followed file) and the journal cursor file, both in the state directory.
 * They are loaded once at start-up, and saved after ACKs arrive, at most
 * every `saveIntervalMs` (the saves are coalesced), and once more at
 * shutdown. A save after ACKs writes only the paths whose positions changed
 * (state_file.ts); the state is written whole at start-up and at shutdown.
 * Without a state directory nothing is loaded or saved.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import type { Clock, TimerId } from "../clock.ts";
import type { Logger } from "../log.ts";
import { JournalCursorFile } from "./journal_cursor_file.ts";
import { type FileState, StateFile, type StateFileStats } from "./state_file.ts";

/** Least time between two state file writes, in milliseconds (writes are coalesced). */
export const DEFAULT_STATE_SAVE_INTERVAL_MS = 200;

/** What the checkpoints save: read from the agent's sources at each save. */
export interface CheckpointContent {
  /** The positions of every followed path, as the state file lists them. */
  fileStates(): FileState[];
  /**
   * The positions that differ from the saved ones, and the saved paths no
   * longer followed.
   *
   * @param saved What is saved now, by path.
   */
  changedFileStates(
    saved: ReadonlyMap<string, FileState>,
  ): { changed: FileState[]; removed: string[] };
  /** The journal's acknowledged cursor, when the journal is followed and it is known. */
  journalCursor(): string | undefined;
}

/** Options of {@linkcode Checkpoints}. */
export interface CheckpointsOptions {
  /** The state directory; undefined keeps positions in memory only. */
  readonly stateDir: string | undefined;
  /**
   * Least time between state file writes, in milliseconds.
   * @default {DEFAULT_STATE_SAVE_INTERVAL_MS} (200 ms)
   */
  readonly saveIntervalMs?: number;
  /** Timers and time. */
  readonly clock: Clock;
  /** Where unusable files and failed saves are reported. */
  readonly logger: Logger;
}

/** The state file as loaded at start-up. */
export interface LoadedState {
  /** Saved positions by path. */
  readonly files: ReadonlyMap<string, FileState>;
  /** When the state file was saved, in ms since the epoch, if known. */
  readonly savedAtMs: number | undefined;
  /** Whether a usable state file was found: a glob match without a position is then a new file. */
  readonly found: boolean;
}

/**
 * Loads and saves the state file and the journal cursor file.
 *
 * @example
 * ```ts
 * const checkpoints = new Checkpoints({ stateDir: "/var/lib/nms-agent", clock, logger }, {
 *   fileStates: () => sources.fileStates(),
 *   journalCursor: () => sources.journalCursor,
 * });
 * const loaded = await checkpoints.loadState();
 * checkpoints.schedule(); // after ACKs: saved within 200 ms
 * await checkpoints.saveNow(); // at shutdown
 * ```
 */
export class Checkpoints {
  readonly #options: CheckpointsOptions;
  readonly #content: CheckpointContent;
  #stateFile: StateFile | undefined;
  #journalCursorFile: JournalCursorFile | undefined;
  #savedJournalCursor: string | undefined;
  #saveChain: Promise<void> = Promise.resolve();
  #saveTimer: TimerId | undefined;
  #lastSaveAt = -Infinity;
  #stopped = false;
  #saves = 0;

  /**
   * @param options State directory, save interval, clock and logger.
   * @param content What to save.
   */
  constructor(options: CheckpointsOptions, content: CheckpointContent) {
    this.#options = options;
    this.#content = content;
  }

  /** State file writes after ACKs and at shutdown. */
  get saves(): number {
    return this.#saves;
  }

  /** Bytes written to the state files and syncs made. */
  get writes(): StateFileStats {
    return this.#stateFile?.stats ?? { bytesWritten: 0, syncs: 0, wholeWrites: 0 };
  }

  /** Whether the journal's cursor is kept in a file, so a restart resumes after it. */
  get keepsJournalCursor(): boolean {
    return this.#journalCursorFile !== undefined;
  }

  /**
   * Loads the state file. An unusable one is moved aside with a warning and
   * the agent starts afresh.
   *
   * @returns The saved positions (none without a state directory).
   * @throws {Error} When the state file is from a newer agent.
   */
  async loadState(): Promise<LoadedState> {
    const files = new Map<string, FileState>();
    const stateDir = this.#options.stateDir;
    if (stateDir === undefined) return { files, savedAtMs: undefined, found: false };
    const stateFile = new StateFile(stateDir);
    const loaded = await stateFile.load();
    let savedAtMs: number | undefined;
    let found = false;
    switch (loaded.status) {
      case "missing":
        break;
      case "unsupported":
        throw new Error(`Cannot use the agent state file ${stateFile.path}: ${loaded.reason}`);
      case "corrupt": {
        const movedTo = await stateFile.quarantine();
        this.#options.logger.warn("state file unusable, starting afresh", {
          path: stateFile.path,
          reason: loaded.reason,
          movedTo,
        });
        break;
      }
      case "ok":
        for (const entry of loaded.files) files.set(entry.path, entry);
        savedAtMs = loaded.savedAtMs;
        found = true;
        if (loaded.ignoredBytes !== undefined) {
          // A save cut short by a crash: the one before it is used.
          this.#options.logger.warn("state change file ends in an incomplete save, ignored", {
            path: stateFile.changesPath,
            ignoredBytes: loaded.ignoredBytes,
          });
        }
        break;
    }
    this.#stateFile = stateFile;
    return { files, savedAtMs, found };
  }

  /**
   * Loads the journal cursor file. An unusable one is moved aside with a
   * warning and the journal starts at its end.
   *
   * @returns The saved cursor, if any (none without a state directory).
   * @throws {Error} When the cursor file is from a newer agent.
   */
  async loadJournalCursor(): Promise<string | undefined> {
    const stateDir = this.#options.stateDir;
    if (stateDir === undefined) return undefined;
    const file = new JournalCursorFile(stateDir);
    const loaded = await file.load();
    if (loaded.status === "unsupported") {
      throw new Error(`Cannot use the journal cursor file ${file.path}: ${loaded.reason}`);
    }
    if (loaded.status === "corrupt") {
      const movedTo = await file.quarantine();
      this.#options.logger.warn("journal cursor file unusable, starting at the journal's end", {
        path: file.path,
        reason: loaded.reason,
        movedTo,
      });
    }
    const cursor = loaded.status === "ok" ? loaded.cursor : undefined;
    this.#journalCursorFile = file;
    this.#savedJournalCursor = cursor;
    return cursor;
  }

  /**
   * The save at start-up: it surfaces an unwritable state directory before
   * the agent runs, and records where a first start began (the end of each
   * file) and where the journal starts.
   *
   * @returns Resolves once saved.
   * @throws {Error} When the state file cannot be written.
   */
  async saveFirst(): Promise<void> {
    if (this.#stateFile !== undefined) await this.#stateFile.save(this.#content.fileStates());
    await this.#saveJournalCursor();
  }

  /** Schedules a coalesced save at most every `saveIntervalMs`; nothing after {@linkcode Checkpoints.stop}. */
  schedule(): void {
    if (this.#stateFile === undefined || this.#saveTimer !== undefined || this.#stopped) return;
    const intervalMs = this.#options.saveIntervalMs ?? DEFAULT_STATE_SAVE_INTERVAL_MS;
    const clock = this.#options.clock;
    const delayMs = Math.max(0, this.#lastSaveAt + intervalMs - clock.now());
    this.#saveTimer = clock.setTimeout(() => {
      this.#saveTimer = undefined;
      void this.saveNow();
    }, delayMs);
  }

  /** Cancels a scheduled save; later calls of {@linkcode Checkpoints.schedule} do nothing. */
  stop(): void {
    this.#stopped = true;
    if (this.#saveTimer !== undefined) this.#options.clock.clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
  }

  /**
   * Saves both files now (after any save in progress): the paths whose
   * positions changed, or with `whole` every path (at shutdown, so the state
   * file alone holds everything). Never throws: a failed save is logged and
   * tried again at the next one.
   *
   * @param whole Write the state whole.
   * @returns Resolves once saved.
   */
  saveNow(whole = false): Promise<void> {
    const stateFile = this.#stateFile;
    if (stateFile === undefined) return Promise.resolve();
    this.#saveChain = this.#saveChain.then(async () => {
      this.#lastSaveAt = this.#options.clock.now();
      try {
        if (whole) await stateFile.save(this.#content.fileStates());
        else await stateFile.saveChanges(this.#content.changedFileStates(stateFile.saved));
        this.#saves++;
      } catch (error) {
        this.#options.logger.error("cannot save the state file", {
          path: stateFile.path,
          reason: errorMessage(error),
        });
      }
      await this.#saveJournalCursor();
      if (whole) stateFile.close();
    });
    return this.#saveChain;
  }

  /** Saves the journal's acknowledged cursor when it moved. Never throws. */
  async #saveJournalCursor(): Promise<void> {
    const file = this.#journalCursorFile;
    const cursor = this.#content.journalCursor();
    if (file === undefined || cursor === undefined || cursor === this.#savedJournalCursor) return;
    try {
      await file.save(cursor);
      this.#savedJournalCursor = cursor;
    } catch (error) {
      this.#options.logger.error("cannot save the journal cursor", {
        path: file.path,
        reason: errorMessage(error),
      });
    }
  }
}
