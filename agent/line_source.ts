/**
 * What the agent reads lines from and what it sends them as: the common shape
 * of a followed file (follow/, with its incarnations) and of the systemd
 * journal (journal/), so the pump, the window and the ACK bookkeeping
 * (sources/sources.ts, session.ts) treat both alike.
 *
 * @module
 */

/**
 * Where a line came from, as the client's in-flight ring remembers it: one
 * wire stream, whose positions are acknowledged in order.
 * `follow/incarnation.ts` implements it for files, `journal/journal_source.ts`
 * for the journal.
 */
export interface LineOrigin {
  /** The followed path, or `journal`, for log messages. */
  readonly path: string;
  /** Stream id as ASCII bytes, copied into every `EVENT` line. */
  readonly streamBytes: Uint8Array;
  /** Lines handed to the current connection and not yet acknowledged. */
  inFlight: number;
  /**
   * The server acknowledged the line ending at `position` (in send order).
   *
   * @param position The position sent with the line.
   */
  acknowledge(position: number): void;
  /**
   * A line that was not sent (empty, too long, or filtered out) is done: it
   * counts as acknowledged once every line before it is.
   *
   * @param position The line's position.
   */
  skip(position: number): void;
}

/**
 * Receives lines from a {@linkcode LineSource}; the same shape as the file
 * follower's consumer, for any origin.
 */
export interface LineConsumer {
  /** Whether more lines may be handed out now; reading pauses while false. */
  hasRoom(): boolean;
  /**
   * A complete line.
   *
   * @param origin Its stream.
   * @param line Its bytes, without line break; valid only during the call.
   * @param position Its position in the stream (sent in `EVENT`).
   * @param bytes What it counts for in the byte window.
   * @param stream The stream to send it on when not the origin's own (a
   *   file's gap events, protocol/gap_event.ts); such lines are never filtered.
   */
  line(
    origin: LineOrigin,
    line: Uint8Array,
    position: number,
    bytes: number,
    stream?: Uint8Array,
  ): void;
  /**
   * A line too long to send; dropped.
   *
   * @param origin Its stream.
   * @param bytes Its length in bytes.
   * @param position Its position in the stream.
   */
  overflow(origin: LineOrigin, bytes: number, position: number): void;
  /** Called after each chunk handed out, e.g. to start sending. */
  endOfChunk?(): void;
}

/** Something the agent pumps lines from while the window has room. */
export interface LineSource {
  /** The followed path, or `journal`. */
  readonly path: string;
  /** Whether a `read()` may find something. */
  readonly wantsRead: boolean;
  /**
   * Hands lines to the consumer while it has room. Never rejects.
   *
   * @param consumer Receives the lines.
   * @returns How much was read (0 when nothing was).
   */
  read(consumer: LineConsumer): Promise<number>;
  /** Forgets what was sent and not acknowledged, so it is read again (after a reconnect). */
  rewind(): void;
  /** Stops and releases everything. Idempotent. */
  close(): Promise<void>;
}
