/**
 * The systemd journal as a line source (`--journal`): runs
 * `journalctl --follow --output=json` as a child process, turns each entry
 * into a syslog-style line (journal_entry.ts) and hands it to the agent like
 * a file line, with the entry's stream and sequence number as `EVENT`
 * stream and position.
 *
 * Exactly-once across restarts: entries stay in memory, in journal order,
 * until the server acknowledged them (or the filter dropped them); the cursor
 * of the newest entry with nothing unacknowledged before it is
 * {@linkcode JournalSource.ackedCursor}, which the agent saves
 * (checkpoint/journal_cursor_file.ts) only after those ACKs. A restart runs
 * `journalctl --after-cursor=<saved>`; a reconnect resends the unacknowledged
 * entries from memory, and the server drops those it already stored.
 *
 * The first start without a saved cursor first asks journalctl for the
 * newest entry (`--lines=1`, no follow) and starts after it, so a restart
 * before any new entry still resumes at that point; an empty journal starts
 * with `--lines=0`.
 *
 * Memory is bounded: once {@linkcode MAX_JOURNAL_BUFFERED_ENTRIES} entries or
 * {@linkcode MAX_JOURNAL_BUFFERED_BYTES} are held, the agent stops reading
 * journalctl's output, the pipe fills and journalctl waits (the journal
 * itself is the buffer, like a followed file).
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { LineSplitter } from "../../protocol/mod.ts";
import { type Clock, sleep, SYSTEM_CLOCK } from "../clock.ts";
import { journalEntryToLine } from "./journal_entry.ts";
import { MAX_EVENT_MESSAGE_BYTES } from "../limits.ts";
import type { LineConsumer, LineOrigin, LineSource } from "../line_source.ts";
import { type Logger, SILENT_LOGGER } from "../log.ts";
import { Wake } from "../_wake.ts";

/** Command run when no other is given: found through `PATH`. */
export const DEFAULT_JOURNALCTL = "journalctl";
/** Most journal entries held in memory (sent and unacknowledged, or waiting to be sent). */
export const MAX_JOURNAL_BUFFERED_ENTRIES = 20_000;
/** Most bytes of journal lines held in memory. */
export const MAX_JOURNAL_BUFFERED_BYTES = 16 * 1024 * 1024;
/**
 * Longest line of journalctl's JSON output read, in bytes. With `--all`
 * fields are not cut; a longer entry is skipped, counted and logged.
 */
export const MAX_JOURNAL_JSON_LINE_BYTES = 1024 * 1024;
/** First delay before journalctl is started again after it exited, in milliseconds. */
export const DEFAULT_JOURNAL_RESTART_DELAY_MS = 1_000;
/** Longest delay between two restarts of journalctl, in milliseconds. */
export const MAX_JOURNAL_RESTART_DELAY_MS = 30_000;
/** Characters of journalctl's stderr kept for the log line when it exits. */
const STDERR_TAIL_CHARS = 512;
/** Warnings of one kind logged before they are only counted. */
const MAX_WARNINGS = 10;
/** Settled entries popped before the array is compacted (keeps popping O(1) on average). */
const COMPACT_AFTER_ENTRIES = 4096;

/** Options of {@linkcode JournalSource}. */
export interface JournalSourceOptions {
  /**
   * Units to read (`--unit`); all entries when empty.
   * @default {[]}
   */
  units?: readonly string[];
  /**
   * The journalctl executable.
   * @default {DEFAULT_JOURNALCTL} (`journalctl`, found through PATH)
   */
  command?: string;
  /** Saved cursor: resume after this entry. */
  cursor?: string;
  /**
   * Without a cursor, first look up the newest entry and start after it (so
   * its cursor can be saved at once).
   * @default {true}
   */
  probeStart?: boolean;
  /** Host name for entries without `_HOSTNAME`. */
  fallbackHostname: string;
  /** Called when entries are ready to read. */
  onChange?: () => void;
  /**
   * First delay before restarting an exited journalctl, in milliseconds.
   * @default {DEFAULT_JOURNAL_RESTART_DELAY_MS} (1 s)
   */
  restartDelayMs?: number;
  /**
   * Most entries held in memory.
   * @default {MAX_JOURNAL_BUFFERED_ENTRIES} (20,000)
   */
  maxBufferedEntries?: number;
  /**
   * Timers.
   * @default {SYSTEM_CLOCK}
   */
  clock?: Clock;
  /**
   * Where problems go.
   * @default {SILENT_LOGGER}
   */
  logger?: Logger;
}

