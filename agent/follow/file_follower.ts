/**
 * Follows one log file path the way `tail -F` does, but by byte offsets: new
 * bytes are read from where the last read ended (never re-reading the file),
 * split into lines, and handed to a consumer only while it has room, so the
 * file itself is the buffer however far behind the agent is.
 *
 * Change detection is `Deno.watchFs` on the file's parent directory (a watch
 * on the file itself follows the inode: after a rename it reports the old
 * file's writes and never the new file), shared by every follower through
 * the agent's {@linkcode WatchHub}; behind it, the agent's slow
 * {@linkcode Sweep} stats the path now and then (never opening the file), in
 * case an event was missed; and while rotated files are held, a poll every
 * `pollIntervalMs` reads them to their end. An idle file costs no syscall
 * but its share of the sweep.
 *
 * The read buffer is borrowed from a pool for each read pass. With an
 * {@linkcode OpenFileBudget}, the current file may be closed while idle; it
 * is opened again by its path before the next read, and when the path no
 * longer names it (device and inode), it was rotated while closed: it is
 * looked for among its siblings as after a restart (find_rotated.ts), and
 * read on from there, or becomes a gap event when it is nowhere.
 *
 * - Truncation (the size below one seen before, or changed first bytes on
 *   the same inode) starts a new incarnation (new stream id) at offset 0.
 *   The first bytes are compared before every read pass, so new content
 *   written past the old offset is never read as the old file's rest (unless
 *   its first 256 bytes equal the old ones).
 *   Before the old incarnation is given up, its siblings are searched for a
 *   copy of it (`copytruncate`), plain or gzip-compressed (find_copy.ts): the
 *   rest is read from the copy, on the same stream. What the copy lacks of
 *   what was seen, and a line it ends inside of, become a gap event
 *   (rotated_copy.ts). Without a copy, what was not read becomes a gap event.
 * - Rotation (the path names another inode, or no file) keeps reading the old
 *   file through its open handle to its end, then retires it once it has been
 *   idle (counted from the rotation) and fully acknowledged; the new file is
 *   read from offset 0. The path is checked on every watch event and poll,
 *   also while nothing is being read (server down), so a rotated file is
 *   opened before it can be rotated away again. A file created and renamed
 *   away again within the same few milliseconds is still missed.
 * - Every incarnation not yet read and acknowledged to its end is in
 *   {@linkcode FileFollower.state}. On a restart each is looked for by
 *   device and inode, then by fingerprint, at the path and among its
 *   siblings (`syslog.1`, `syslog.1.gz`: see find_rotated.ts), and read on
 *   from its acknowledged offset before the newer ones. One that is nowhere
 *   becomes a gap event (docs/DELIVERY.md). Rotated siblings that no saved
 *   incarnation claims and that were modified after the state was saved
 *   (created and rotated away while the agent was stopped) are read from
 *   their start, after the saved ones and before the current file.
 * - A line longer than the limit is replaced by a gap event at its position.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { resolve } from "../_posix_path.ts";
import { type Clock, SYSTEM_CLOCK } from "../clock.ts";
import {
  FINGERPRINT_BYTES,
  fingerprintOf,
  headMatches,
  readFileHead,
  readFileIdentity,
  sameFile,
} from "./file_identity.ts";
import { type Incarnation, IncarnationFactory } from "./incarnation.ts";
import { type ByteLineSink, formatGapEvent } from "../../protocol/mod.ts";
import { type Logger, SILENT_LOGGER } from "../log.ts";
import type { FileState, IncarnationState } from "../checkpoint/mod.ts";
import { fileKey, findIncarnation } from "./find_rotated.ts";
import { findRotatedCopy } from "./find_copy.ts";
import { type ReadableFile, readAt } from "./readable_file.ts";
import { RotatedCopy } from "./rotated_copy.ts";
import { PathWatch } from "./_path_watch.ts";
import { restoreIncarnations } from "./_restore.ts";
import { newStreamId } from "./stream_id.ts";
import { MAX_EVENT_MESSAGE_BYTES } from "../limits.ts";
import { Sweep, WatchHub } from "../watch/mod.ts";
import type { BudgetHolder, OpenFileBudget } from "./open_file_budget.ts";
import { ReadBufferPool } from "./read_buffers.ts";

/**
 * Bytes read from a file at once; also the most a read can overshoot the
 * consumer's room by. The buffers are shared (read_buffers.ts): one exists
 * per read in progress, not per file.
 */
