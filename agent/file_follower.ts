/**
 * Follows one log file path the way `tail -F` does, but by byte offsets: new
 * bytes are read from where the last read ended (never re-reading the file),
 * split into lines, and handed to a consumer only while it has room, so the
 * file itself is the buffer however far behind the agent is.
 *
 * Change detection is `Deno.watchFs` on the file's parent directory (a watch
 * on the file itself follows the inode and misses a recreated file, see
 * docs/PLATFORM-NOTES), plus a slow poll for missed events, rotated files and
 * directories that do not exist yet.
 *
 * - Truncation (`size < offset`, or changed first bytes on the same inode)
 *   starts a new incarnation (new stream id) at offset 0. The first bytes
 *   are compared before every read while the file is shorter than 256 bytes,
 *   and on every poll after that: a big file truncated and rewritten past the
 *   old offset between two polls may yield fragments first (an inherent race
 *   of `copytruncate`).
 * - Rotation (the path names another inode, or no file) keeps reading the old
 *   file through its open handle to its end, then retires it once it has been
 *   idle (counted from the rotation) and fully acknowledged; the new file is
 *   read from offset 0. A file created and renamed away again before the
 *   follower opened it (two rotations within milliseconds) cannot be found
 *   under its new name and is missed.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";
import { type Clock, SYSTEM_CLOCK, type TimerId } from "./clock.ts";
import {
  FINGERPRINT_BYTES,
  fingerprintMatches,
  fingerprintOf,
  headMatches,
  readFileIdentity,
  sameFile,
} from "./file_identity.ts";
import { Incarnation } from "./incarnation.ts";
import type { ByteLineSink } from "../protocol/mod.ts";
import { type Logger, SILENT_LOGGER } from "./log.ts";
import type { FileState } from "./state_file.ts";
import { newStreamId } from "./stream_id.ts";
import { MAX_EVENT_MESSAGE_BYTES } from "./limits.ts";

/** Bytes read from a file at once; also the most a read can overshoot the consumer's room by. */
export const DEFAULT_READ_BUFFER_BYTES = 256 * 1024;
/** Interval of the fallback poll, in milliseconds: the longest a missed watch event delays lines. */
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** How long a rotated file must stay unchanged before it is closed, in milliseconds. */
export const DEFAULT_ROTATED_IDLE_MS = 5_000;
/** How far back from the end a first start looks for the start of the last line, in bytes. */
export const LINE_START_SEARCH_BYTES = 64 * 1024;

/** Receives the lines a {@linkcode FileFollower} reads. */
export interface LineConsumer {
  /** Whether more lines may be handed out now; reading pauses while false. */
  hasRoom(): boolean;
  /**
   * A complete line, as bytes: forwarding them needs no decoding.
   *
   * @param incarnation The file incarnation it came from.
   * @param line The line without its `\n` (or `\r\n`); a view valid only
   *   during the call (the read buffer is reused): copy what you keep.
   * @param endOffset Offset just after the line's newline.
   * @param bytes Bytes the line took in the file, terminator included.
   */
  line(incarnation: Incarnation, line: Uint8Array, endOffset: number, bytes: number): void;
  /**
   * A line longer than the limit; its bytes were dropped.
   *
   * @param incarnation The file incarnation it came from.
   * @param bytes The line's length in bytes.
   * @param endOffset Offset just after the line's newline.
   */
  overflow(incarnation: Incarnation, bytes: number, endOffset: number): void;
  /** Called after each chunk read, e.g. to start sending what was handed out. */
  endOfChunk?(): void;
}

