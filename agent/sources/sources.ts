/**
 * Everything the agent reads lines from, and how a read line reaches the
 * session's client: the followed files (literal paths, and glob matches that
 * come and go), then the systemd journal. Each round of the pump reads the
 * sources in turn, starting with a different one each time, while the
 * client's window has room.
 *
 * A line on its way to the client: an empty line is not sent; a line the
 * filter drops is consumed, not lost (it is marked done in order, so the
 * acknowledged offset moves past it once every line before it is
 * acknowledged); NUL bytes become U+FFFD, since the server refuses them; and
 * the rest goes out as read, without decoding.
 *
 * The followers share what does not need to exist per file: one directory
 * watcher and one backstop sweep (watch/), the read buffers, and the
 * open-files budget (`--max-open-files`), so an idle file costs a few
 * kilobytes and no system call but its turn in the sweep.
 *
 * @module
 */

import { resolve } from "../_posix_path.ts";
import type { FileState, LoadedState } from "../checkpoint/mod.ts";
import type { Client } from "../client.ts";
import type { Clock } from "../clock.ts";
import {
  DEFAULT_READ_BUFFER_BYTES,
  FileFollower,
  OpenFileBudget,
  ReadBufferPool,
} from "../follow/mod.ts";
import { JournalSource } from "../journal/mod.ts";
import { MAX_EVENT_MESSAGE_BYTES, MAX_REPEATED_WARNINGS } from "../limits.ts";
import type { LineConsumer, LineOrigin, LineSource } from "../line_source.ts";
import type { Logger } from "../log.ts";
import { Sweep, WatchHub } from "../watch/mod.ts";
import { GlobWatcher } from "./glob_watcher.ts";
import { LineFilter, type LineFilterOptions } from "./line_filter.ts";
import { ExcludeList, hasGlobMagic } from "./path_glob.ts";

/** The journal source's settings. */
export interface JournalSettings {
  /**
   * Units to read (`journalctl --unit`); every entry when empty.
   * @default {[]}
   */
  readonly units?: readonly string[];
  /**
   * The journalctl executable.
   * @default {"journalctl"} (found through PATH)
   */
  readonly command?: string;
  /**
   * First delay before restarting journalctl after it exited, in milliseconds.
   * @default {1000}
   */
  readonly restartDelayMs?: number;
}

/** Options of {@linkcode Sources}. */
export interface SourcesOptions {
  /**
   * Poll interval of rotated files, least sweep interval of a file and
   * least rescan interval of the globs, in milliseconds.
   */
  readonly pollIntervalMs: number;
  /** Most followed files open at once while their path still names them (`--max-open-files`). */
  readonly maxOpenFiles: number;
  /** Start existing files without saved state at their end. */
  readonly startAtEnd: boolean;
  /** Patterns removing files from what glob paths match. */
  readonly exclude: readonly string[];
  /** Drop lines before sending them; absent: send every line. */
  readonly filter: LineFilterOptions | undefined;
  /** Called whenever a source may have something new to read. */
  readonly onChange: () => void;
  /** Stops glob changes from starting followers once aborted. */
  readonly signal: AbortSignal;
  /** Timers and time. */
  readonly clock: Clock;
  /** Where the sources report. */
  readonly logger: Logger;
}

/** Counters of the sources. */
export interface SourcesStats {
  /** Lines read from files (each time, resends included). */
  readonly linesRead: number;
  /** EVENT lines handed to the client (resends included). */
  readonly linesSent: number;
  /** Empty lines, not sent. */
  readonly linesSkipped: number;
  /** Lines over the limit, dropped or replaced by gap events. */
  readonly linesTooLong: number;
  /** Lines dropped by the filter. */
  readonly linesFiltered: number;
  /** Truncations detected. */
  readonly truncations: number;
  /** Rotations detected. */
  readonly rotations: number;
  /** Files followed now (literal paths and glob matches). */
  readonly followedFiles: number;
  /** Followed files open now while their path names them (within the open-files budget). */
  readonly openFiles: number;
  /** Journal entries read from journalctl. */
  readonly journalEntries: number;
}