/** Counters of a {@linkcode JournalSource}. */
export interface JournalStats {
  /** Entries read from journalctl and queued. */
  entries: number;
  /** Output lines that were not usable entries (bad JSON, no cursor, too long). */
  malformed: number;
  /** Entries dropped because journalctl repeated them. */
  repeated: number;
  /** Times journalctl was started again after it exited. */
  restarts: number;
}

const PENDING = 0;
const SENT = 1;
const DONE = 2;

interface Entry {
  readonly origin: JournalStream;
  readonly position: number;
  readonly cursor: string;
  /** The line, or undefined when it is too long to send. */
  readonly line: Uint8Array | undefined;
  readonly size: number;
  state: number;
}

/** One journal stream (one seqnum id) as the agent's in-flight ring sees it. */
class JournalStream implements LineOrigin {
  readonly path = "journal";
  readonly streamBytes: Uint8Array;
  inFlight = 0;
  /** Newest position queued, to drop entries journalctl repeats. */
  lastPosition = -1;

  constructor(
    readonly stream: string,
    readonly owner: JournalSource,
  ) {
    this.streamBytes = new TextEncoder().encode(stream);
  }

  acknowledge(position: number): void {
    this.owner.settle(this, position, true);
  }

  skip(position: number): void {
    this.owner.settle(this, position, false);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Follows the systemd journal through journalctl.
 *
 * @example
 * ```ts
 * const journal = new JournalSource({ fallbackHostname: "web-01", units: ["ssh.service"] });
 * await journal.start();
 * await journal.read({
 *   hasRoom: () => true,
 *   line: (origin, line, position) => origin.acknowledge(position),
 *   overflow: () => {},
 * });
 * console.log(journal.ackedCursor);
 * await journal.close();
 * ```
 */
export class JournalSource implements LineSource {
  /** Label of the source in logs and metrics. */
  readonly path = "journal";
  /** Counters. */
  readonly stats: JournalStats = { entries: 0, malformed: 0, repeated: 0, restarts: 0 };
  readonly #options: JournalSourceOptions;
  readonly #command: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #maxEntries: number;
  readonly #streams = new Map<string, JournalStream>();
  readonly #room = new Wake();
  readonly #stop = new AbortController();
  #entries: Entry[] = [];
  #head = 0;
  #next = 0;
  #bufferedBytes = 0;
  #ackedCursor: string | undefined;
  #lastCursor: string | undefined;
  #child: Deno.ChildProcess | undefined;
  #readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  #loop: Promise<void> | undefined;
  #closed = false;

  /**
   * @param options Units, command, saved cursor and callbacks.
   */
  constructor(options: JournalSourceOptions) {
    this.#options = options;
    this.#command = options.command ?? DEFAULT_JOURNALCTL;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#maxEntries = options.maxBufferedEntries ?? MAX_JOURNAL_BUFFERED_ENTRIES;
    this.#ackedCursor = options.cursor;
    this.#lastCursor = options.cursor;
  }

  /**
   * Cursor of the newest entry that was acknowledged (or filtered out) with
   * every entry before it: where a restart resumes. Undefined until known.
   */
  get ackedCursor(): string | undefined {
    return this.#ackedCursor;
  }

  /** Whether entries wait to be handed out. */
  get wantsRead(): boolean {
    return this.#next < this.#entries.length && !this.#closed;
  }

  /** Entries held in memory (unacknowledged or not yet sent). */
  get bufferedEntries(): number {
    return this.#entries.length - this.#head;
  }

  /**
   * Starts journalctl (after looking up the newest entry when there is no
   * cursor).
   *
   * @returns Resolves once journalctl runs.
   * @throws {Error} When journalctl cannot be started at all (not installed, not executable).
   */
  async start(): Promise<void> {
    if (this.#loop !== undefined) throw new TypeError("Cannot start the journal source twice");
    if (this.#lastCursor === undefined && (this.#options.probeStart ?? true)) {
      const newest = await this.#probe();
      if (newest !== undefined) {
        this.#ackedCursor = newest;
        this.#lastCursor = newest;
      }
    }
    const child = this.#spawn();
    this.#loop = this.#run(child);
  }

  /**
   * Hands entries to the consumer, in journal order, while it has room.
   *
   * @param consumer Receives the lines.
   * @returns The number of entries handed out.
   */
  read(consumer: LineConsumer): Promise<number> {
    let count = 0;
    while (this.#next < this.#entries.length && !this.#closed) {
      if (!consumer.hasRoom()) break;
      const entry = this.#entries[this.#next++]!;
      if (entry.state !== PENDING) continue;
      // Marked first: the consumer may settle it at once (filtered out).
      entry.state = SENT;
      if (entry.line === undefined) {
        consumer.overflow(entry.origin, entry.size, entry.position);
      } else {
        consumer.line(entry.origin, entry.line, entry.position, entry.size);
      }
      count++;
    }
    if (count > 0) consumer.endOfChunk?.();
    return Promise.resolve(count);
  }

  /** Makes every sent, unacknowledged entry pending again (after a reconnect). */
  rewind(): void {
    for (let i = this.#head; i < this.#next; i++) {
      const entry = this.#entries[i]!;
      if (entry.state === SENT) entry.state = PENDING;
    }
    for (const stream of this.#streams.values()) stream.inFlight = 0;
    this.#next = this.#head;
  }

  /**
   * Records the outcome of a handed-out entry. Called through its stream's
   * `acknowledge()` (the server answered, in send order) or `skip()` (not sent).
   *
   * @param stream The entry's stream.
   * @param position The entry's sequence number.
   * @param acknowledged True for an ACK, false for a skip.
   */
  settle(stream: JournalStream, position: number, acknowledged: boolean): void {
    let found: Entry | undefined;
    if (acknowledged) {
      // ACKs come in send order: the entry is the oldest sent one of its stream.
      for (let i = this.#head; i < this.#next; i++) {
        const e = this.#entries[i]!;
        if (e.state === SENT && e.origin === stream && e.position === position) {
          found = e;
          break;
        }
      }
      if (stream.inFlight > 0) stream.inFlight--;
    } else {
      // A skip happens while the entry is handed out: it is the newest one.
      for (let i = this.#next - 1; i >= this.#head; i--) {
        const e = this.#entries[i]!;
        if (e.state === SENT && e.origin === stream && e.position === position) {
          found = e;
          break;
        }
      }
    }
    if (found === undefined) return;
    found.state = DONE;
    this.#advance();
  }

  /** Stops journalctl and releases everything. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) {
      await this.#loop;
      return;
    }
    this.#closed = true;
    this.#stop.abort();
    this.#room.notify();
    this.#terminate();
    await this.#loop;
  }

  /** Same as {@linkcode JournalSource.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Pops settled entries off the front, moving the acknowledged cursor. */
  #advance(): void {
    const before = this.#head;
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.state === DONE) {
      const entry = this.#entries[this.#head++]!;
      this.#ackedCursor = entry.cursor;
      this.#bufferedBytes -= entry.size;
    }
    if (this.#head === before) return;
    // Compact now and then, so popping stays O(1) on average.
    if (this.#head >= COMPACT_AFTER_ENTRIES && this.#head * 2 >= this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#next -= this.#head;
      this.#head = 0;
    }
    this.#room.notify();
  }

  #args(follow: boolean): string[] {
    const args = ["--output=json", "--all", "--no-pager"];
    if (follow) {
      args.push("--follow");
      args.push(
        this.#lastCursor === undefined ? "--lines=0" : `--after-cursor=${this.#lastCursor}`,
      );
    } else {
      args.push("--lines=1");
    }
    for (const unit of this.#options.units ?? []) args.push(`--unit=${unit}`);
    return args;
  }

  /** Runs journalctl once without following: the cursor of the newest entry, if any. */
  async #probe(): Promise<string | undefined> {
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command(this.#command, {
        args: this.#args(false),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: this.#stop.signal,
      }).output();
    } catch (error) {
      throw this.#spawnError(error);
    }
    if (!output.success) {
      this.#log.warn("journalctl could not look up the newest entry, starting at the end", {
        code: output.code,
        stderr: tail(decoder.decode(output.stderr)),
      });
      return undefined;
    }
    const lines = decoder.decode(output.stdout).split("\n").filter((l) => l.trim().length > 0);
    const last = lines.at(-1);
    if (last === undefined) return undefined;
    try {
      const cursor = (JSON.parse(last) as Record<string, unknown>)["__CURSOR"];
      return typeof cursor === "string" ? cursor : undefined;
    } catch {
      return undefined;
    }
  }

  #spawn(): Deno.ChildProcess {
    const args = this.#args(true);
    try {
      const child = new Deno.Command(this.#command, {
        args,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      this.#log.debug("journalctl started", { args: args.join(" ") });
      return child;
    } catch (error) {
      throw this.#spawnError(error);
    }
  }

  #spawnError(error: unknown): Error {
    const why = error instanceof Deno.errors.NotFound
      ? "not found (is systemd's journalctl installed and in PATH?)"
      : errorMessage(error);
    return new Error(`Cannot run ${this.#command} for --journal: ${why}`);
  }

  /** Reads journalctl until it exits, then starts it again after a delay, until closed. */
  async #run(first: Deno.ChildProcess): Promise<void> {
    let child: Deno.ChildProcess | undefined = first;
    const initialDelayMs = this.#options.restartDelayMs ?? DEFAULT_JOURNAL_RESTART_DELAY_MS;
    let delayMs = initialDelayMs;
    while (!this.#closed) {
      if (child === undefined) {
        try {
          child = this.#spawn();
          this.stats.restarts++;
        } catch (error) {
          this.#log.warn(errorMessage(error));
        }
      }
      if (child !== undefined) {
        const entriesBefore = this.stats.entries;
        const { code, stderr } = await this.#consume(child);
        child = undefined;
        if (this.#closed) break;
        if (this.stats.entries > entriesBefore) delayMs = initialDelayMs;
        this.#log.warn("journalctl exited, starting it again", {
          code,
          stderr,
          retryInMs: delayMs,
        });
      }
      await sleep(this.#clock, delayMs, this.#stop.signal);
      delayMs = Math.min(delayMs * 2, MAX_JOURNAL_RESTART_DELAY_MS);
    }
  }

  /** Reads one journalctl process to its end. */
  async #consume(child: Deno.ChildProcess): Promise<{ code: number; stderr: string }> {
    this.#child = child;
    const out = child.stdout.getReader();
    const err = child.stderr.getReader();
    this.#readers = [out, err];
    if (this.#closed) this.#terminate();
    let stderr = "";
    const readErr = (async () => {
      try {
        for (;;) {
          const { value, done } = await err.read();
          if (done) break;
          stderr = tail(stderr + decoder.decode(value, { stream: true }));
        }
      } catch {
        // Cancelled at close.
      }
    })();
    const splitter = new LineSplitter({ maxLineBytes: MAX_JOURNAL_JSON_LINE_BYTES });
    const sink = {
      line: (bytes: Uint8Array) => this.#onJson(bytes),
      overflow: (bytes: number) => this.#malformed(`entry of ${bytes} bytes is too long`),
    };
    try {
      for (;;) {
        while (
          !this.#closed && (this.bufferedEntries >= this.#maxEntries ||
            this.#bufferedBytes >= MAX_JOURNAL_BUFFERED_BYTES)
        ) {
          // Full: stop reading, so the pipe fills and journalctl waits.
          await this.#room.wait();
        }
        if (this.#closed) break;
        const { value, done } = await out.read();
        if (done) break;
        const before = this.#entries.length;
        splitter.pushBytes(value, sink);
        if (this.#entries.length > before) this.#options.onChange?.();
      }
    } catch (error) {
      if (!this.#closed) {
        this.#log.warn("cannot read journalctl's output", { reason: errorMessage(error) });
      }
    } finally {
      this.#terminate();
    }
    const status = await child.status;
    await readErr;
    this.#child = undefined;
    this.#readers = [];
    return { code: status.code, stderr: stderr.trim() };
  }

  /** Kills journalctl and cancels its pipes, so nothing waits for a process that lingers. */
  #terminate(): void {
    const child = this.#child;
    if (child !== undefined) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
    }
    for (const reader of this.#readers) reader.cancel().catch(() => {});
  }

  #onJson(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(bytes));
    } catch {
      this.#malformed("output line is not JSON");
      return;
    }
    const result = journalEntryToLine(parsed, {
      fallbackHostname: this.#options.fallbackHostname,
      nowMs: Date.now(),
    });
    if (!result.ok) {
      this.#malformed(result.reason);
      return;
    }
    const { stream: id, position, cursor, line } = result.entry;
    let stream = this.#streams.get(id);
    if (stream === undefined) {
      stream = new JournalStream(id, this);
      this.#streams.set(id, stream);
    }
    this.#lastCursor = cursor;
    if (position <= stream.lastPosition) {
      // journalctl repeated an entry (or went back in time): it was queued already.
      this.stats.repeated++;
      return;
    }
    stream.lastPosition = position;
    const encoded = encoder.encode(line);
    const fits = encoded.length <= MAX_EVENT_MESSAGE_BYTES;
    const entry: Entry = {
      origin: stream,
      position,
      cursor,
      line: fits ? encoded : undefined,
      size: fits ? encoded.length + 1 : encoded.length,
      state: PENDING,
    };
    this.#entries.push(entry);
    this.#bufferedBytes += entry.size;
    this.stats.entries++;
  }

  #malformed(reason: string): void {
    if (++this.stats.malformed <= MAX_WARNINGS) {
      this.#log.warn("skipping an unusable journal entry", { reason });
    }
  }
}

function tail(text: string): string {
  return text.length > STDERR_TAIL_CHARS ? text.slice(-STDERR_TAIL_CHARS) : text;
}
