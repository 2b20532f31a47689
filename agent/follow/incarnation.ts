/**
 * One incarnation of a followed file: an open handle on one inode, named on
 * the wire by one stream id, with its read, line and acknowledgement offsets.
 * A path gets a new incarnation when the file appears, is truncated, or is
 * replaced (rotation); the old one is kept until it has been read and
 * acknowledged to its end.
 *
 * @module
 */

import {
  type ByteLineSink,
  formatGapEvent,
  gapStreamOf,
  LineSplitter,
} from "../../protocol/mod.ts";
import type { IncarnationState } from "../checkpoint/mod.ts";
import { type Clock, SYSTEM_CLOCK } from "../clock.ts";
import {
  type FileIdentity,
  type FileIdentityWithHead,
  FINGERPRINT_BYTES,
  fingerprintOf,
} from "./file_identity.ts";
import { newStreamId } from "./stream_id.ts";
import type { ReadableFile } from "./readable_file.ts";

/** Values of a new {@linkcode Incarnation}. */
export interface IncarnationInit {
  /** The followed path (for log messages). */
  readonly path: string;
  /** Stream id used in EVENT lines. */
  readonly stream: string;
  /** Open handle, owned by the incarnation from now on; none when its content is lost. */
  readonly file: ReadableFile | undefined;
  /** Device, inode and fingerprint of the file. */
  readonly identity: FileIdentity;
  /** The file's first bytes the fingerprint covers (at most {@linkcode FINGERPRINT_BYTES}). */
  readonly head: Uint8Array;
  /** Offset to start reading at; everything before it counts as acknowledged. */
  readonly offset: number;
  /** Longest line kept, in bytes; the follower replaces a longer one by a gap event. */
  readonly maxLineBytes: number;
  /** Current time in milliseconds (the follower's clock). */
  readonly now: number;
  /**
   * Largest size of the file known, in bytes.
   * @default {offset}
   */
  readonly knownSize?: number;
}

/** Content of an incarnation that can no longer be read, owed to the server as a gap event. */
export interface LostContent {
  /** Why, for the gap event, e.g. `truncated before it was read to its end`. */
  readonly reason: string;
  /** Offset of the first byte not delivered. */
  from: number;
  /** Offset just after the last byte known to exist; the gap event's position. */
  end: number;
}

/**
 * Where the gap event of a lost incarnation stands: `none` when nothing
 * unread was lost, `pending` until it is handed out, `sent` once handed out.
 */
export type GapState = "none" | "pending" | "sent";

/**
 * Read and acknowledgement state of one incarnation of a file.
 *
 * @example
 * ```ts
 * const file = await Deno.open("/var/log/syslog");
 * const incarnations = new IncarnationFactory("/var/log/syslog", { maxLineBytes: 65_000 });
 * const inc = incarnations.open(file, await readFileIdentity(file));
 * inc.acknowledge(120); // the server stored the line ending at byte 120
 * ```
 */
export class Incarnation {
  /** The followed path (for log messages); the file may have been renamed since. */
  readonly path: string;
  /** Stream id used in EVENT lines. */
  readonly stream: string;
  /** The stream id as ASCII bytes, copied into every EVENT line. */
  readonly streamBytes: Uint8Array;
  /**
   * The open file; never re-opened by path once the path no longer names it,
   * so a renamed file is read to its end. Replaced by a copy of the same
   * content after `copytruncate`; undefined once the content is lost, or
   * while {@linkcode Incarnation.parked}.
   */
  file: ReadableFile | undefined;
  /** Device, inode and fingerprint (the fingerprint grows with the file). */
  identity: FileIdentity;
  /**
   * The file's first bytes as this incarnation knows them: read at open, then
   * extended from the bytes actually read, so comparing them with the file
   * tells whether its content was replaced.
   */
  head: Uint8Array;
  /** `head` grew since `identity.fingerprint` was computed. */
  #headChanged = false;
  /** Offset of the next byte to read from the file. */
  readOffset: number;
  /** Offset just after the last line the server acknowledged (or that was skipped). */
  ackedOffset: number;
  /** Splits the bytes read; its `offset` is the end of the last complete line. */
  splitter: LineSplitter;
  /** End offset of the last line handed out, to size the next one. */
  lastLineEnd: number;
  /** Where the OS file position is, or -1 when unknown (a seek is needed). */
  filePosition = -1;
  /**
   * The file was closed for the open-files budget while the path still named
   * it (`file` is undefined meanwhile, yet nothing is lost): the follower
   * opens it again by path, checking it is still the same file.
   */
  parked = false;
  /** Lines handed to the current connection and not yet acknowledged. */
  inFlight = 0;
  /** The path no longer names this file: read it to its end, then retire it. */
  rotated = false;
  /** The follower's read pass that last read this file to its end, or -1. */
  drainedPass = -1;
  /** Largest file size seen, in bytes. */
  knownSize: number;
  /** When bytes were last read (or the file was found rotated), in the follower's clock milliseconds. */
  lastGrowthAt: number;
  /** Sink bound to this incarnation, set by the follower. */
  sink: ByteLineSink | undefined;
  /** Set once the content cannot be read any more (see {@linkcode Incarnation.markLost}). */
  lost: LostContent | undefined;
  /** Where the gap event of lost content stands. */
  gapState: GapState = "none";
  #gapStreamBytes: Uint8Array | undefined;
  readonly #maxLineBytes: number;
  /** Offset of a skipped line that becomes acknowledged once nothing is in flight. */
  #pendingSkip = -1;