/** Options of {@linkcode FileFollower}. */
export interface FileFollowerOptions {
  /**
   * Where to start in a file that exists when {@linkcode FileFollower.start}
   * runs and has no saved state: at its end (the paper's `f.seek(0, 2)`) or
   * at its beginning. Files that appear later are always read from the start.
   * @default {true}
   */
  startAtEnd?: boolean;
  /** Saved position to resume from, when it still matches the file. */
  resume?: FileState;
  /**
   * Longest line in bytes; longer lines are reported as overflows.
   * @default {MAX_EVENT_MESSAGE_BYTES}
   */
  maxLineBytes?: number;
  /**
   * Size of the reused read buffer, in bytes.
   * @default {DEFAULT_READ_BUFFER_BYTES} (256 KiB)
   */
  readBufferBytes?: number;
  /**
   * Interval of the fallback poll, in milliseconds.
   * @default {DEFAULT_POLL_INTERVAL_MS} (1 s)
   */
  pollIntervalMs?: number;
  /**
   * Idle time after which a fully read and acknowledged rotated file is closed, in milliseconds.
   * @default {DEFAULT_ROTATED_IDLE_MS} (5 s)
   */
  rotatedIdleMs?: number;
  /** Called whenever new data may be readable; the owner then calls `read()`. */
  onChange?: () => void;
  /**
   * Timers and time.
   * @default {SYSTEM_CLOCK}
   */
  clock?: Clock;
  /**
   * Where warnings about the file go.
   * @default {SILENT_LOGGER}
   */
  logger?: Logger;
}

/** Counters of one follower. */
export interface FollowerStats {
  /** Times the file was found truncated. */
  truncations: number;
  /** Times the path was found to name a different file, or none. */
  rotations: number;
}

interface ReadResult {
  bytes: number;
  /** Read to the end of the file (as opposed to stopped for lack of room). */
  drained: boolean;
  /** The incarnation was replaced or dropped; look at the same index again. */
  replaced: boolean;
}

/**
 * Follows one path.
 *
 * @example
 * ```ts
 * const follower = new FileFollower("/var/log/syslog", { onChange: () => wake() });
 * await follower.start();
 * await follower.read({
 *   hasRoom: () => true,
 *   line: (inc, text, end) => console.log(inc.stream, end, text),
 *   overflow: () => {},
 * });
 * await follower.close();
 * ```
 */
export class FileFollower {
  /** The followed path, made absolute. */
  readonly path: string;
  /** Counters. */
  readonly stats: FollowerStats = { truncations: 0, rotations: 0 };
  readonly #dir: string;
  readonly #name: string;
  readonly #options: FileFollowerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #maxLineBytes: number;
  readonly #pollIntervalMs: number;
  readonly #rotatedIdleMs: number;
  readonly #buffer: Uint8Array;
  /** Oldest first; the last one is the current file unless it is rotated. */
  #incarnations: Incarnation[] = [];
  #current: Incarnation | undefined;
  #watcher: Deno.FsWatcher | undefined;
  #watchLoop: Promise<void> | undefined;
  #pollTimer: TimerId | undefined;
  #dirty = true;
  #checkPath = true;
  #checkFingerprint = false;
  #closed = false;
  #started = false;
  #lock: Promise<unknown> = Promise.resolve();
  #consumer: LineConsumer | undefined;
  #lastProblem = "";
  /** Number of the current read pass, to know which incarnations it read to their end. */
  #pass = 0;

  /**
   * @param path The file to follow; it need not exist yet.
   * @param options Start position, limits and callbacks.
   */
  constructor(path: string, options: FileFollowerOptions = {}) {
    this.path = resolve(path);
    this.#dir = dirname(this.path);
    this.#name = basename(this.path);
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#maxLineBytes = options.maxLineBytes ?? MAX_EVENT_MESSAGE_BYTES;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#rotatedIdleMs = options.rotatedIdleMs ?? DEFAULT_ROTATED_IDLE_MS;
    this.#buffer = new Uint8Array(options.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES);
  }

  /** Incarnations still open, oldest first. */
  get incarnations(): readonly Incarnation[] {
    return this.#incarnations;
  }

  /** The incarnation the path currently names, if any. */
  get current(): Incarnation | undefined {
    return this.#current;
  }

  /** Whether a `read()` may find something: an event arrived or the last read stopped early. */
  get wantsRead(): boolean {
    return this.#dirty && !this.#closed;
  }

  /**
   * Starts watching and opens the file if it exists, positioned at its saved
   * offset, its end, or its start (see {@linkcode FileFollowerOptions}).
   *
   * @returns Resolves once lines appended from now on will be seen.
   */
  start(): Promise<void> {
    if (this.#started) {
      return Promise.reject(new TypeError(`Cannot start the follower of ${this.path} twice`));
    }
    this.#started = true;
    // Under the same lock as reads: a change event during start-up must not
    // open the file a second time.
    const run = this.#lock.then(() => this.#start());
    this.#lock = run.catch(() => {});
    return run;
  }

