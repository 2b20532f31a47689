/**
 * Helpers of the fault-injection suite (docs/DELIVERY.md): a writer
 * of numbered lines `line <file>-<n>` that behaves like a real logging
 * program (one open descriptor in append mode, reopened on request like
 * after a `HUP`, lines sometimes written in two parts), an `nms-agent run`
 * subprocess that can be killed, and the check that the database holds
 * every number exactly once, in order per file.
 *
 * Also used by the soak run (tests/soak/soak.ts).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { watchChild } from "../_harness/watched_child.ts";
import { prng } from "../_harness/prng.ts";
import { writeAll } from "../_harness/write_all.ts";

const encoder = new TextEncoder();

/** Options of {@linkcode NumberedWriter}. */
export interface NumberedWriterOptions {
  /**
   * Lines per write.
   * @default {20}
   */
  linesPerWrite?: number;
  /**
   * Pause between writes of the background loop, in ms.
   * @default {2}
   */
  intervalMs?: number;
  /**
   * Share of writes that end in the middle of a line, finished by the next write.
   * @default {0.2}
   */
  partialShare?: number;
  /**
   * Bytes of filler appended to each line, to make lines longer.
   * @default {0}
   */
  padBytes?: number;
  /** Random numbers; seeded for replays. @default {prng(1)} */
  random?: () => number;
}

/**
 * Appends numbered lines `line <name>-<n> <filler>` to a file through one
 * open descriptor, as a logging program does: after a rename the lines go
 * on into the renamed file until {@linkcode NumberedWriter.reopen}; after a
 * truncation they go on at the new end (`O_APPEND`).
 */
export class NumberedWriter {
  /** The file written. */
  readonly path: string;
  /** The name in the lines. */
  readonly name: string;
  #file: Deno.FsFile | undefined;
  #next = 0;
  #partial: Uint8Array | undefined;
  #loop: Promise<void> | undefined;
  #running = false;
  #paused = 0;
  #busy: Promise<void> = Promise.resolve();
  readonly #options: Required<Omit<NumberedWriterOptions, "random">>;
  readonly #random: () => number;