/** Bytes a followed path is behind: in the file(s) beyond the acknowledged offsets. */
export interface FileLag {
  /** The followed path. */
  readonly path: string;
  /** Bytes not yet acknowledged. */
  readonly lagBytes: number;
}

/**
 * The agent's sources.
 *
 * @example
 * ```ts
 * const sources = new Sources({ pollIntervalMs: 1_000, startAtEnd: true, exclude: [],
 *   filter: undefined, onChange: () => wake.notify(), signal, clock, logger });
 * await sources.start(["/var/log/syslog"], await checkpoints.loadState());
 * while (await sources.readRound(client)) client.flush();
 * ```
 */
export class Sources {
  readonly #options: SourcesOptions;
  readonly #filter: LineFilter | undefined;
  readonly #counters = {
    linesRead: 0,
    linesSent: 0,
    linesSkipped: 0,
    linesTooLong: 0,
    linesFiltered: 0,
  };
  #followers: FileFollower[] = [];
  /** The followers by path. */
  readonly #byPath = new Map<string, FileFollower>();
  /** Everything the pump reads from: the followers, then the journal. */
  #sources: LineSource[] = [];
  #globs: GlobWatcher[] = [];
  /** Globs whose directories reported a change since their last scan. */
  readonly #dirtyGlobs = new Set<GlobWatcher>();
  readonly #hub: WatchHub;
  readonly #sweep: Sweep;
  readonly #openFiles: OpenFileBudget;
  readonly #readBuffers = new ReadBufferPool(DEFAULT_READ_BUFFER_BYTES);
  #exclude = new ExcludeList();
  /** Literal (not glob) paths, which stay followed whatever the globs match. */
  #literal = new Set<string>();
  #journal: JournalSource | undefined;
  #saved: LoadedState = { files: new Map(), savedAtMs: undefined, found: false };
  #roundRobin = 0;
  /** The client of the round being read. */
  #client: Client<LineOrigin> | undefined;

  /** The callbacks the sources hand lines to. */
  readonly #consumer: LineConsumer = {
    hasRoom: () => this.#client !== undefined && this.#client.hasRoom(),
    line: (origin, line, position, bytes, stream) =>
      this.#onLine(origin, line, position, bytes, stream),
    overflow: (origin, bytes, position) => this.#onOverflow(origin, bytes, position),
    endOfChunk: () => void this.#client?.flush(),
  };

  /**
   * @param options Poll interval, start position, globs' exclusions, filter and callbacks.
   */
  constructor(options: SourcesOptions) {
    this.#options = options;
    this.#hub = new WatchHub({ clock: options.clock, logger: options.logger });
    this.#sweep = new Sweep({ minIntervalMs: options.pollIntervalMs, clock: options.clock });
    this.#openFiles = new OpenFileBudget(options.maxOpenFiles);
    const filter = options.filter ? new LineFilter(options.filter) : undefined;
    this.#filter = filter?.active ? filter : undefined;
  }

  /** The followed paths and patterns, and whether the journal is read, for the start-up log line. */
  get description(): Readonly<Record<string, string | boolean>> {
    return {
      paths: this.#followers.map((f) => f.path).join(","),
      ...(this.#globs.length > 0 ? { patterns: this.#globs.map((g) => g.pattern).join(",") } : {}),
      ...(this.#journal !== undefined ? { journal: true } : {}),
    };
  }

  /** The journal's acknowledged cursor, when the journal is read and it is known. */
  get journalCursor(): string | undefined {
    return this.#journal?.ackedCursor;
  }

  /** A snapshot of the counters. */
  get stats(): SourcesStats {
    let truncations = 0;
    let rotations = 0;
    // Lines over the limit: counted by the followers, which send gap events for them.
    let linesTooLong = this.#counters.linesTooLong;
    for (const follower of this.#followers) {
      truncations += follower.stats.truncations;
      rotations += follower.stats.rotations;
      linesTooLong += follower.stats.linesTooLong;
    }
    return {
      ...this.#counters,
      linesTooLong,
      truncations,
      rotations,
      followedFiles: this.#followers.length,
      openFiles: this.#openFiles.open,
      journalEntries: this.#journal?.stats.entries ?? 0,
    };
  }

  /**
   * Opens and watches every path: a literal path at its saved position (or
   * its end on a first start), a glob's current matches likewise, and later
   * matches from their start.
   *
   * @param paths Files and glob patterns; relative ones are resolved against the working directory.
   * @param saved The positions of the state file.
   * @returns Resolves once lines appended from now on will be read.
   * @throws {TypeError} When a literal path is a directory.
   */
  async start(paths: readonly string[], saved: LoadedState): Promise<void> {
    this.#saved = saved;
    this.#exclude = new ExcludeList(this.#options.exclude);
    this.#literal = new Set(paths.filter((p) => !hasGlobMagic(p)).map((p) => resolve(p)));
    for (const path of new Set(paths.map((p) => resolve(p)))) {
      // A glob follows what it matches now and what appears later.
      if (hasGlobMagic(path)) {
        await this.#startGlob(path);
        continue;
      }
      await assertNotDirectory(path);
      // A glob before it may have matched it already.
      if (this.#byPath.has(path)) continue;
      await this.#addFollower(path, this.#options.startAtEnd);
    }
  }

  /**
   * Starts journalctl, resuming after the saved cursor.
   *
   * @param settings Units, command and restart delay.
   * @param from Host name for entries without one, the saved cursor, and
   *   whether the cursor is kept (then the journal's end is looked up first).
   * @returns Resolves once journalctl runs.
   */
  async startJournal(
    settings: JournalSettings,
    from: { hostname: string; cursor: string | undefined; keepsCursor: boolean },
  ): Promise<void> {
    const journal = new JournalSource({
      fallbackHostname: from.hostname,
      onChange: this.#options.onChange,
      clock: this.#options.clock,
      logger: this.#options.logger,
      ...(settings.units !== undefined ? { units: settings.units } : {}),
      ...(settings.command !== undefined ? { command: settings.command } : {}),
      ...(settings.restartDelayMs !== undefined ? { restartDelayMs: settings.restartDelayMs } : {}),
      ...(from.cursor !== undefined ? { cursor: from.cursor } : {}),
      // Without a state directory nothing is saved: no need to find the end first.
      probeStart: from.keepsCursor,
    });
    await journal.start();
    this.#journal = journal;
    this.#sources.push(journal);
  }

  /**
   * One round of the pump: follows glob changes, then reads each source that
   * may have something, starting with a different one each round so a busy
   * file cannot starve the others, until the client's window is full.
   *
   * @param client The session's client; lines go to it.
   * @returns Whether anything was read.
   */
  async readRound(client: Client<LineOrigin>): Promise<boolean> {
    this.#client = client;
    let readAny = false;
    if (this.#dirtyGlobs.size > 0) await this.#syncGlobs();
    const sources = this.#sources;
    const count = sources.length;
    this.#roundRobin = count === 0 ? 0 : (this.#roundRobin + 1) % count;
    for (let i = 0; i < count; i++) {
      if (!client.hasRoom()) break;
      const source = sources[(this.#roundRobin + i) % count]!;
      if (!source.wantsRead) continue;
      if (await source.read(this.#consumer) > 0) readAny = true;
      if (client.closed || this.#options.signal.aborted) break;
    }
    return readAny;
  }

  /** Rewinds every source to its first unacknowledged line (after a reconnect). */
  rewind(): void {
    for (const source of this.#sources) source.rewind();
  }

  /**
   * The positions to save.
   *
   * @returns One entry per followed path.
   */
  fileStates(): FileState[] {
    return this.#followers.map((follower) => follower.state());
  }

  /**
   * The positions that differ from those saved last, found without building
   * the others (each follower compares its state with the saved one).
   *
   * @param saved The positions saved last, by path.
   * @returns The states that changed, and the saved paths no longer followed.
   */
  changedFileStates(
    saved: ReadonlyMap<string, FileState>,
  ): { changed: FileState[]; removed: string[] } {
    const changed: FileState[] = [];
    let savedAndFollowed = 0;
    for (const follower of this.#followers) {
      const before = saved.get(follower.path);
      if (before !== undefined) savedAndFollowed++;
      if (follower.stateChangedSince(before)) changed.push(follower.state());
    }
    const removed: string[] = [];
    if (saved.size > savedAndFollowed) {
      for (const path of saved.keys()) if (!this.#byPath.has(path)) removed.push(path);
    }
    return { changed, removed };
  }

  /**
   * Bytes behind over all followed files, measured now.
   *
   * @returns The sum of every follower's lag.
   */
  async lagBytes(): Promise<number> {
    let lag = 0;
    for (const follower of this.#followers) lag += await follower.lagBytes();
    return lag;
  }

  /**
   * Bytes behind per followed path, measured now.
   *
   * @returns One entry per followed path.
   */
  fileLag(): Promise<FileLag[]> {
    return Promise.all(
      this.#followers.map(async (f) => ({ path: f.path, lagBytes: await f.lagBytes() })),
    );
  }

  /** Stops the globs and closes every source. Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.#globs.map((g) => g.close()));
    await Promise.all(this.#sources.map((s) => s.close()));
    this.#sweep.close();
    await this.#hub.close();
  }

  /** Closes everything and forgets the followers, after a start that failed. */
  async discard(): Promise<void> {
    await this.close();
    this.#followers = [];
    this.#byPath.clear();
    this.#sources = [];
  }

  /** Starts following one file (a literal path, or a glob match). */
  async #addFollower(path: string, startAtEnd: boolean): Promise<FileFollower> {
    const saved = this.#saved.files.get(path);
    const savedAtMs = this.#saved.savedAtMs;
    const follower = new FileFollower(path, {
      startAtEnd,
      maxLineBytes: MAX_EVENT_MESSAGE_BYTES,
      pollIntervalMs: this.#options.pollIntervalMs,
      onChange: this.#options.onChange,
      clock: this.#options.clock,
      logger: this.#options.logger,
      watchHub: this.#hub,
      sweep: this.#sweep,
      openFiles: this.#openFiles,
      readBuffers: this.#readBuffers,
      ...(saved !== undefined ? { resume: saved } : {}),
      ...(savedAtMs !== undefined ? { resumeSavedAtMs: savedAtMs } : {}),
    });
    this.#followers.push(follower);
    this.#byPath.set(path, follower);
    // Files before the journal, so the pump's order stays stable.
    this.#sources.splice(this.#followers.length - 1, 0, follower);
    await follower.start();
    return follower;
  }

  /** Expands a glob path now and watches for files that match later. */
  async #startGlob(pattern: string): Promise<void> {
    const glob: GlobWatcher = new GlobWatcher(pattern, {
      exclude: this.#exclude,
      rescanIntervalMs: this.#options.pollIntervalMs,
      onChange: () => {
        this.#dirtyGlobs.add(glob);
        this.#options.onChange();
      },
      hub: this.#hub,
      clock: this.#options.clock,
      logger: this.#options.logger,
    });
    this.#globs.push(glob);
    // Files there now start like literal paths: at the saved position, or at
    // their end on a first start. With a state file, a match without a saved
    // position appeared while the agent was stopped: it is read from its start.
    const startAtEnd = this.#options.startAtEnd && !this.#saved.found;
    for (const path of await glob.scan()) {
      if (!this.#byPath.has(path)) await this.#addFollower(path, startAtEnd);
    }
    glob.start();
  }

  /**
   * Follows new glob matches from their first byte, and stops following
   * matches that are gone once their follower holds nothing (rotated files
   * read, acknowledged and closed).
   */
  async #syncGlobs(): Promise<void> {
    const dirty = [...this.#dirtyGlobs];
    this.#dirtyGlobs.clear();
    for (const glob of dirty) await glob.scan();
    if (this.#options.signal.aborted) return;
    const matched = new Set<string>();
    for (const glob of this.#globs) for (const path of glob.matches) matched.add(path);
    const log = this.#options.logger;
    for (const path of matched) {
      if (this.#byPath.has(path)) continue;
      log.info("following a new file matching a pattern", { path });
      await this.#addFollower(path, false);
    }
    const gone = this.#followers.filter((follower) =>
      !this.#literal.has(follower.path) && !matched.has(follower.path) &&
      follower.current === undefined && follower.incarnations.length === 0
    );
    if (gone.length === 0) return;
    const goneSet = new Set(gone);
    this.#followers = this.#followers.filter((f) => !goneSet.has(f));
    this.#sources = this.#sources.filter((s) => !goneSet.has(s as FileFollower));
    for (const follower of gone) {
      this.#byPath.delete(follower.path);
      await follower.close();
      log.info("stopped following a file no pattern matches", { path: follower.path });
    }
  }

  #onLine(
    origin: LineOrigin,
    line: Uint8Array,
    position: number,
    bytes: number,
    stream?: Uint8Array,
  ): void {
    this.#counters.linesRead++;
    if (line.length === 0) {
      origin.skip(position);
      this.#counters.linesSkipped++;
      return;
    }
    // Gap events (`stream` set) are never filtered.
    if (this.#filter !== undefined && stream === undefined && !this.#filter.accepts(line)) {
      origin.skip(position);
      this.#counters.linesFiltered++;
      return;
    }
    // The server refuses lines with NUL; keep the rest of the line.
    if (line.indexOf(0) >= 0) {
      line = replaceNul(line);
      if (line.length > MAX_EVENT_MESSAGE_BYTES) {
        this.#onOverflow(origin, bytes, position);
        return;
      }
    }
    const client = this.#client;
    if (client === undefined) return;
    // The line's bytes go to the socket as read: no decoding on the hot path.
    // Invalid UTF-8 is the server's to replace (it decodes with U+FFFD).
    // Gap events go on the incarnation's gap stream (protocol/gap_event.ts).
    client.queueEvent(origin, stream ?? origin.streamBytes, position, line, bytes);
    origin.inFlight++;
    this.#counters.linesSent++;
  }

  #onOverflow(origin: LineOrigin, bytes: number, position: number): void {
    this.#counters.linesTooLong++;
    origin.skip(position);
    if (this.#counters.linesTooLong <= MAX_REPEATED_WARNINGS) {
      this.#options.logger.warn("line too long, dropped", {
        path: origin.path,
        endOffset: position,
        bytes,
        maxBytes: MAX_EVENT_MESSAGE_BYTES,
      });
    }
  }
}

/** U+FFFD REPLACEMENT CHARACTER in UTF-8. */
const REPLACEMENT = [0xef, 0xbf, 0xbd];

/** Copies a line with every NUL byte replaced by U+FFFD (rare, so it may allocate). */
function replaceNul(line: Uint8Array): Uint8Array {
  let nuls = 0;
  for (const byte of line) if (byte === 0) nuls++;
  const out = new Uint8Array(line.length + nuls * 2);
  let at = 0;
  for (const byte of line) {
    if (byte === 0) {
      out.set(REPLACEMENT, at);
      at += 3;
    } else {
      out[at++] = byte;
    }
  }
  return out;
}

async function assertNotDirectory(path: string): Promise<void> {
  try {
    if ((await Deno.stat(path)).isDirectory) {
      throw new TypeError(`Cannot follow ${path}: it is a directory, not a file`);
    }
  } catch (error) {
    if (error instanceof TypeError) throw error;
    // Missing or unreadable: the follower waits for it and reports problems.
  }
}