  async #start(): Promise<void> {
    // Watch before looking at the file, so a file created in between is not missed.
    this.#startWatching();
    this.#schedulePoll();
    const info = await this.#statPath();
    if (info === undefined) return;
    await this.#openAt(info, "start");
    this.#checkPath = false;
    this.#dirty = true;
  }

  /**
   * Reads what is new, oldest incarnation first, handing complete lines to the
   * consumer while it has room. Calls never overlap (they are queued). Never
   * rejects: file system errors are logged and retried on the next poll.
   *
   * @param consumer Receives the lines.
   * @returns The number of bytes read.
   */
  read(consumer: LineConsumer): Promise<number> {
    const run = this.#lock.then(() => this.#read(consumer)).catch((error) => {
      // A file system error (EIO, a vanished mount) must not stop the agent:
      // report it, forget the file positions, and look again on the next poll.
      this.#problem(`Cannot read ${this.path}: ${(error as Error).message}`);
      for (const inc of this.#incarnations) inc.filePosition = -1;
      this.#checkPath = true;
      return 0;
    });
    this.#lock = run.catch(() => {});
    return run;
  }

  /**
   * Rewinds every incarnation to its acknowledged offset, so the next reads
   * resend everything not yet acknowledged (after a reconnect).
   */
  rewind(): void {
    for (const inc of this.#incarnations) inc.rewind();
    this.#dirty = true;
  }

  /**
   * The position to save for this path: the current incarnation's stream,
   * identity and acknowledged offset.
   *
   * @returns The state, or undefined when no file is open for the path.
   */
  state(): FileState | undefined {
    const inc = this.#current;
    if (inc === undefined) return undefined;
    return {
      path: this.path,
      stream: inc.stream,
      dev: inc.identity.dev,
      ino: inc.identity.ino,
      fingerprint: inc.identity.fingerprint,
      fingerprintBytes: inc.identity.fingerprintBytes,
      offset: inc.ackedOffset,
    };
  }

  /**
   * Bytes in the followed file(s) beyond the acknowledged offsets.
   *
   * @returns The lag in bytes (never negative).
   */
  async lagBytes(): Promise<number> {
    let lag = 0;
    for (const inc of this.#incarnations) {
      let size = Math.max(inc.knownSize, inc.readOffset);
      if (inc === this.#current) {
        // Stat by path: the handle may be busy with a read right now.
        const info = await this.#statPath(true);
        if (info !== undefined && sameFile(info, inc.identity)) size = Math.max(size, info.size);
      }
      lag += Math.max(0, size - inc.ackedOffset);
    }
    return lag;
  }

  /** Stops watching and polling, and closes every open file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pollTimer !== undefined) this.#clock.clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#stopWatching();
    await this.#watchLoop;
    await this.#lock;
    for (const inc of this.#incarnations) closeQuietly(inc.file);
    this.#incarnations = [];
    this.#current = undefined;
  }

  /** Same as {@linkcode FileFollower.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #read(consumer: LineConsumer): Promise<number> {
    if (this.#closed || !this.#started) return 0;
    this.#dirty = false;
    this.#pass++;
    if (this.#checkPath) {
      this.#checkPath = false;
      await this.#checkIdentity();
      if (this.#closed) return 0;
    }
    let total = 0;
    for (let i = 0; i < this.#incarnations.length; i++) {
      let inc = this.#incarnations[i]!;
      if (inc === this.#current && inc.head.length > 0 && inc.head.length < FINGERPRINT_BYTES) {
        // A young file: compare its first bytes before every read, so a small
        // file rewritten in place is caught before any fragment of it is sent.
        // Costs a seek and a short read per pass, only until 256 bytes.
        await this.#verifyHead(inc);
        if (this.#closed) return total;
        inc = this.#incarnations[i]!;
      }
      const result = await this.#readIncarnation(inc, consumer);
      await inc.refreshFingerprint();
      if (this.#closed) return total;
      total += result.bytes;
      if (result.replaced) {
        i--;
        continue;
      }
      // Keep lines of an old incarnation ahead of the newer one's.
      if (!result.drained) {
        this.#dirty = true;
        break;
      }
    }
    await this.#retireRotated(consumer);
    return total;
  }

  async #readIncarnation(inc: Incarnation, consumer: LineConsumer): Promise<ReadResult> {
    let bytes = 0;
    this.#consumer = consumer;
    const sink = inc.sink ??= this.#sinkFor(inc);
    for (;;) {
      if (!consumer.hasRoom()) return { bytes, drained: false, replaced: false };
      inc.drainedPass = -1;
      if (inc.filePosition !== inc.readOffset) {
        await inc.file.seek(inc.readOffset, Deno.SeekMode.Start);
        inc.filePosition = inc.readOffset;
      }
      let n: number | null;
      try {
        n = await inc.file.read(this.#buffer);
      } catch (error) {
        this.#problem(`Cannot read ${this.path}: ${(error as Error).message}`);
        return { bytes, drained: true, replaced: false };
      }
      if (n === null || n === 0) {
        if (bytes === 0) {
          const size = (await inc.file.stat()).size;
          if (size < inc.readOffset) {
            await this.#truncated(inc, size);
            return { bytes, drained: true, replaced: true };
          }
        }
        inc.drainedPass = this.#pass;
        return { bytes, drained: true, replaced: false };
      }
      if (inc.head.length < FINGERPRINT_BYTES) {
        inc.extendHead(this.#buffer.subarray(0, n), inc.readOffset);
      }
      inc.filePosition += n;
      inc.readOffset += n;
      if (inc.readOffset > inc.knownSize) inc.knownSize = inc.readOffset;
      inc.lastGrowthAt = this.#clock.now();
      bytes += n;
      inc.splitter.pushBytes(this.#buffer.subarray(0, n), sink);
      consumer.endOfChunk?.();
      // A short read means the end of the file for now: skip the extra read
      // that would return nothing (one syscall less per appended line).
      if (n < this.#buffer.length) {
        inc.drainedPass = this.#pass;
        return { bytes, drained: true, replaced: false };
      }
    }
  }

  #sinkFor(inc: Incarnation): ByteLineSink {
    return {
      line: (line, endOffset) => {
        const bytes = endOffset - inc.lastLineEnd;
        inc.lastLineEnd = endOffset;
        this.#consumer!.line(inc, line, endOffset, bytes);
      },
      overflow: (bytes, endOffset) => {
        inc.lastLineEnd = endOffset;
        this.#consumer!.overflow(inc, bytes, endOffset);
      },
    };
  }

  /** The file at `inc` shrank below what was read: its content was replaced. */
  async #truncated(inc: Incarnation, size: number): Promise<void> {
    const index = this.#incarnations.indexOf(inc);
    if (index < 0) return;
    this.stats.truncations++;
    this.#dirty = true;
    if (inc.rotated) {
      // A rotated file that shrinks has nothing more to give.
      this.#incarnations.splice(index, 1);
      closeQuietly(inc.file);
      return;
    }
    this.#log.warn("file truncated, reading it from the start", {
      path: this.path,
      size,
      offset: inc.readOffset,
      unacknowledgedBytes: Math.max(0, inc.readOffset - inc.ackedOffset),
    });
    const empty = new Uint8Array();
    const fresh = new Incarnation({
      path: this.path,
      stream: newStreamId(),
      file: inc.file,
      // The first bytes are learnt again while reading from offset 0.
      identity: { ...inc.identity, fingerprint: await fingerprintOf(empty), fingerprintBytes: 0 },
      head: empty,
      offset: 0,
      maxLineBytes: this.#maxLineBytes,
      now: this.#clock.now(),
    });
    // The old incarnation shares the handle; it is dropped, not closed.
    this.#incarnations[index] = fresh;
    if (this.#current === inc) this.#current = fresh;
  }

  /** Compares the file the path names with the current incarnation. */
  async #checkIdentity(): Promise<void> {
    const info = await this.#statPath();
    const cur = this.#current;
    if (info === undefined) {
      if (cur !== undefined) this.#detach(cur, "file removed or renamed");
      return;
    }
    if (cur !== undefined && sameFile(info, cur.identity)) {
      if (this.#checkFingerprint) await this.#verifyHead(cur);
      return;
    }
    // The path came back to a file we still hold open (renamed back).
    const previous = this.#incarnations.find((inc) => sameFile(info, inc.identity));
    if (previous !== undefined && cur === undefined) {
      previous.rotated = false;
      this.#current = previous;
      return;
    }
    if (cur !== undefined) this.#detach(cur, "file replaced (rotated)");
    await this.#openAt(info, "appeared");
  }

  async #verifyHead(inc: Incarnation): Promise<void> {
    this.#checkFingerprint = false;
    inc.filePosition = -1;
    if (await headMatches(inc.file, inc.head)) return;
    const size = (await inc.file.stat()).size;
    this.#log.warn("file content replaced in place", { path: this.path });
    await this.#truncated(inc, size);
  }

  #detach(inc: Incarnation, why: string): void {
    inc.rotated = true;
    // The idle time before closing counts from now: a writer may still append
    // to the renamed file until it reopens (rsyslog after its HUP), even if
    // the file had been quiet for long before the rotation.
    inc.lastGrowthAt = this.#clock.now();
    this.stats.rotations++;
    if (this.#current === inc) this.#current = undefined;
    this.#log.info(`${why}, reading the old file to its end`, { path: this.path });
  }

  /**
   * Opens the file the path names and makes it the current incarnation.
   *
   * @param info The path's stat result.
   * @param why `start` at start-up (resume or start at the end), `appeared` later (from 0).
   */
  async #openAt(info: Deno.FileInfo, why: "start" | "appeared"): Promise<void> {
    if (!info.isFile) {
      this.#problem(`Cannot follow ${this.path}: not a regular file`);
      return;
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.path, { read: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#problem(`Cannot open ${this.path}: ${(error as Error).message}`);
      }
      return;
    }
    let offset = 0;
    let stream = newStreamId();
    let identity: Awaited<ReturnType<typeof readFileIdentity>>;
    try {
      const opened = await file.stat();
      identity = await readFileIdentity(file, opened);
      if (why === "start") {
        const resumed = await this.#resumeOffset(opened, identity.head);
        if (resumed !== undefined) {
          offset = resumed.offset;
          stream = resumed.stream;
        } else if (this.#options.resume === undefined && (this.#options.startAtEnd ?? true)) {
          offset = await lineStartBefore(file, opened.size);
        }
      }
    } catch (error) {
      closeQuietly(file);
      this.#problem(`Cannot read ${this.path}: ${(error as Error).message}`);
      return;
    }
    this.#lastProblem = "";
    const inc = new Incarnation({
      path: this.path,
      stream,
      file,
      identity,
      head: identity.head,
      offset,
      maxLineBytes: this.#maxLineBytes,
      now: this.#clock.now(),
    });
    this.#incarnations.push(inc);
    this.#current = inc;
    this.#log.debug("following file", { path: this.path, stream, offset });
  }

  /** The saved position, if it still describes this file; else undefined. */
  async #resumeOffset(
    info: Deno.FileInfo,
    head: Uint8Array,
  ): Promise<{ offset: number; stream: string } | undefined> {
    const saved = this.#options.resume;
    if (saved === undefined) return undefined;
    if (!sameFile(info, saved) || info.size < saved.offset) {
      this.#log.info("file changed while the agent was stopped, reading it from the start", {
        path: this.path,
      });
      return undefined;
    }
    if (!await fingerprintMatches(head, saved)) {
      this.#log.info(
        "file content replaced while the agent was stopped, reading it from the start",
        {
          path: this.path,
        },
      );
      return undefined;
    }
    return { offset: saved.offset, stream: saved.stream };
  }

  /** Closes rotated incarnations that are read, idle and acknowledged to their end. */
  async #retireRotated(consumer: LineConsumer): Promise<void> {
    const now = this.#clock.now();
    for (let i = 0; i < this.#incarnations.length; i++) {
      const inc = this.#incarnations[i]!;
      if (!inc.rotated || now - inc.lastGrowthAt < this.#rotatedIdleMs) continue;
      // Only when this very pass read it to its end: there may be more otherwise.
      if (inc.drainedPass !== this.#pass) continue;
      if (inc.readOffset > inc.splitter.offset) {
        // The writer is gone and never finished its last line: send it as is.
        if (consumer.hasRoom()) await this.#flushPartial(inc, consumer);
        continue;
      }
      if (!inc.fullyAcknowledged) continue;
      this.#incarnations.splice(i--, 1);
      closeQuietly(inc.file);
      this.#log.debug("closed rotated file", { path: this.path, stream: inc.stream });
    }
  }

  async #flushPartial(inc: Incarnation, consumer: LineConsumer): Promise<void> {
    const start = inc.splitter.offset;
    const length = inc.readOffset - start;
    if (length > this.#maxLineBytes) {
      consumer.overflow(inc, length, inc.readOffset);
    } else {
      const bytes = new Uint8Array(length);
      await inc.file.seek(start, Deno.SeekMode.Start);
      let filled = 0;
      while (filled < length) {
        const n = await inc.file.read(bytes.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      inc.filePosition = start + filled;
      const end = filled > 0 && bytes[filled - 1] === 13 ? filled - 1 : filled;
      consumer.line(inc, bytes.subarray(0, end), inc.readOffset, length);
    }
    inc.restartSplitter();
  }

  async #statPath(quiet = false): Promise<Deno.FileInfo | undefined> {
    try {
      return await Deno.stat(this.path);
    } catch (error) {
      if (!quiet && !(error instanceof Deno.errors.NotFound)) {
        this.#problem(`Cannot stat ${this.path}: ${(error as Error).message}`);
      }
      return undefined;
    }
  }

  /** Logs a problem once until it changes, so a 1 s poll does not flood the log. */
  #problem(message: string): void {
    if (message === this.#lastProblem) return;
    this.#lastProblem = message;
    this.#log.warn(message);
  }

  #startWatching(): void {
    if (this.#closed || this.#watcher !== undefined) return;
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(this.#dir, { recursive: false });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#problem(`Cannot watch ${this.#dir}: ${(error as Error).message}`);
      }
      return; // The poll retries, and covers for the watcher meanwhile.
    }
    this.#watcher = watcher;
    this.#watchLoop = this.#runWatcher(watcher);
  }

  #stopWatching(): void {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    if (watcher === undefined) return;
    try {
      watcher.close();
    } catch {
      // Already closed.
    }
  }

  async #runWatcher(watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        if (event.flag === "rescan") {
          this.#checkPath = true;
          this.#changed();
          continue;
        }
        if (!event.paths.some((path) => basename(path) === this.#name)) continue;
        // Writers that close after each write add an `access` event: nothing new.
        if (event.kind === "access") continue;
        if (event.kind !== "modify") this.#checkPath = true;
        this.#changed();
      }
    } catch (error) {
      if (!this.#closed) this.#problem(`Watching ${this.#dir} failed: ${(error as Error).message}`);
    } finally {
      if (this.#watcher === watcher) this.#stopWatching();
    }
  }

  #changed(): void {
    this.#dirty = true;
    this.#options.onChange?.();
  }

  #schedulePoll(): void {
    if (this.#closed) return;
    this.#pollTimer = this.#clock.setTimeout(() => {
      this.#pollTimer = undefined;
      if (this.#closed) return;
      if (this.#watcher === undefined) this.#startWatching();
      this.#checkPath = true;
      this.#checkFingerprint = true;
      this.#changed();
      this.#schedulePoll();
    }, this.#pollIntervalMs);
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
 * Finds where the last line of a file starts, so a first start at the end
 * does not send the tail of a line whose beginning was skipped. Moves the
 * file position.
 *
 * @param file An open file.
 * @param size Its size in bytes.
 * @returns The offset just after the last newline within the last
 *   {@linkcode LINE_START_SEARCH_BYTES}; `size` when the file ends with a
 *   newline or no newline is that close to the end; 0 for a short file without any.
 * @example
 * ```ts
 * using file = await Deno.open("/var/log/syslog");
 * const offset = await lineStartBefore(file, (await file.stat()).size);
 * ```
 */
export async function lineStartBefore(file: Deno.FsFile, size: number): Promise<number> {
  if (size === 0) return 0;
  const length = Math.min(size, LINE_START_SEARCH_BYTES);
  const start = size - length;
  const tail = new Uint8Array(length);
  await file.seek(start, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(tail.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  const newline = tail.subarray(0, filled).lastIndexOf(10);
  if (newline >= 0) return start + newline + 1;
  return start === 0 ? 0 : size;
}