  /**
   * @param path The file to append to (created when missing).
   * @param name The file's name in the lines (no spaces).
   * @param options Batch size, pace, partial lines.
   */
  constructor(path: string, name: string, options: NumberedWriterOptions = {}) {
    this.path = path;
    this.name = name;
    this.#options = {
      linesPerWrite: options.linesPerWrite ?? 20,
      intervalMs: options.intervalMs ?? 2,
      partialShare: options.partialShare ?? 0.2,
      padBytes: options.padBytes ?? 0,
    };
    this.#random = options.random ?? prng(1);
  }

  /** Numbers written so far (complete lines only count once finished). */
  get written(): number {
    return this.#next - (this.#partial === undefined ? 0 : 1);
  }

  /**
   * Writes `count` lines now (after any write in progress).
   *
   * @param count How many lines.
   * @param allowPartial Whether the write may end in the middle of a line.
   */
  write(count: number, allowPartial = true): Promise<void> {
    const run = this.#busy.then(() => this.#write(count, allowPartial));
    this.#busy = run.catch(() => {});
    return run;
  }

  async #write(count: number, allowPartial: boolean): Promise<void> {
    this.#file ??= await Deno.open(this.path, { append: true, create: true });
    const parts: Uint8Array[] = [];
    if (this.#partial !== undefined) parts.push(this.#partial);
    this.#partial = undefined;
    const pad = "x".repeat(this.#options.padBytes);
    for (let i = 0; i < count; i++) {
      parts.push(encoder.encode(`line ${this.name}-${this.#next++}${pad ? " " + pad : ""}\n`));
    }
    if (allowPartial && count > 0 && this.#random() < this.#options.partialShare) {
      // End in the middle of the next line; the next write finishes it.
      const line = encoder.encode(`line ${this.name}-${this.#next++} partial\n`);
      const cut = 1 + Math.floor(this.#random() * (line.length - 2));
      parts.push(line.subarray(0, cut));
      this.#partial = line.subarray(cut);
    }
    let length = 0;
    for (const part of parts) length += part.length;
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    await writeAll(this.#file, bytes);
  }

  /** Finishes a partial line, if any. */
  finishLine(): Promise<void> {
    return this.write(0, false);
  }

  /** Starts writing in the background until {@linkcode NumberedWriter.stop}. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        if (this.#paused === 0) await this.write(this.#options.linesPerWrite);
        await new Promise((resolve) => setTimeout(resolve, this.#options.intervalMs));
      }
    })();
  }

  /**
   * Stops the background loop after its current write, optionally finishing a partial line.
   *
   * @param finish Whether to complete a partial line.
   * @returns Resolves when no write is in progress.
   */
  async pause(finish = true): Promise<void> {
    this.#paused++;
    await this.#busy;
    if (finish) await this.finishLine();
  }

  /** Lets the background loop write again. */
  resume(): void {
    if (this.#paused > 0) this.#paused--;
  }

  /**
   * Closes and reopens the path (what a logging program does on `HUP` after
   * a rotation), after finishing a partial line in the old file.
   */
  async reopen(): Promise<void> {
    await this.pause();
    this.#file?.close();
    this.#file = undefined;
    this.resume();
  }

  /**
   * Stops writing, finishes a partial line and closes the file.
   *
   * @returns The number of lines written (`line <name>-0` to `-(n-1)`).
   */
  async stop(): Promise<number> {
    this.#running = false;
    await this.#loop;
    await this.finishLine();
    await this.#busy;
    this.#file?.close();
    this.#file = undefined;
    return this.#next;
  }
}

/** What the database holds, compared with what was written. */
export interface DeliveryReport {
  /** Lines expected in total. */
  readonly expected: number;
  /** Numbered lines stored (duplicates included). */
  readonly stored: number;
  /** Numbers never stored. */
  readonly lost: number;
  /** Extra copies of numbers stored more than once. */
  readonly duplicated: number;
  /** Lines stored after a higher number of the same file (by id). */
  readonly outOfOrder: number;
  /** Gap events stored (flag `gap`). */
  readonly gaps: number;
  /** Gap event messages, for assertions. */
  readonly gapMessages: readonly string[];
  /** Stored lines that are none of the numbered lines (fragments). */
  readonly foreign: readonly string[];
  /** A few examples of lost numbers per file, for the failure message. */
  readonly lostExamples: string;
}

/** `logs.flags` bit of gap events (server/store/store.ts EVENT_FLAGS.gap). */
const FLAG_GAP = 2;
/** `logs.flags` bit of NMS's own events (EVENT_FLAGS.internal). */
const FLAG_INTERNAL = 4;

const LINE_PATTERN = /^line (\S+)-(\d+)(?: |$)/;

/**
 * Reads the server's SQLite file (read-only; the server may be running) and
 * checks that every expected number was stored exactly once, in order per file.
 *
 * @param dbPath The server's database file.
 * @param expected Lines written per file name.
 * @returns The counts.
 */
export function checkDelivery(
  dbPath: string,
  expected: ReadonlyMap<string, number>,
): DeliveryReport {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    // Iterated, not loaded at once: a soak run stores millions of lines.
    const rows = db.prepare("SELECT raw, flags FROM logs ORDER BY id").iterate() as Iterable<{
      raw: string;
      flags: number;
    }>;
    const seen = new Map<string, Uint32Array>();
    const last = new Map<string, number>();
    for (const [name, count] of expected) seen.set(name, new Uint32Array(count));
    let stored = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    const gapMessages: string[] = [];
    const foreign: string[] = [];
    for (const { raw, flags } of rows) {
      if (flags & FLAG_INTERNAL) continue;
      if (flags & FLAG_GAP) {
        gapMessages.push(raw);
        continue;
      }
      const match = LINE_PATTERN.exec(raw);
      const counts = match ? seen.get(match[1]!) : undefined;
      const n = match ? Number(match[2]) : -1;
      if (counts === undefined || n >= counts.length) {
        foreign.push(raw.slice(0, 120));
        continue;
      }
      stored++;
      if (counts[n]! > 0) duplicated++;
      counts[n]!++;
      const previous = last.get(match![1]!) ?? -1;
      if (n < previous) outOfOrder++;
      else last.set(match![1]!, n);
    }
    let lost = 0;
    const examples: string[] = [];
    let total = 0;
    for (const [name, counts] of seen) {
      total += counts.length;
      const missing: number[] = [];
      for (let i = 0; i < counts.length; i++) if (counts[i] === 0) missing.push(i);
      lost += missing.length;
      if (missing.length > 0) examples.push(`${name}: ${missing.slice(0, 10).join(",")}`);
    }
    return {
      expected: total,
      stored,
      lost,
      duplicated,
      outOfOrder,
      gaps: gapMessages.length,
      gapMessages,
      foreign,
      lostExamples: examples.join("; "),
    };
  } finally {
    db.close();
  }
}

/**
 * Counts numbered lines stored so far (fast; for waiting).
 *
 * @param dbPath The server's database file.
 * @param name Only lines of this file name.
 * @returns Stored events that are not NMS's own or gap events, or -1 when unreadable.
 */
export function countStored(dbPath: string, name?: string): number {
  try {
    const db = new DatabaseSync(dbPath, { readOnly: true });
    try {
      const where = `(flags & ${FLAG_INTERNAL | FLAG_GAP}) = 0` +
        (name === undefined ? "" : " AND raw LIKE ?");
      const statement = db.prepare(`SELECT count(*) AS n FROM logs WHERE ${where}`);
      const row = (name === undefined ? statement.get() : statement.get(`line ${name}-%`)) as {
        n: number;
      };
      return row.n;
    } finally {
      db.close();
    }
  } catch {
    // Not created yet, or busy: try again later.
    return -1;
  }
}

/** A port that was free a moment ago: listen on port 0, note the port, close. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A temp directory removed on dispose. */
export async function tempDir(prefix = "nms-fault-"): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** Most characters of an agent's stderr kept (its tail). */
const MAX_STDERR_CHARS = 256 * 1024;

/** Options of {@linkcode spawnAgentProcess}. */
export interface AgentProcessOptions {
  /** Server port on 127.0.0.1. */
  readonly port: number;
  /** Files to follow. */
  readonly paths: readonly string[];
  /** State directory. */
  readonly stateDir: string;
  /** Directory for the password file. */
  readonly workDir: string;
  /**
   * Admin password.
   * @default {"admin"}
   */
  readonly password?: string;
  /** Extra flags. */
  readonly args?: readonly string[];
  /**
   * A command that runs `deno` for it, with its arguments, e.g.
   * `["prlimit", "--nofile=256"]` to start it under a descriptor limit.
   * @default {[]}
   */
  readonly wrapper?: readonly string[];
}

/** A running `nms-agent run`. */
export interface AgentProcess {
  readonly pid: number;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
  /** Whether it logged `state=connected` since it started. */
  connected(): boolean;
  /** Sends a signal and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `deno run -A agent/main.ts run` as a subprocess (killable with
 * SIGKILL, unlike an in-process agent).
 *
 * @param options Server port, paths, state directory.
 * @returns The process; dispose kills it.
 */
export async function spawnAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  const passwordFile = join(options.workDir, "agent-password");
  await Deno.writeTextFile(passwordFile, `${options.password ?? "admin"}\n`, { mode: 0o600 });
  const [program, ...wrapperArgs] = [...(options.wrapper ?? []), Deno.execPath()];
  const child = new Deno.Command(program!, {
    args: [
      ...wrapperArgs,
      "run",
      "-A",
      join(import.meta.dirname!, "../../agent/main.ts"),
      "run",
      "--server",
      `127.0.0.1:${options.port}`,
      "--user",
      "admin",
      "--password-file",
      passwordFile,
      "--state-dir",
      options.stateDir,
      ...options.paths.flatMap((p) => ["--path", p]),
      ...(options.args ?? []),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let connected = false;
  const watched = watchChild(child, {
    onStderr: (text) => {
      if (!connected && text.includes("state=connected")) connected = true;
    },
    // Only the tail is kept: a soak run logs for a long time.
    maxStderrChars: MAX_STDERR_CHARS,
  });
  const stop = watched.stop;
  return {
    pid: child.pid,
    stderr: watched.stderr,
    connected: () => connected,
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
    },
  };
}

/**
 * Sleeps; only for pacing faults (when to inject one), never to wait for an outcome.
 *
 * @param ms How long.
 */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Compresses a file with gzip into `<path>.gz` and removes the original, as
 * logrotate's `compress` does.
 *
 * @param path The rotated file.
 */
export async function gzipFile(path: string): Promise<void> {
  const input = await Deno.open(path, { read: true });
  const output = await Deno.open(`${path}.gz`, { write: true, create: true, truncate: true });
  await input.readable.pipeThrough(new CompressionStream("gzip")).pipeTo(output.writable);
  await Deno.remove(path);
}