export const DEFAULT_READ_BUFFER_BYTES = 256 * 1024;
/**
 * Interval of the poll of rotated files, and the least time between two
 * sweeps of one path, in milliseconds (the sweep takes longer with more files
 * than {@linkcode SWEEP_CHECKS_PER_SECOND} per interval).
 */
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** How long a rotated file must stay unchanged before it is closed, in milliseconds. */
export const DEFAULT_ROTATED_IDLE_MS = 5_000;
/** How far back from the end a first start looks for the start of the last line, in bytes. */
export const LINE_START_SEARCH_BYTES = 64 * 1024;
export {
  GAP_REASON_BORN_UNREADABLE,
  GAP_REASON_GONE,
  GAP_REASON_ROTATED_GONE,
} from "./_restore.ts";
/** Gap reason of a file truncated before it was read to its end, with no copy found. */
export const GAP_REASON_TRUNCATED = "truncated before it was read to its end";
/**
 * Gap reason of a file rotated and removed while it was closed for the
 * open-files budget, before it was read to its end.
 */
export const GAP_REASON_ROTATED_WHILE_CLOSED =
  "rotated and removed while closed for the open-files budget, before it was read to its end";

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
   * @param stream The stream to send it on, when not the incarnation's own:
   *   gap events go on `<stream>.gap` (protocol/gap_event.ts).
   */
  line(
    incarnation: Incarnation,
    line: Uint8Array,
    endOffset: number,
    bytes: number,
    stream?: Uint8Array,
  ): void;
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
   * When the state holding `resume` was saved, in ms since the epoch. With
   * `resume`, rotated siblings modified after it and claimed by no saved
   * incarnation (born and rotated away while the agent was stopped) are read
   * from their start. Without it, no such search is done.
   */
  resumeSavedAtMs?: number;
  /**
   * Longest line in bytes; a longer line is replaced by a gap event.
   * @default {MAX_EVENT_MESSAGE_BYTES}
   */
  maxLineBytes?: number;
  /**
   * Size of the read buffer, in bytes (ignored with `readBuffers`).
   * @default {DEFAULT_READ_BUFFER_BYTES} (256 KiB)
   */
  readBufferBytes?: number;
  /**
   * Read buffers shared with other followers.
   * @default {a pool of its own}
   */
  readBuffers?: ReadBufferPool;
  /**
   * Interval of the poll of rotated files and least interval of the sweep, in milliseconds.
   * @default {DEFAULT_POLL_INTERVAL_MS} (1 s)
   */
  pollIntervalMs?: number;
  /**
   * The directory watcher shared with other followers.
   * @default {a watcher of its own, closed with the follower}
   */
  watchHub?: WatchHub;
  /**
   * The backstop sweep shared with other followers.
   * @default {a sweep of its own, closed with the follower}
   */
  sweep?: Sweep;
  /**
   * The open-files budget shared with other followers.
   * @default {none: the current file stays open}
   */
  openFiles?: OpenFileBudget;
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
  /** Gap events handed out (lost content, lines over the limit), resends included. */
  gaps: number;
  /** Lines over the limit, replaced by gap events. */
  linesTooLong: number;
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
 * });
 * await follower.close();
 * ```
 */
export class FileFollower {
  /** The followed path, made absolute. */
  readonly path: string;
  /** Counters. */
  readonly stats: FollowerStats = { truncations: 0, rotations: 0, gaps: 0, linesTooLong: 0 };
  readonly #options: FileFollowerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #maxLineBytes: number;
  readonly #rotatedIdleMs: number;
  readonly #buffers: ReadBufferPool;
  /** The read buffer, borrowed for one read pass. */
  #buffer: Uint8Array = EMPTY;
  readonly #factory: IncarnationFactory;
  /** The hub and sweep this follower made itself (none given), closed with it. */
  readonly #own: { hub?: WatchHub; sweep?: Sweep } = {};
  readonly #openFiles: OpenFileBudget | undefined;
  /** How the budget sees this follower: it closes the current file while idle. */
  readonly #holder: BudgetHolder = { release: () => this.#park() };
  /** Whether the current file counts in the open-files budget now. */
  #inBudget = false;
  /** Operations under the lock in progress: the file must not be closed meanwhile. */
  #busy = 0;
  /** A sweep's stat is in progress. */
  #sweeping = false;
  /** Modification time the last sweep saw, in ms since the epoch. */
  #sweptMtimeMs: number | undefined;
  /** Oldest first; the last one is the current file unless it is rotated. */
  #incarnations: Incarnation[] = [];
  #current: Incarnation | undefined;
  readonly #watch: PathWatch;
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
  /** A path check is queued under the lock (see {@linkcode FileFollower.#refreshSoon}). */
  #refreshQueued = false;

  /**
   * @param path The file to follow; it need not exist yet.
   * @param options Start position, limits and callbacks.
   */
  constructor(path: string, options: FileFollowerOptions = {}) {
    this.path = resolve(path);
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#maxLineBytes = options.maxLineBytes ?? MAX_EVENT_MESSAGE_BYTES;
    this.#rotatedIdleMs = options.rotatedIdleMs ?? DEFAULT_ROTATED_IDLE_MS;
    this.#buffers = options.readBuffers ??
      new ReadBufferPool(options.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES);
    this.#openFiles = options.openFiles;
    this.#factory = new IncarnationFactory(this.path, {
      maxLineBytes: this.#maxLineBytes,
      clock: this.#clock,
    });
    const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    const hub = options.watchHub ??
      (this.#own.hub = new WatchHub({ clock: this.#clock, logger: this.#log }));
    const sweep = options.sweep ??
      (this.#own.sweep = new Sweep({ minIntervalMs: pollIntervalMs, clock: this.#clock }));
    this.#watch = new PathWatch(this.path, { pollIntervalMs, hub, sweep, clock: this.#clock }, {
      changed: (pathChanged) => {
        if (pathChanged) {
          this.#checkPath = true;
          this.#refreshSoon();
        }
        this.#changed();
      },
      sweep: () => void this.#sweepCheck(),
      poll: () => {
        this.#checkPath = true;
        this.#checkFingerprint = true;
        this.#refreshSoon();
        this.#changed();
      },
    });
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
    const run = this.#lock.then(() => this.#locked(() => this.#start()));
    this.#lock = run.catch(() => {});
    return run;
  }

  /**
   * Runs an operation that may use the open files, in its turn of the
   * budget: the budget does not close them meanwhile, and afterwards the
   * budget and the poll learn what the operation changed.
   */
  async #locked<T>(operation: () => Promise<T>): Promise<T> {
    const budget = this.#openFiles;
    if (budget !== undefined) await budget.enter();
    this.#busy++;
    try {
      return await operation();
    } finally {
      this.#busy--;
      this.#afterOperation();
      budget?.leave();
    }
  }

  /** Brings the open-files budget and the poll of rotated files up to date. */
  #afterOperation(): void {
    if (this.#closed) return;
    const cur = this.#current;
    const reopenable = cur !== undefined && cur.file !== undefined && !cur.rotated &&
      !(cur.file instanceof RotatedCopy);
    if (this.#openFiles !== undefined) {
      if (reopenable && !this.#inBudget) {
        this.#inBudget = true;
        this.#openFiles.opened(this.#holder);
      } else if (!reopenable && this.#inBudget) {
        this.#inBudget = false;
        this.#openFiles.closed(this.#holder);
      }
    }
    this.#watch.setPolling(this.#incarnations.some((inc) => inc !== this.#current));
  }

  /**
   * Closes the current file while nothing uses it, to stay within the
   * open-files budget; it is opened again by path before the next read.
   *
   * @returns Whether it was closed.
   */
  #park(): boolean {
    const cur = this.#current;
    if (this.#busy > 0 || this.#closed || cur === undefined || cur.file === undefined) return false;
    if (cur.rotated || cur.file instanceof RotatedCopy) return false;
    closeQuietly(cur.file);
    cur.file = undefined;
    cur.filePosition = -1;
    cur.parked = true;
    this.#inBudget = false;
    return true;
  }

  /**
   * Opens the current file again after the budget closed it. When the path
   * no longer names it (device and inode), it was rotated, renamed or
   * removed meanwhile: it is looked for among the siblings, as after a
   * restart, and read on from there as a rotated file; when it is nowhere,
   * what was known to be unread becomes a gap event. A truncation or a
   * rewrite in place is found afterwards by the usual checks (size, first
   * bytes), as if the file had stayed open.
   *
   * @returns Whether the current file is open now.
   * @throws When the file cannot be opened for another reason than being
   *   gone (it stays closed, to be tried again).
   */
  async #unpark(inc: Incarnation): Promise<boolean> {
    if (!inc.parked) return inc.file !== undefined;
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(this.path, { read: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (file !== undefined) {
      let info: Deno.FileInfo | undefined;
      try {
        info = await file.stat();
      } catch {
        // Treated as another file.
      }
      if (info !== undefined && sameFile(info, inc.identity)) {
        inc.parked = false;
        inc.file = file;
        inc.filePosition = -1;
        return true;
      }
      closeQuietly(file);
    }
    inc.parked = false;
    await this.#findMoved(inc);
    return false;
  }

  /** The parked current file is not at its path: finds it among the siblings, or gives it up. */
  async #findMoved(inc: Incarnation): Promise<void> {
    const claimed = new Set<string>();
    for (const other of this.#incarnations) {
      if (other !== inc && other.file !== undefined) claimed.add(fileKey(other.identity));
    }
    const found = await findIncarnation(this.path, {
      ...inc.identity,
      offset: inc.readOffset,
      size: Math.max(inc.knownSize, inc.readOffset),
    }, { claimed }).catch(() => undefined);
    this.#checkPath = true;
    if (found !== undefined) {
      inc.file = found.file;
      inc.filePosition = -1;
      if (found.how !== "same") {
        // A copy holds the same bytes at the same offsets: same stream, read on.
        const { head, ...copyIdentity } = found.identity;
        inc.identity = copyIdentity;
        inc.head = head;
      }
      if (found.size > inc.knownSize) inc.knownSize = found.size;
      this.#detach(inc, `file rotated while closed (found at ${found.foundAt})`);
      return;
    }
    inc.markLost(GAP_REASON_ROTATED_WHILE_CLOSED, Math.max(inc.knownSize, inc.readOffset));
    this.stats.rotations++;
    if (this.#current === inc) this.#current = undefined;
    this.#log.warn("file rotated and gone while closed for the open-files budget", {
      path: this.path,
      stream: inc.stream,
      unreadBytes: inc.lost!.end - inc.lost!.from,
    });
  }

  /**
   * The sweep's look at the path: a stat, without opening the file or taking
   * the lock. Whatever differs from what the follower knows (another file at
   * the path, more or fewer bytes, a newer modification time) makes it look
   * properly, as a watch event would.
   */
  async #sweepCheck(): Promise<void> {
    if (this.#closed || !this.#started || this.#sweeping) return;
    this.#sweeping = true;
    try {
      const info = await this.#statPath(true);
      if (this.#closed) return;
      const cur = this.#current;
      if (info === undefined || cur === undefined || !sameFile(info, cur.identity)) {
        if (info !== undefined || cur !== undefined) this.#lookAgain();
        return;
      }
      const mtimeMs = info.mtime?.getTime();
      const seen = Math.max(cur.readOffset, cur.knownSize);
      if (info.size !== seen) {
        // Grown or shrunk: the path is checked under the lock, which also
        // learns the size (what a truncation lost is told by the sizes
        // seen), without touching an incarnation another operation may be
        // replacing right now.
        this.#lookAgain();
      } else if (this.#sweptMtimeMs !== undefined && mtimeMs !== this.#sweptMtimeMs) {
        // Written without growing: the content may have been replaced in place.
        this.#checkFingerprint = true;
        this.#lookAgain();
      }
      this.#sweptMtimeMs = mtimeMs;
    } finally {
      this.#sweeping = false;
    }
  }

  /** Checks the path under the lock and reads: what a watch event of a rename does. */
  #lookAgain(): void {
    this.#checkPath = true;
    this.#refreshSoon();
    this.#changed();
  }

  async #start(): Promise<void> {
    // Watch before looking at the file, so a file created in between is not missed.
    this.#watch.start();
    this.#dirty = true;
    const restored = await restoreIncarnations(this.path, {
      resume: this.#options.resume,
      savedAtMs: this.#options.resumeSavedAtMs,
      factory: this.#factory,
      logger: this.#log,
    });
    this.#incarnations = restored.incarnations;
    this.#current = restored.current;
    if (this.#current === undefined) {
      const info = await this.#statPath();
      if (info === undefined) return;
      await this.#openAt(info, "start");
    }
    this.#checkPath = false;
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
    const run = this.#lock.then(() => this.#locked(() => this.#read(consumer))).catch((error) => {
      // A file system error (EIO, a vanished mount) must not stop the agent:
      // report it, forget the file positions, and look again on the next poll.
      this.#problem(`Cannot read ${this.path}: ${errorMessage(error)}`);
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
   * The positions to save for this path: every incarnation that still owes
   * lines or a gap event, oldest first, with its stream, identity,
   * acknowledged offset and size. With no incarnation at all the list is
   * empty, which still records that the path was followed: a file that
   * appears while the agent is stopped is then read from its start.
   *
   * @returns The state of the path.
   */
  state(): FileState {
    const incarnations: IncarnationState[] = [];
    for (const inc of this.#incarnations) {
      if (inc.lostAndSettled) continue;
      incarnations.push({
        stream: inc.stream,
        dev: inc.identity.dev,
        ino: inc.identity.ino,
        fingerprint: inc.identity.fingerprint,
        fingerprintBytes: inc.identity.fingerprintBytes,
        offset: inc.ackedOffset,
        size: this.#savedSize(inc),
        rotated: inc !== this.#current,
        ...(inc.lost !== undefined ? { lost: inc.lost.reason } : {}),
      });
    }
    return { path: this.path, incarnations };
  }

  /**
   * Whether {@linkcode FileFollower.state} would differ from a state saved
   * earlier, found without building it: the checkpoints ask every follower
   * at each save, and only the changed ones are written.
   *
   * @param saved The state last saved for this path, if any.
   * @returns True when the state to save is not `saved`.
   */
  stateChangedSince(saved: FileState | undefined): boolean {
    if (saved === undefined) return true;
    const list = saved.incarnations;
    let i = 0;
    for (const inc of this.#incarnations) {
      if (inc.lostAndSettled) continue;
      const s = list[i++];
      if (
        s === undefined || s.offset !== inc.ackedOffset || s.size !== this.#savedSize(inc) ||
        s.stream !== inc.stream || s.rotated !== (inc !== this.#current) ||
        s.fingerprintBytes !== inc.identity.fingerprintBytes ||
        s.fingerprint !== inc.identity.fingerprint || s.dev !== inc.identity.dev ||
        s.ino !== inc.identity.ino || s.lost !== inc.lost?.reason
      ) {
        return true;
      }
    }
    return i !== list.length;
  }

  /** The size an incarnation is saved with: the largest known, and at least its offset. */
  #savedSize(inc: Incarnation): number {
    const size = inc.lost?.end ?? Math.max(inc.knownSize, inc.readOffset);
    return Math.max(size, inc.ackedOffset);
  }

  /**
   * Bytes in the followed file(s) beyond the acknowledged offsets.
   *
   * @returns The lag in bytes (never negative).
   */
  async lagBytes(): Promise<number> {
    let lag = 0;
    for (const inc of this.#incarnations) {
      if (inc.file === undefined && !inc.parked) continue;
      let size = Math.max(inc.knownSize, inc.readOffset);
      // Without an event since the last read, the size known is current
      // (the sweep keeps it so): only a file with news costs a stat.
      if (inc === this.#current && this.#dirty) {
        // Stat by path: the handle may be busy with a read right now.
        const info = await this.#statPath(true);
        if (info !== undefined && sameFile(info, inc.identity)) {
          size = Math.max(size, info.size);
          // Sizes seen tell truncation (and the bytes it lost) even before any read.
          if (info.size > inc.knownSize) inc.knownSize = info.size;
        }
      }
      lag += Math.max(0, size - inc.ackedOffset);
    }
    return lag;
  }

  /** Stops watching and polling, and closes every open file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch.close();
    await this.#lock;
    for (const inc of this.#incarnations) if (inc.file !== undefined) closeQuietly(inc.file);
    if (this.#inBudget) this.#openFiles?.closed(this.#holder);
    this.#inBudget = false;
    this.#incarnations = [];
    this.#current = undefined;
    this.#own.sweep?.close();
    await this.#own.hub?.close();
  }

  /** Same as {@linkcode FileFollower.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #read(consumer: LineConsumer): Promise<number> {
    if (this.#closed || !this.#started) return 0;
    this.#buffer = this.#buffers.take();
    try {
      return await this.#readPass(consumer);
    } finally {
      // Line views handed to the consumer are only valid during its calls:
      // nothing refers into the buffer any more.
      this.#buffers.give(this.#buffer);
      this.#buffer = EMPTY;
      this.#openFiles?.used(this.#holder);
    }
  }

  async #readPass(consumer: LineConsumer): Promise<number> {
    this.#dirty = false;
    this.#pass++;
    if (this.#checkPath) {
      this.#checkPath = false;
      await this.#checkIdentity();
      if (this.#closed) return 0;
    }
    const parked = this.#current;
    if (parked?.parked && !await this.#unpark(parked) && this.#checkPath) {
      // Rotated while closed: the path names another file (or none) now.
      this.#checkPath = false;
      await this.#checkIdentity();
      if (this.#closed) return 0;
    }
    await this.#learnCurrentHead();
    if (this.#closed) return 0;
    let total = 0;
    for (let i = 0; i < this.#incarnations.length; i++) {
      let inc = this.#incarnations[i]!;
      if (inc === this.#current && inc.head.length > 0) {
        // Compare the first bytes before every read pass, so a file truncated
        // and rewritten past the old offset (copytruncate of a busy file) is
        // caught before any of its new content is read at the old offset.
        // Costs a seek and a short read per pass (a pass reads up to the
        // window), which only matters for single-line passes, i.e. when idle.
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

  /**
   * Learns the first bytes and the size of the current file before reading
   * it. While an older incarnation (a rotated file, or the copy of a
   * copytruncate) is read to its end first, the current one may wait unread;
   * without its first bytes and size, a second copytruncate in that time
   * could not be noticed, and the lines written between the two would be lost.
   */
  async #learnCurrentHead(): Promise<void> {
    const inc = this.#current;
    const file = inc?.file;
    if (inc === undefined || file === undefined || inc.head.length >= FINGERPRINT_BYTES) return;
    let size: number;
    try {
      size = (await file.stat()).size;
    } catch {
      return;
    }
    if (size > inc.knownSize) inc.knownSize = size;
    if (size <= inc.head.length) return;
    inc.filePosition = -1;
    inc.extendHead(await readFileHead(file, Math.min(size, FINGERPRINT_BYTES)), 0);
  }

  async #readIncarnation(inc: Incarnation, consumer: LineConsumer): Promise<ReadResult> {
    let bytes = 0;
    this.#consumer = consumer;
    const file = inc.file;
    if (file === undefined) return this.#sendGap(inc, consumer);
    // A copy's content is final: it ends where it ends, it is never truncated.
    const copy = file instanceof RotatedCopy ? file : undefined;
    const sink = inc.sink ??= this.#sinkFor(inc);
    for (;;) {
      if (!consumer.hasRoom()) return { bytes, drained: false, replaced: false };
      inc.drainedPass = -1;
      if (inc.filePosition !== inc.readOffset) {
        await file.seek(inc.readOffset, Deno.SeekMode.Start);
        inc.filePosition = inc.readOffset;
      }
      let n: number | null;
      try {
        n = await file.read(this.#buffer);
      } catch (error) {
        this.#problem(`Cannot read ${this.path}: ${errorMessage(error)}`);
        return { bytes, drained: true, replaced: false };
      }
      const got = n ?? 0;
      if (copy === undefined && got < this.#buffer.length && inc.readOffset + got < inc.knownSize) {
        // The file ends before bytes seen earlier: it was truncated, and what
        // was just read may be new content. Nothing of it is handed out.
        inc.filePosition = -1;
        const size = (await file.stat()).size;
        if (size < inc.knownSize) {
          await this.#truncated(inc, size);
          return { bytes, drained: true, replaced: true };
        }
        // It grew back past the known size in between: read again.
        continue;
      }
      if (n === null || n === 0) {
        if (copy !== undefined) return this.#endOfCopy(inc, copy, consumer, bytes);
        if (bytes === 0) {
          const size = (await file.stat()).size;
          if (size < Math.max(inc.readOffset, inc.knownSize)) {
            await this.#truncated(inc, size);
            return { bytes, drained: true, replaced: true };
          }
        }
        inc.drainedPass = this.#pass;
        return { bytes, drained: true, replaced: false };
      }
      if (inc === this.#current && inc.readOffset > 0 && inc.head.length > 0) {
        // The check before the pass is not enough: a copytruncate can happen
        // between it and this read, and a busy writer can refill the file past
        // our offset, so these bytes would be new content read from its middle.
        // Checking the first bytes after the read closes that window: new
        // content is written from offset 0, so it has replaced the head first.
        const readTo = inc.readOffset + n;
        inc.filePosition = -1;
        if (!await headMatches(file, inc.head)) {
          this.#log.warn("file truncated and rewritten while being read", { path: this.path });
          await this.#truncated(inc, (await file.stat()).size);
          return { bytes, drained: true, replaced: true };
        }
        inc.filePosition = -1;
        await file.seek(readTo, Deno.SeekMode.Start);
        inc.filePosition = readTo - n;
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
        if (copy !== undefined) return this.#endOfCopy(inc, copy, consumer, bytes);
        inc.drainedPass = this.#pass;
        return { bytes, drained: true, replaced: false };
      }
    }
  }

  /** A lost incarnation: hands out its gap event once, if it owes one. */
  #sendGap(inc: Incarnation, consumer: LineConsumer): ReadResult {
    const message = inc.pendingGap();
    if (message !== undefined) {
      if (!consumer.hasRoom()) return { bytes: 0, drained: false, replaced: false };
      this.stats.gaps++;
      consumer.line(inc, message, inc.lost!.end, message.length, inc.gapStreamBytes);
      inc.gapSent();
      consumer.endOfChunk?.();
    }
    inc.drainedPass = this.#pass;
    return { bytes: 0, drained: true, replaced: false };
  }

  /**
   * A copy read to its end: the bytes seen beyond it, and a line it ends
   * inside of, become a gap event at their position (once: the offsets move
   * past them, and a resend after a rewind is a duplicate on the server).
   */
  #endOfCopy(
    inc: Incarnation,
    copy: RotatedCopy,
    consumer: LineConsumer,
    bytes: number,
  ): ReadResult {
    const { splitter, readOffset, knownSize } = inc;
    const gap = copy.gapAtEnd({ lineEnd: splitter.offset, readOffset, knownSize });
    if (gap !== undefined) {
      if (!consumer.hasRoom()) return { bytes, drained: false, replaced: false };
      this.stats.gaps++;
      this.#log.warn("bytes lost before they could be read, sending a gap event", {
        path: this.path,
        stream: inc.stream,
        ...gap,
      });
      const { from: fromOffset, to: toOffset, reason } = gap;
      const message = formatGapEvent({
        path: this.path,
        stream: inc.stream,
        fromOffset,
        toOffset,
        reason,
      });
      const bytesOfGap = ENCODER.encode(message);
      consumer.line(inc, bytesOfGap, toOffset, bytesOfGap.length, inc.gapStreamBytes);
      inc.readOffset = toOffset;
      inc.restartSplitter();
      consumer.endOfChunk?.();
    }
    inc.drainedPass = this.#pass;
    return { bytes, drained: true, replaced: false };
  }

  #sinkFor(inc: Incarnation): ByteLineSink {
    return {
      line: (line, endOffset) => {
        const bytes = endOffset - inc.lastLineEnd;
        inc.lastLineEnd = endOffset;
        this.#consumer!.line(inc, line, endOffset, bytes);
      },
      overflow: (_bytes, endOffset) => {
        const start = inc.lastLineEnd;
        inc.lastLineEnd = endOffset;
        this.#tooLong(inc, start, endOffset);
      },
    };
  }

  /** Replaces a line over the limit by a gap event at its position, so it is not lost silently. */
  #tooLong(inc: Incarnation, start: number, endOffset: number): void {
    this.stats.linesTooLong++;
    this.stats.gaps++;
    if (this.stats.linesTooLong <= MAX_TOO_LONG_WARNINGS) {
      this.#log.warn("line too long, sending a gap event instead", {
        path: this.path,
        endOffset,
        bytes: endOffset - start,
        maxBytes: this.#maxLineBytes,
      });
    }
    const message = ENCODER.encode(formatGapEvent({
      path: this.path,
      stream: inc.stream,
      fromOffset: start,
      toOffset: endOffset,
      reason: `line longer than ${this.#maxLineBytes} bytes`,
    }));
    this.#consumer!.line(inc, message, endOffset, endOffset - start, inc.gapStreamBytes);
  }

  /**
   * The file at `inc` shrank below what was read, or its first bytes changed:
   * its content was replaced. The rest of the old content is read from a
   * copy when a sibling holds one (`copytruncate`), else it becomes a gap;
   * the file itself starts a new incarnation at offset 0.
   */
  async #truncated(inc: Incarnation, size: number): Promise<void> {
    const index = this.#incarnations.indexOf(inc);
    if (index < 0) return;
    this.stats.truncations++;
    this.#dirty = true;
    const handle = inc.file;
    const identity = inc.identity;
    const wasCurrent = this.#current === inc;
    const exclude = new Set<string>();
    for (const other of this.#incarnations) {
      if (other.file !== undefined) exclude.add(fileKey(other.identity));
    }
    const search = await findRotatedCopy(this.path, inc.head, inc.readOffset, exclude);
    const copy = search.copy;
    inc.rotated = true;
    inc.lastGrowthAt = this.#clock.now();
    if (copy !== undefined) {
      // The copy holds the same bytes at the same offsets: same stream, read on.
      const { head, ...copyIdentity } = copy.identity;
      inc.file = copy.file;
      inc.filePosition = -1;
      inc.identity = copyIdentity;
      inc.head = head;
      if (copy.size > inc.knownSize) inc.knownSize = copy.size;
      this.#log.info("file truncated, reading the rest of the old content from its copy", {
        path: this.path,
        copy: copy.foundAt,
        offset: inc.readOffset,
      });
    } else {
      const unreadable = search.unreadable;
      inc.markLost(
        unreadable === undefined ? GAP_REASON_TRUNCATED : `${GAP_REASON_TRUNCATED}: ${unreadable}`,
        inc.knownSize,
      );
      this.#log.warn("file truncated, reading it from the start", {
        path: this.path,
        size,
        offset: inc.readOffset,
        unreadBytes: inc.lost!.end - inc.lost!.from,
      });
    }
    if (!wasCurrent) {
      // A rotated file that shrinks: its handle has nothing more to give.
      if (handle !== undefined) closeQuietly(handle);
      return;
    }
    const empty = new Uint8Array();
    // The first bytes are learnt again while reading from offset 0.
    const fresh = this.#factory.open(handle, {
      ...identity,
      fingerprint: await fingerprintOf(empty),
      fingerprintBytes: 0,
      head: empty,
    });
    this.#incarnations.splice(index + 1, 0, fresh);
    this.#current = fresh;
  }

  /** Compares the file the path names with the current incarnation. */
  async #checkIdentity(): Promise<void> {
    const info = await this.#statPath();
    let cur = this.#current;
    if (cur?.parked && (info === undefined || !sameFile(info, cur.identity))) {
      // Closed for the budget and rotated meanwhile: found among the
      // siblings (then read on as a rotated file) or given up.
      cur.parked = false;
      await this.#findMoved(cur);
      this.#checkPath = false;
      cur = this.#current;
    }
    if (info === undefined) {
      if (cur !== undefined) this.#detach(cur, "file removed or renamed");
      return;
    }
    if (cur !== undefined && sameFile(info, cur.identity)) {
      const shrunk = info.size < Math.max(cur.readOffset, cur.knownSize);
      const learn = cur.head.length < FINGERPRINT_BYTES && info.size > cur.head.length;
      if (
        cur.parked && (shrunk || learn || this.#checkFingerprint) && !await this.#unpark(cur)
      ) {
        // Rotated between the stat and the open: look at the path again.
        this.#checkPath = false;
        await this.#checkIdentity();
        return;
      }
      // A file only shrinks when it is truncated, even below what was read.
      if (shrunk) {
        await this.#truncated(cur, info.size);
        return;
      }
      if (info.size > cur.knownSize) cur.knownSize = info.size;
      if (learn) {
        // Learn the first bytes before reading them (the window may be full),
        // so a copy made by copytruncate can be recognised.
        await this.#learnHead(cur);
      } else if (this.#checkFingerprint) {
        await this.#verifyHead(cur);
      }
      return;
    }
    // The path came back to a file we still hold open (renamed back).
    const previous = this.#incarnations.find((inc) =>
      inc.file !== undefined && sameFile(info, inc.identity)
    );
    if (previous !== undefined && cur === undefined) {
      previous.rotated = false;
      this.#current = previous;
      return;
    }
    if (cur !== undefined) this.#detach(cur, "file replaced (rotated)");
    await this.#openAt(info, "appeared");
  }

  async #learnHead(inc: Incarnation): Promise<void> {
    const file = inc.file;
    if (file === undefined) return;
    inc.filePosition = -1;
    const known = inc.head;
    const head = await readFileHead(file, FINGERPRINT_BYTES);
    for (let i = 0; i < known.length; i++) {
      if (head[i] !== known[i] || i >= head.length) {
        this.#log.warn("file content replaced in place", { path: this.path });
        await this.#truncated(inc, head.length);
        return;
      }
    }
    inc.extendHead(head, 0);
    await inc.refreshFingerprint();
  }

  async #verifyHead(inc: Incarnation): Promise<void> {
    this.#checkFingerprint = false;
    const file = inc.file;
    if (file === undefined) return;
    inc.filePosition = -1;
    if (await headMatches(file, inc.head)) return;
    const size = (await file.stat()).size;
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
        this.#problem(`Cannot open ${this.path}: ${errorMessage(error)}`);
      }
      return;
    }
    let offset = 0;
    const stream = newStreamId();
    let identity: Awaited<ReturnType<typeof readFileIdentity>>;
    try {
      const opened = await file.stat();
      identity = await readFileIdentity(file, opened);
      // With saved state the path was followed before: a file there that is
      // none of the saved ones appeared while the agent was stopped.
      if (
        why === "start" && this.#options.resume === undefined && (this.#options.startAtEnd ?? true)
      ) {
        offset = await lineStartBefore(file, opened.size);
      }
    } catch (error) {
      closeQuietly(file);
      this.#problem(`Cannot read ${this.path}: ${errorMessage(error)}`);
      return;
    }
    this.#lastProblem = "";
    const inc = this.#factory.open(file, identity, { stream, offset });
    this.#incarnations.push(inc);
    this.#current = inc;
    this.#log.debug("following file", { path: this.path, stream, offset });
  }

  /** Closes rotated incarnations that are read, idle and acknowledged to their end. */
  async #retireRotated(consumer: LineConsumer): Promise<void> {
    const now = this.#clock.now();
    for (let i = 0; i < this.#incarnations.length; i++) {
      const inc = this.#incarnations[i]!;
      if (inc.lost !== undefined) {
        // Lost content: done once its gap event (if any) is acknowledged.
        if (inc.lostAndSettled) this.#incarnations.splice(i--, 1);
        continue;
      }
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
      if (inc.file !== undefined) closeQuietly(inc.file);
      this.#log.debug("closed rotated file", { path: this.path, stream: inc.stream });
    }
  }

  async #flushPartial(inc: Incarnation, consumer: LineConsumer): Promise<void> {
    const start = inc.splitter.offset;
    const length = inc.readOffset - start;
    const file = inc.file;
    if (file === undefined) return;
    if (length > this.#maxLineBytes) {
      this.#consumer = consumer;
      this.#tooLong(inc, start, inc.readOffset);
    } else {
      const bytes = new Uint8Array(length);
      const filled = await readAt(file, start, bytes);
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
        this.#problem(`Cannot stat ${this.path}: ${errorMessage(error)}`);
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

  /**
   * Checks the path now under the lock, without reading: a rotation or
   * truncation is acted on even while nothing is read (server down, window
   * full), so a renamed file is opened before a second rotation moves it on.
   */
  #refreshSoon(): void {
    if (this.#refreshQueued || this.#closed || !this.#started) return;
    this.#refreshQueued = true;
    const run = this.#lock.then(() =>
      this.#locked(async () => {
        this.#refreshQueued = false;
        if (this.#closed || !this.#checkPath) return;
        this.#checkPath = false;
        await this.#checkIdentity();
      })
    ).catch((error) => {
      this.#checkPath = true;
      this.#problem(`Cannot check ${this.path}: ${errorMessage(error)}`);
    });
    this.#lock = run;
  }

  #changed(): void {
    this.#dirty = true;
    this.#options.onChange?.();
  }
}

/** Warnings about lines over the limit logged per follower before they are only counted. */
const MAX_TOO_LONG_WARNINGS = 10;

const ENCODER = new TextEncoder();

/** The follower's buffer while it is not reading: it holds none. */
const EMPTY = new Uint8Array(0);

function closeQuietly(file: ReadableFile): void {
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
  const filled = await readAt(file, start, tail);
  const newline = tail.subarray(0, filled).lastIndexOf(10);
  if (newline >= 0) return start + newline + 1;
  return start === 0 ? 0 : size;
}