  /**
   * @param init Stream id, handle, identity and starting offset.
   */
  constructor(init: IncarnationInit) {
    this.path = init.path;
    this.stream = init.stream;
    this.streamBytes = new TextEncoder().encode(init.stream);
    this.file = init.file;
    this.identity = init.identity;
    this.head = init.head;
    this.readOffset = init.offset;
    this.ackedOffset = init.offset;
    this.lastLineEnd = init.offset;
    this.knownSize = Math.max(init.offset, init.knownSize ?? 0);
    this.lastGrowthAt = init.now;
    this.#maxLineBytes = init.maxLineBytes;
    this.splitter = new LineSplitter({ maxLineBytes: init.maxLineBytes, startOffset: init.offset });
  }

  /** Offset just after the last complete line read (a held partial line excluded). */
  get lineOffset(): number {
    return this.splitter.offset;
  }

  /** Whether every complete line read so far has been acknowledged. */
  get fullyAcknowledged(): boolean {
    return this.inFlight === 0 && this.ackedOffset >= this.splitter.offset;
  }

  /**
   * Records the server's acknowledgement of the line ending at `position`.
   * Lines of one incarnation are acknowledged in order.
   *
   * @param position End offset of the acknowledged line.
   */
  acknowledge(position: number): void {
    if (position > this.ackedOffset) this.ackedOffset = position;
    if (this.inFlight > 0) this.inFlight--;
    if (this.inFlight === 0 && this.#pendingSkip > this.ackedOffset) {
      this.ackedOffset = this.#pendingSkip;
    }
  }

  /**
   * Marks a line that was not sent (empty, or too long) as done: it counts as
   * acknowledged once every line before it is.
   *
   * @param position End offset of the skipped line.
   */
  skip(position: number): void {
    if (this.inFlight === 0) {
      if (position > this.ackedOffset) this.ackedOffset = position;
    } else if (position > this.#pendingSkip) {
      this.#pendingSkip = position;
    }
  }

  /**
   * Forgets everything read beyond the acknowledged offset, so the next read
   * starts at the first unacknowledged byte (after a reconnect).
   */
  rewind(): void {
    const lost = this.lost;
    if (lost !== undefined) {
      // Lines of lost content that were in flight cannot be read again:
      // they join the gap, which is (re)sent.
      if (this.ackedOffset < lost.from) lost.from = this.ackedOffset;
      if (this.gapState === "sent" && this.inFlight > 0) this.gapState = "pending";
      if (this.ackedOffset < this.readOffset && this.gapState === "none") {
        this.gapState = "pending";
      }
    }
    this.inFlight = 0;
    this.#pendingSkip = -1;
    this.readOffset = this.ackedOffset;
    this.lastLineEnd = this.ackedOffset;
    this.splitter = new LineSplitter({
      maxLineBytes: this.#maxLineBytes,
      startOffset: this.ackedOffset,
    });
  }

  /** The stream gap events of this incarnation are sent on, as ASCII bytes. */
  get gapStreamBytes(): Uint8Array {
    return this.#gapStreamBytes ??= new TextEncoder().encode(gapStreamOf(this.stream));
  }

  /**
   * Marks the content as unreadable from now on (truncated without a copy,
   * or not found after a restart). What was read but not acknowledged, and
   * what is known to exist beyond it, becomes a gap event.
   *
   * @param reason Why, for the gap event.
   * @param end Offset just after the last byte known to exist.
   * @param always Send a gap event even when no unread byte is known
   *   (the file changed while the agent was stopped).
   */
  markLost(reason: string, end: number, always = false): void {
    const from = Math.min(this.splitter.offset, this.readOffset);
    const to = Math.max(end, this.readOffset, from);
    this.file = undefined;
    this.parked = false;
    this.filePosition = -1;
    this.rotated = true;
    this.lost = { reason, from, end: to };
    this.gapState = always || to > from ? "pending" : "none";
  }

  /**
   * The message of the gap event still owed, if any.
   *
   * @returns The message bytes, or undefined when none is pending.
   */
  pendingGap(): Uint8Array | undefined {
    const lost = this.lost;
    if (lost === undefined || this.gapState !== "pending") return undefined;
    return new TextEncoder().encode(formatGapEvent({
      path: this.path,
      stream: this.stream,
      fromOffset: lost.from,
      toOffset: lost.end,
      reason: lost.reason,
    }));
  }

  /**
   * Records that the pending gap event was handed out: everything up to its
   * end counts as read.
   */
  gapSent(): void {
    const end = this.lost?.end ?? this.readOffset;
    this.gapState = "sent";
    this.readOffset = Math.max(this.readOffset, end);
    this.restartSplitter();
  }

  /** Whether a lost incarnation owes nothing more: its gap (if any) is acknowledged. */
  get lostAndSettled(): boolean {
    return this.lost !== undefined && this.gapState !== "pending" && this.inFlight === 0;
  }

  /**
   * Extends {@linkcode Incarnation.head} with the part of a chunk just read
   * that lies within the first {@linkcode FINGERPRINT_BYTES} of the file.
   *
   * @param chunk Bytes read (copied where kept; the buffer is reused).
   * @param start File offset of the chunk's first byte.
   */
  extendHead(chunk: Uint8Array, start: number): void {
    const have = this.head.length;
    if (have >= FINGERPRINT_BYTES || start > have || start + chunk.length <= have) return;
    const take = chunk.subarray(have - start, Math.min(chunk.length, FINGERPRINT_BYTES - start));
    const head = new Uint8Array(have + take.length);
    head.set(this.head);
    head.set(take, have);
    this.head = head;
    this.#headChanged = true;
  }

  /**
   * Recomputes the fingerprint after {@linkcode Incarnation.extendHead}
   * (from the bytes in memory, so a concurrent rewrite of the file cannot
   * slip into it).
   *
   * @returns Resolves once `identity` is current.
   */
  async refreshFingerprint(): Promise<void> {
    if (!this.#headChanged) return;
    this.#headChanged = false;
    const head = this.head;
    const fingerprint = await fingerprintOf(head);
    this.identity = { ...this.identity, fingerprint, fingerprintBytes: head.length };
  }

  /**
   * Drops a held partial line and starts splitting afresh at the current read
   * offset, after the partial line was sent on its own.
   */
  restartSplitter(): void {
    this.lastLineEnd = this.readOffset;
    this.splitter = new LineSplitter({
      maxLineBytes: this.#maxLineBytes,
      startOffset: this.readOffset,
    });
  }
}

/** Where a new incarnation starts reading. */
export interface IncarnationStart {
  /**
   * Its stream id.
   * @default {newStreamId()}
   */
  readonly stream?: string;
  /**
   * Offset to start reading at; everything before it counts as acknowledged.
   * @default {0}
   */
  readonly offset?: number;
  /**
   * Largest size of the file known, in bytes.
   * @default {offset}
   */
  readonly knownSize?: number;
}

/** Options of {@linkcode IncarnationFactory}. */
export interface IncarnationFactoryOptions {
  /** Longest line kept, in bytes. */
  readonly maxLineBytes: number;
  /**
   * The follower's clock: an incarnation records when it was made.
   * @default {SYSTEM_CLOCK}
   */
  readonly clock?: Clock;
}

/**
 * Makes the incarnations of one followed path, each with the path, the line
 * limit and the time it was made.
 *
 * @example
 * ```ts
 * const incarnations = new IncarnationFactory("/var/log/syslog", { maxLineBytes: 65_000 });
 * const file = await Deno.open("/var/log/syslog");
 * const current = incarnations.open(file, await readFileIdentity(file), { offset: 4096 });
 * ```
 */
export class IncarnationFactory {
  readonly #path: string;
  readonly #maxLineBytes: number;
  readonly #clock: Clock;

  /**
   * @param path The followed path (for log messages and gap events).
   * @param options Line limit and clock.
   */
  constructor(path: string, options: IncarnationFactoryOptions) {
    this.#path = path;
    this.#maxLineBytes = options.maxLineBytes;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /**
   * An incarnation reading an open file.
   *
   * @param file The handle, owned by the incarnation from now on.
   * @param identity Device, inode and fingerprint, with the first bytes they cover.
   * @param start Stream id, offset and known size.
   * @returns The incarnation.
   */
  open(
    file: ReadableFile | undefined,
    identity: FileIdentityWithHead,
    start: IncarnationStart = {},
  ): Incarnation {
    return new Incarnation({
      path: this.#path,
      stream: start.stream ?? newStreamId(),
      file,
      identity,
      head: identity.head,
      offset: start.offset ?? 0,
      maxLineBytes: this.#maxLineBytes,
      now: this.#clock.now(),
      ...(start.knownSize !== undefined ? { knownSize: start.knownSize } : {}),
    });
  }

  /**
   * A saved incarnation whose content can no longer be read: it owes the
   * server a gap event (see {@linkcode Incarnation.markLost}).
   *
   * @param saved Its saved state.
   * @param reason Why, for the gap event.
   * @param always Owe a gap event even when no unread byte is known.
   * @returns The incarnation, marked lost.
   */
  lost(saved: IncarnationState, reason: string, always: boolean): Incarnation {
    const identity = {
      dev: saved.dev,
      ino: saved.ino,
      fingerprint: saved.fingerprint,
      fingerprintBytes: saved.fingerprintBytes,
      head: new Uint8Array(),
    };
    const inc = this.open(undefined, identity, {
      stream: saved.stream,
      offset: saved.offset,
      knownSize: saved.size,
    });
    inc.markLost(reason, saved.size, always);
    return inc;
  }
}
