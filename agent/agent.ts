/**
 * The agent: wires file followers to a protocol session, keeps the session
 * alive across server outages, checkpoints acknowledged offsets and reports
 * its state (`connecting`, `connected`, `disconnected`) through the logger.
 *
 * Data path (one line, file to ACK):
 * 1. `Deno.watchFs` reports a change in the file's directory (file_follower.ts).
 * 2. The pump loop asks each follower to read while the window has room.
 * 3. The follower reads new bytes into its reused buffer and splits them
 *    (protocol/line_splitter.ts), handing each line with its end offset here.
 * 4. The line is queued as `EVENT <stream> <position> <line>`; after each
 *    read chunk the batch is written with one `conn.write` (client.ts).
 * 5. The server's ACK, matched in order, advances the incarnation's
 *    acknowledged offset (incarnation.ts), and a coalesced save writes it to
 *    the state file (state_file.ts).
 *
 * On disconnect the agent retries with backoff (backoff.ts) and, once
 * reconnected, rewinds every file to its first unacknowledged byte, so lines
 * in flight are resent (the server drops duplicates by stream and position)
 * and lines written meanwhile are read from the file.
 *
 * Sources, filters and failover (issues 3 and 9): glob paths add and drop
 * followers as files appear and go (glob_watcher.ts); the journal is one more
 * source (journal_source.ts, its cursor saved beside the state file); filtered
 * lines are marked done in order instead of sent (line_filter.ts); and with
 * several servers a failed connection or dropped session moves on to the
 * next server at once, the backoff applying once every server failed.
 *
 * @module
 */

import { errorMessage } from "../common/error_message.ts";
import { resolve } from "./_posix_path.ts";
import { DEFAULT_HEARTBEAT_SECONDS } from "../protocol/mod.ts";
import { Wake } from "./_wake.ts";
import { Backoff, DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS } from "./backoff.ts";
import { AccessDeniedError, Client, type ClientHandler, type ClientTls } from "./client.ts";
import { type Clock, sleep, SYSTEM_CLOCK, type TimerId } from "./clock.ts";
import { DEFAULT_POLL_INTERVAL_MS, FileFollower } from "./follow/file_follower.ts";
import { type HostInfo, readHostInfo } from "./host_info.ts";
// Sources, filters and failover (issue 3, issue 9).
import { GlobWatcher } from "./sources/glob_watcher.ts";
import { JournalCursorFile } from "./checkpoint/journal_cursor_file.ts";
import { JournalSource } from "./journal/journal_source.ts";
import { LineFilter, type LineFilterOptions } from "./sources/line_filter.ts";
import type { LineConsumer, LineOrigin, LineSource } from "./line_source.ts";
import { ExcludeList, hasGlobMagic } from "./sources/path_glob.ts";
import {
  DEFAULT_MAX_IN_FLIGHT_BYTES,
  DEFAULT_MAX_IN_FLIGHT_LINES,
  MAX_EVENT_MESSAGE_BYTES,
} from "./limits.ts";
import { createLogger, type Logger } from "./log.ts";
import { type FileState, StateFile } from "./checkpoint/state_file.ts";

/** Longest wait at shutdown for lines in flight to be acknowledged, in milliseconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;
/** Longest wait for `ACK OK Goodbye` at shutdown, in milliseconds. */
export const BYE_TIMEOUT_MS = 2_000;
/** Commands unanswered this long close the session as dead, in milliseconds. */
export const DEFAULT_ACK_TIMEOUT_MS = 60_000;
/** Least time between two state file writes, in milliseconds (writes are coalesced). */
export const DEFAULT_STATE_SAVE_INTERVAL_MS = 200;
/** A session that lasted this long resets the reconnect backoff, in milliseconds. */
export const BACKOFF_RESET_AFTER_MS = 10_000;
/** Longest interval of the heartbeat and watchdog tick, in milliseconds. */
export const MAX_TICK_MS = 1_000;
/** Warnings of one kind (dropped lines, refused lines) logged before they are only counted. */
export const MAX_REPEATED_WARNINGS = 10;

/** What the agent is doing. */
export type AgentState =
  | "starting"
  | "connecting"
  | "connected"
  | "disconnected"
  | "stopping"
  | "stopped";

/** Options of {@linkcode Agent} and `runAgent()`. */
export interface RunAgentOptions {
  /** Server host name or IP address. */
  hostname: string;
  /** Server TCP port. */
  port: number;
  /** User to log in as. */
  username: string;
  /** That user's password. */
  password: string;
  /** Files to follow; relative paths are resolved against the working directory. */
  paths: readonly string[];
  /**
   * Directory of the state file. Without it, acknowledged offsets live in
   * memory only, so after a restart the agent starts at the end of each
   * existing file again and lines written while it was down are not sent.
   */
  stateDir?: string;
  /**
   * Seconds between heartbeats.
   * @default {DEFAULT_HEARTBEAT_SECONDS} (30 s)
   */
  heartbeatSeconds?: number;
  /**
   * Most lines sent and not yet acknowledged.
   * @default {DEFAULT_MAX_IN_FLIGHT_LINES} (10,000)
   */
  maxInFlightLines?: number;
  /**
   * Most file bytes sent and not yet acknowledged.
   * @default {DEFAULT_MAX_IN_FLIGHT_BYTES} (8 MiB)
   */
  maxInFlightBytes?: number;
  /** Connect with TLS (docs/SECURITY.md); absent: plain TCP. */
  tls?: ClientTls;
  /**
   * First reconnect delay ceiling, in milliseconds.
   * @default {DEFAULT_BACKOFF_INITIAL_MS} (100 ms)
   */
  backoffInitialMs?: number;
  /**
   * Largest reconnect delay, in milliseconds.
   * @default {DEFAULT_BACKOFF_MAX_MS} (30 s)
   */
  backoffMaxMs?: number;
  /**
   * Longest wait at shutdown for lines in flight, in milliseconds.
   * @default {DEFAULT_SHUTDOWN_TIMEOUT_MS} (5 s)
   */
  shutdownTimeoutMs?: number;
  /**
   * Unanswered commands older than this close the session, in milliseconds.
   * @default {DEFAULT_ACK_TIMEOUT_MS} (60 s)
   */
  ackTimeoutMs?: number;
  /**
   * Fallback poll interval of the file followers, in milliseconds.
   * @default {DEFAULT_POLL_INTERVAL_MS} (1 s)
   */
  pollIntervalMs?: number;
  /**
   * Least time between state file writes, in milliseconds.
   * @default {DEFAULT_STATE_SAVE_INTERVAL_MS} (200 ms)
   */
  stateSaveIntervalMs?: number;
  /**
   * Start existing files without saved state at their end (as the paper's client).
   * @default {true}
   */
  startAtEnd?: boolean;
  /**
   * REGISTER fields.
   * @default {await readHostInfo()}
   */
  host?: HostInfo;
  /**
   * Where log lines go.
   * @default {createLogger()} (info and above, to stderr)
   */
  logger?: Logger;
  /**
   * Timers and time.
   * @default {SYSTEM_CLOCK}
   */
  clock?: Clock;
  /**
   * Random numbers in [0, 1) for backoff jitter.
   * @default {Math.random}
   */
  random?: () => number;
  /** Stops the agent when aborted, like `stop()`. */
  signal?: AbortSignal;
  // --- Sources, filters and failover (issue 3, issue 9) ---
  /**
   * Further servers, tried in turn after `hostname:port` when a connection
   * fails or drops (round robin; the backoff applies once all failed).
   * @default {[]}
   */
  failoverServers?: readonly AgentServerAddress[];
  /**
   * Patterns removing files from what glob `paths` match (`*.gz`; with a `/`,
   * matched against the whole path). Literal paths are always followed.
   * @default {[]}
   */
  exclude?: readonly string[];
  /** Follow the systemd journal too (journal_source.ts); absent: no journal. */
  journal?: AgentJournalOptions;
  /** Drop lines before sending them (line_filter.ts); absent: send every line. */
  filter?: LineFilterOptions;
}

/** One server of {@linkcode RunAgentOptions.failoverServers}. */
export interface AgentServerAddress {
  /** Host name or IP address. */
  readonly hostname: string;
  /** TCP port. */
  readonly port: number;
}

/** The journal source of {@linkcode RunAgentOptions.journal}. */
export interface AgentJournalOptions {
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

/** Counters of a running agent. */
export interface AgentStats {
  /** Current state. */
  readonly state: AgentState;
  /** Lines read from files (each time, resends included). */
  readonly linesRead: number;
  /** EVENT lines written to the server (resends included). */
  readonly linesSent: number;
  /** Lines the server stored (`ACK OK Event received`). */
  readonly linesStored: number;
  /** Lines the server already had (`ACK OK Duplicate event`). */
  readonly linesDuplicate: number;
  /** Lines the server refused with `ACK FAIL` (not resent). */
  readonly linesFailed: number;
  /** Empty lines, not sent. */
  readonly linesSkipped: number;
  /** Lines over {@linkcode MAX_EVENT_MESSAGE_BYTES}, dropped. */
  readonly linesTooLong: number;
  /** Lines sent and not yet acknowledged. */
  readonly inFlightLines: number;
  /** Successful logins. */
  readonly connects: number;
  /** Connection attempts that failed before the session was ready. */
  readonly connectFailures: number;
  /** Sessions that ended other than by shutdown. */
  readonly disconnects: number;
  /** Lag in bytes at the last heartbeat. */
  readonly lagBytes: number;
  /** Truncations detected. */
  readonly truncations: number;
  /** Rotations detected. */
  readonly rotations: number;
  /** State file writes. */
  readonly stateSaves: number;
  /** Lines dropped by the filter (`--include`, `--exclude-line`, `--min-severity`). */
  readonly linesFiltered: number;
  /** Files followed now (literal paths and glob matches). */
  readonly followedFiles: number;
  /** Journal entries read from journalctl. */
  readonly journalEntries: number;
}

/** A running agent. */
export interface AgentHandle extends AsyncDisposable {
  /** Current state. */
  readonly state: AgentState;
  /** A snapshot of the counters. */
  readonly stats: AgentStats;
  /**
   * Settles when the agent has stopped: resolves after `stop()`, rejects with
   * {@linkcode AccessDeniedError} when the server refused the credentials.
   */
  readonly done: Promise<void>;
  /** Stops reading, waits (bounded) for ACKs, saves state, says BYE and closes. */
  stop(): Promise<void>;
  /**
   * Bytes not yet acknowledged per followed path, measured now (issue 10:
   * `--metrics-port`, agent/metrics_server.ts).
   */
  fileLag(): Promise<FileLag[]>;
}

/** Bytes a followed path is behind: in the file(s) beyond the acknowledged offsets. */
export interface FileLag {
  readonly path: string;
  readonly lagBytes: number;
}

type MutableStats = { -readonly [K in keyof AgentStats]: AgentStats[K] };

/**
 * The agent's engine. Use `runAgent()` from mod.ts rather than this class.
 *
 * @example
 * ```ts
 * const agent = new Agent({ hostname: "127.0.0.1", port: 8080, username: "admin", password: "admin", paths: ["/var/log/syslog"] });
 * await agent.start();
 * await agent.stop();
 * ```
 */
export class Agent implements AgentHandle {
  readonly done: Promise<void>;
  readonly #options: RunAgentOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #servers: readonly AgentServerAddress[];
  #serverIndex = 0;
  /** Servers that failed in a row since the last good session or backoff (issue 9). */
  #roundFailures = 0;
  readonly #heartbeatMs: number;
  readonly #backoff: Backoff;
  readonly #wake = new Wake();
  readonly #stopController = new AbortController();
  readonly #counters: MutableStats = {
    state: "starting",
    linesRead: 0,
    linesSent: 0,
    linesStored: 0,
    linesDuplicate: 0,
    linesFailed: 0,
    linesSkipped: 0,
    linesTooLong: 0,
    inFlightLines: 0,
    connects: 0,
    connectFailures: 0,
    disconnects: 0,
    lagBytes: 0,
    truncations: 0,
    rotations: 0,
    stateSaves: 0,
    linesFiltered: 0,
    followedFiles: 0,
    journalEntries: 0,
  };
  #followers: FileFollower[] = [];
  /** Everything the pump reads from: the followers, then the journal. */
  #sources: LineSource[] = [];
  #globs: GlobWatcher[] = [];
  #globDirty = false;
  #exclude = new ExcludeList();
  #journal: JournalSource | undefined;
  #journalCursorFile: JournalCursorFile | undefined;
  #savedJournalCursor: string | undefined;
  #filter: LineFilter | undefined;
  /** Saved positions by path, for followers started later (glob matches). */
  #saved = new Map<string, FileState>();
  /** When the loaded state file was saved (ms since the epoch), if known. */
  #savedAtMs: number | undefined;
  /** Whether a state file was found: glob matches without a position are then new files. */
  #stateFound = false;
  #stateFile: StateFile | undefined;
  #host: HostInfo | undefined;
  #client: Client<LineOrigin> | undefined;
  #stopping = false;
  #startedAt: number;
  #resolveDone!: () => void;
  #rejectDone!: (error: Error) => void;
  #saveChain: Promise<void> = Promise.resolve();
  #saveTimer: TimerId | undefined;
  #lastSaveAt = -Infinity;
  #tickTimer: TimerId | undefined;
  #tickRunning: Promise<void> = Promise.resolve();
  #lastHeartbeatAt = -Infinity;
  #roundRobin = 0;
  #ackedThisSession = 0;

  /** The callbacks the followers hand lines to. */
  readonly #consumer: LineConsumer = {
    hasRoom: () => this.#client !== undefined && this.#client.hasRoom(),
    line: (inc, line, endOffset, bytes, stream) =>
      this.#onLine(inc, line, endOffset, bytes, stream),
    overflow: (inc, bytes, endOffset) => this.#onOverflow(inc, bytes, endOffset),
    endOfChunk: () => void this.#client?.flush(),
  };

  /** The callbacks the session reports ACKs to. */
  readonly #handler: ClientHandler<LineOrigin> = {
    eventAcked: (inc, position, outcome, message) => {
      inc.acknowledge(position);
      this.#ackedThisSession++;
      if (outcome === "stored") this.#counters.linesStored++;
      else if (outcome === "duplicate") this.#counters.linesDuplicate++;
      else {
        this.#counters.linesFailed++;
        if (this.#counters.linesFailed <= MAX_REPEATED_WARNINGS) {
          this.#log.warn("server refused a line, not resending it", {
            path: inc.path,
            position,
            reason: message,
          });
        }
      }
    },
    acksProcessed: () => {
      this.#wake.notify();
      this.#scheduleSave();
    },
    heartbeatFailed: (reason) => this.#log.warn("server refused a heartbeat", { reason }),
  };

  /**
   * @param options Server, credentials, files and tuning.
   */
  constructor(options: RunAgentOptions) {
    validateOptions(options);
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#log = options.logger ?? createLogger();
    this.#servers = [
      { hostname: options.hostname, port: options.port },
      ...(options.failoverServers ?? []),
    ];
    const filter = options.filter ? new LineFilter(options.filter) : undefined;
    this.#filter = filter?.active ? filter : undefined;
    this.#heartbeatMs = (options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS) * 1000;
    this.#backoff = new Backoff({
      initialDelayMs: options.backoffInitialMs ?? DEFAULT_BACKOFF_INITIAL_MS,
      maxDelayMs: options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS,
      ...(options.random ? { random: options.random } : {}),
    });
    this.#startedAt = this.#clock.now();
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    // Callers that only use stop() must not see an unhandled rejection.
    this.done.catch(() => {});
  }

  /** Current state. */
  get state(): AgentState {
    return this.#counters.state;
  }

  /** Bytes behind per followed path (issue 10). */
  fileLag(): Promise<FileLag[]> {
    return Promise.all(
      this.#followers.map(async (f) => ({ path: f.path, lagBytes: await f.lagBytes() })),
    );
  }

  /** A snapshot of the counters. */
  get stats(): AgentStats {
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
      inFlightLines: this.#client?.inFlightLines ?? 0,
      truncations,
      rotations,
      linesTooLong,
      followedFiles: this.#followers.length,
      journalEntries: this.#journal?.stats.entries ?? 0,
    };
  }

  /**
   * Loads the state file, opens and watches every path, then starts
   * connecting in the background.
   *
   * @returns Resolves once lines appended from now on will be delivered.
   * @throws {Error} When the state file is from a newer agent or cannot be written,
   *   or a path is a directory.
   */
  async start(): Promise<void> {
    if (this.#counters.state !== "starting" || this.#followers.length > 0) {
      throw new TypeError("Cannot start the agent twice");
    }
    try {
      this.#host = this.#options.host ?? await readHostInfo();
      this.#saved = await this.#loadState();
      this.#exclude = new ExcludeList(this.#options.exclude ?? []);
      for (const path of new Set(this.#options.paths.map((p) => resolve(p)))) {
        // A glob (issue 3) follows what it matches now and what appears later.
        if (hasGlobMagic(path)) {
          await this.#startGlob(path);
          continue;
        }
        await assertNotDirectory(path);
        // A glob before it may have matched it already.
        if (this.#followers.some((f) => f.path === path)) continue;
        await this.#addFollower(path, this.#options.startAtEnd ?? true);
      }
      if (this.#options.journal !== undefined) await this.#startJournal(this.#options.journal);
      // Saving now surfaces an unwritable state directory at start-up, and
      // records where a first start began (the end of each file).
      if (this.#stateFile !== undefined) await this.#stateFile.save(this.#fileStates());
      // And where the journal starts, when journalctl found its newest entry.
      await this.#saveJournalCursor();
    } catch (error) {
      await Promise.all(this.#globs.map((g) => g.close()));
      await Promise.all(this.#sources.map((s) => s.close()));
      this.#followers = [];
      this.#sources = [];
      this.#counters.state = "stopped";
      throw error;
    }
    this.#log.info("following files", {
      paths: this.#followers.map((f) => f.path).join(","),
      ...(this.#globs.length > 0 ? { patterns: this.#globs.map((g) => g.pattern).join(",") } : {}),
      ...(this.#journal !== undefined ? { journal: true } : {}),
      stateDir: this.#options.stateDir,
    });
    if (this.#options.signal?.aborted) {
      void this.stop();
    } else {
      this.#options.signal?.addEventListener("abort", () => void this.stop(), { once: true });
    }
    void this.#run();
  }

  /**
   * Stops the agent: stops reading, waits up to the shutdown timeout for ACKs,
   * saves state, says BYE and closes everything. Idempotent.
   *
   * @returns Resolves when stopped (also after a fatal error).
   */
  async stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#stopController.abort();
      this.#wake.notify();
    }
    try {
      await this.done;
    } catch {
      // The error is reported through `done`.
    }
  }

  /** Same as {@linkcode Agent.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #loadState(): Promise<Map<string, FileState>> {
    const byPath = new Map<string, FileState>();
    if (this.#options.stateDir === undefined) return byPath;
    const stateFile = new StateFile(this.#options.stateDir);
    const loaded = await stateFile.load();
    switch (loaded.status) {
      case "missing":
        break;
      case "unsupported":
        throw new Error(`Cannot use the agent state file ${stateFile.path}: ${loaded.reason}`);
      case "corrupt": {
        const movedTo = await stateFile.quarantine();
        this.#log.warn("state file unusable, starting afresh", {
          path: stateFile.path,
          reason: loaded.reason,
          movedTo,
        });
        break;
      }
      case "ok":
        for (const entry of loaded.files) byPath.set(entry.path, entry);
        this.#savedAtMs = loaded.savedAtMs;
        this.#stateFound = true;
        break;
    }
    this.#stateFile = stateFile;
    return byPath;
  }

  async #run(): Promise<void> {
    let fatal: Error | undefined;
    try {
      while (!this.#stopping) {
        this.#setState("connecting", { server: this.#server });
        let client: Client<LineOrigin>;
        try {
          client = await this.#connect();
        } catch (error) {
          if (error instanceof AccessDeniedError || error instanceof TypeError) throw error;
          if (this.#stopping) break;
          this.#counters.connectFailures++;
          await this.#nextServer(errorMessage(error));
          continue;
        }
        const reason = await this.#session(client);
        if (reason instanceof AccessDeniedError) throw reason;
        if (this.#stopping) break;
        this.#counters.disconnects++;
        await this.#nextServer(reason.message);
      }
    } catch (error) {
      // Reported through `done` (main.ts prints it as one line).
      fatal = error as Error;
    }
    await this.#shutdown(fatal);
  }

  /** The server connected to, or tried next, as `host:port`. */
  get #server(): string {
    const server = this.#servers[this.#serverIndex]!;
    return `${server.hostname}:${server.port}`;
  }

  /**
   * After a failed connection or a dropped session: moves on to the next
   * server (issue 9), at once while some server of this round is untried,
   * else after the backoff. With one server, always after the backoff.
   */
  async #nextServer(reason: string): Promise<void> {
    const failed = this.#server;
    this.#roundFailures++;
    this.#serverIndex = (this.#serverIndex + 1) % this.#servers.length;
    if (this.#roundFailures < this.#servers.length) {
      this.#setState("disconnected", { server: failed, reason, next: this.#server });
      return;
    }
    this.#roundFailures = 0;
    await this.#retryLater(reason, failed);
  }

  #connect(): Promise<Client<LineOrigin>> {
    const o = this.#options;
    const server = this.#servers[this.#serverIndex]!;
    return Client.connect<LineOrigin>({
      hostname: server.hostname,
      port: server.port,
      username: o.username,
      password: o.password,
      host: this.#host!,
      handler: this.#handler,
      maxInFlightLines: o.maxInFlightLines ?? DEFAULT_MAX_IN_FLIGHT_LINES,
      maxInFlightBytes: o.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES,
      clock: this.#clock,
      signal: this.#stopController.signal,
      ...(o.tls ? { tls: o.tls } : {}),
    });
  }

  async #retryLater(reason: string, server: string = this.#server): Promise<void> {
    const delayMs = this.#backoff.nextDelayMs();
    this.#setState("disconnected", { server, reason, retryInMs: delayMs });
    await sleep(this.#clock, delayMs, this.#stopController.signal);
  }

  /** Runs one connected session until it closes or the agent stops. */
  async #session(client: Client<LineOrigin>): Promise<Error> {
    const startedAt = this.#clock.now();
    this.#client = client;
    this.#ackedThisSession = 0;
    this.#counters.connects++;
    // Resume every file at its first unacknowledged byte (and the journal at
    // its first unacknowledged entry): on this server, or on the next one after a failover.
    for (const source of this.#sources) source.rewind();
    this.#setState("connected", { server: this.#server });
    void client.done.then(() => this.#wake.notify());
    this.#lastHeartbeatAt = -Infinity;
    this.#startTicker(client);
    try {
      await this.#pump(client);
      if (this.#stopping && !client.closed) await this.#finishSession(client);
    } finally {
      this.#stopTicker();
      client.close();
      await this.#tickRunning;
    }
    const reason = await client.done;
    this.#client = undefined;
    if (this.#ackedThisSession > 0 || this.#clock.now() - startedAt >= BACKOFF_RESET_AFTER_MS) {
      this.#backoff.reset();
      this.#roundFailures = 0;
    }
    return reason;
  }

  /** Moves lines from files (and the journal) to the session while the window has room. */
  async #pump(client: Client<LineOrigin>): Promise<void> {
    while (!client.closed && !this.#stopping) {
      let readAny = false;
      // Glob patterns (issue 3): start following files that appeared, drop finished ones.
      if (this.#globDirty) await this.#syncGlobs();
      const sources = this.#sources;
      const count = sources.length;
      // Start with a different source each round so a busy file cannot starve the others.
      this.#roundRobin = count === 0 ? 0 : (this.#roundRobin + 1) % count;
      for (let i = 0; i < count; i++) {
        if (!client.hasRoom()) break;
        const source = sources[(this.#roundRobin + i) % count]!;
        if (!source.wantsRead) continue;
        if (await source.read(this.#consumer) > 0) readAny = true;
        if (client.closed || this.#stopping) break;
      }
      void client.flush();
      if (!readAny) await this.#wake.wait();
    }
  }

  async #finishSession(client: Client<LineOrigin>): Promise<void> {
    const timeoutMs = this.#options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    if (!await client.waitForAcks(timeoutMs)) {
      this.#log.warn("stopping with lines unacknowledged; they are resent on the next start", {
        lines: client.inFlightLines,
      });
    }
    await this.#saveNow();
    if (!client.closed && !await client.bye(BYE_TIMEOUT_MS)) {
      this.#log.warn("server did not acknowledge BYE", { server: this.#server });
    }
  }

  #onLine(
    inc: LineOrigin,
    line: Uint8Array,
    endOffset: number,
    bytes: number,
    stream?: Uint8Array,
  ): void {
    this.#counters.linesRead++;
    if (line.length === 0) {
      inc.skip(endOffset);
      this.#counters.linesSkipped++;
      return;
    }
    // Filtered out (issue 3): consumed, not lost. The line is marked done in
    // order, so the acknowledged offset moves past it once every line before
    // it is acknowledged. Gap events (`stream` set) are never filtered.
    if (this.#filter !== undefined && stream === undefined && !this.#filter.accepts(line)) {
      inc.skip(endOffset);
      this.#counters.linesFiltered++;
      return;
    }
    // The server refuses lines with NUL; keep the rest of the line.
    if (line.indexOf(0) >= 0) {
      line = replaceNul(line);
      if (line.length > MAX_EVENT_MESSAGE_BYTES) {
        this.#onOverflow(inc, bytes, endOffset);
        return;
      }
    }
    const client = this.#client;
    if (client === undefined) return;
    // The line's bytes go to the socket as read: no decoding on the hot path.
    // Invalid UTF-8 is the server's to replace (it decodes with U+FFFD).
    // Gap events go on the incarnation's gap stream (protocol/gap_event.ts).
    client.queueEvent(inc, stream ?? inc.streamBytes, endOffset, line, bytes);
    inc.inFlight++;
    this.#counters.linesSent++;
  }

  #onOverflow(inc: LineOrigin, bytes: number, endOffset: number): void {
    this.#counters.linesTooLong++;
    inc.skip(endOffset);
    if (this.#counters.linesTooLong <= MAX_REPEATED_WARNINGS) {
      this.#log.warn("line too long, dropped", {
        path: inc.path,
        endOffset,
        bytes,
        maxBytes: MAX_EVENT_MESSAGE_BYTES,
      });
    }
  }

  #startTicker(client: Client<LineOrigin>): void {
    const intervalMs = Math.min(MAX_TICK_MS, this.#heartbeatMs);
    const tick = () => {
      this.#tickTimer = this.#clock.setTimeout(tick, intervalMs);
      this.#tickRunning = this.#tickRunning.then(() => this.#onTick(client)).catch(() => {});
    };
    tick();
  }

  #stopTicker(): void {
    if (this.#tickTimer !== undefined) this.#clock.clearTimeout(this.#tickTimer);
    this.#tickTimer = undefined;
  }

  async #onTick(client: Client<LineOrigin>): Promise<void> {
    if (client.closed) return;
    const now = this.#clock.now();
    const ackTimeoutMs = this.#options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    if (client.unanswered > 0 && now - client.lastProgressAt > ackTimeoutMs) {
      client.close(new Error(`No answer from the server for ${ackTimeoutMs} ms`));
      return;
    }
    if (now - this.#lastHeartbeatAt < this.#heartbeatMs) return;
    this.#lastHeartbeatAt = now;
    let lag = 0;
    for (const follower of this.#followers) lag += await follower.lagBytes();
    this.#counters.lagBytes = lag;
    if (client.closed || this.#stopping) return;
    await client.heartbeat((this.#clock.now() - this.#startedAt) / 1000, lag);
  }

  // --- Sources: files, glob patterns and the journal (issue 3) ---

  /** Starts following one file (a literal path, or a glob match). */
  async #addFollower(path: string, startAtEnd: boolean): Promise<FileFollower> {
    const saved = this.#saved.get(path);
    const follower = new FileFollower(path, {
      startAtEnd,
      maxLineBytes: MAX_EVENT_MESSAGE_BYTES,
      pollIntervalMs: this.#options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      onChange: () => this.#wake.notify(),
      clock: this.#clock,
      logger: this.#log,
      ...(saved !== undefined ? { resume: saved } : {}),
      ...(this.#savedAtMs !== undefined ? { resumeSavedAtMs: this.#savedAtMs } : {}),
    });
    this.#followers.push(follower);
    // Files before the journal, so the pump's order stays stable.
    this.#sources.splice(this.#followers.length - 1, 0, follower);
    await follower.start();
    return follower;
  }

  /** Expands a glob path now and watches for files that match later. */
  async #startGlob(pattern: string): Promise<void> {
    const glob = new GlobWatcher(pattern, {
      exclude: this.#exclude,
      rescanIntervalMs: this.#options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      onChange: () => {
        this.#globDirty = true;
        this.#wake.notify();
      },
      clock: this.#clock,
      logger: this.#log,
    });
    this.#globs.push(glob);
    // Files there now start like literal paths: at the saved position, or at
    // their end on a first start. With a state file, a match without a saved
    // position appeared while the agent was stopped: it is read from its start.
    const startAtEnd = (this.#options.startAtEnd ?? true) && !this.#stateFound;
    for (const path of await glob.scan()) {
      if (!this.#followers.some((f) => f.path === path)) await this.#addFollower(path, startAtEnd);
    }
    glob.start();
  }

  /**
   * Follows new glob matches from their first byte, and stops following
   * matches that are gone once their follower holds nothing (rotated files
   * read, acknowledged and closed).
   */
  async #syncGlobs(): Promise<void> {
    this.#globDirty = false;
    const matched = new Set<string>();
    for (const glob of this.#globs) for (const path of await glob.scan()) matched.add(path);
    if (this.#stopping) return;
    const followed = new Set(this.#followers.map((f) => f.path));
    for (const path of matched) {
      if (followed.has(path)) continue;
      this.#log.info("following a new file matching a pattern", { path });
      await this.#addFollower(path, false);
    }
    const literal = new Set(
      this.#options.paths.filter((p) => !hasGlobMagic(p)).map((p) => resolve(p)),
    );
    for (const follower of [...this.#followers]) {
      if (literal.has(follower.path) || matched.has(follower.path)) continue;
      if (follower.current !== undefined || follower.incarnations.length > 0) continue;
      this.#followers = this.#followers.filter((f) => f !== follower);
      this.#sources = this.#sources.filter((s) => s !== follower);
      await follower.close();
      this.#log.info("stopped following a file no pattern matches", { path: follower.path });
    }
  }

  /** Starts journalctl, resuming after the saved cursor (issue 3). */
  async #startJournal(options: AgentJournalOptions): Promise<void> {
    let cursor: string | undefined;
    if (this.#options.stateDir !== undefined) {
      const file = new JournalCursorFile(this.#options.stateDir);
      const loaded = await file.load();
      if (loaded.status === "unsupported") {
        throw new Error(`Cannot use the journal cursor file ${file.path}: ${loaded.reason}`);
      }
      if (loaded.status === "corrupt") {
        const movedTo = await file.quarantine();
        this.#log.warn("journal cursor file unusable, starting at the journal's end", {
          path: file.path,
          reason: loaded.reason,
          movedTo,
        });
      }
      if (loaded.status === "ok") cursor = loaded.cursor;
      this.#journalCursorFile = file;
      this.#savedJournalCursor = cursor;
    }
    const journal = new JournalSource({
      fallbackHostname: this.#host!.hostname,
      onChange: () => this.#wake.notify(),
      clock: this.#clock,
      logger: this.#log,
      ...(options.units !== undefined ? { units: options.units } : {}),
      ...(options.command !== undefined ? { command: options.command } : {}),
      ...(options.restartDelayMs !== undefined ? { restartDelayMs: options.restartDelayMs } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
      // Without a state directory nothing is saved: no need to find the end first.
      probeStart: this.#journalCursorFile !== undefined,
    });
    await journal.start();
    this.#journal = journal;
    this.#sources.push(journal);
  }

  /** Saves the journal's acknowledged cursor when it moved. Never throws. */
  async #saveJournalCursor(): Promise<void> {
    const file = this.#journalCursorFile;
    const cursor = this.#journal?.ackedCursor;
    if (file === undefined || cursor === undefined || cursor === this.#savedJournalCursor) return;
    try {
      await file.save(cursor);
      this.#savedJournalCursor = cursor;
    } catch (error) {
      this.#log.error("cannot save the journal cursor", {
        path: file.path,
        reason: errorMessage(error),
      });
    }
  }

  #fileStates(): FileState[] {
    const states: FileState[] = [];
    for (const follower of this.#followers) {
      const state = follower.state();
      if (state !== undefined) states.push(state);
    }
    return states;
  }

  /** Schedules a coalesced state save at most every `stateSaveIntervalMs`. */
  #scheduleSave(): void {
    if (this.#stateFile === undefined || this.#saveTimer !== undefined || this.#stopping) return;
    const intervalMs = this.#options.stateSaveIntervalMs ?? DEFAULT_STATE_SAVE_INTERVAL_MS;
    const delayMs = Math.max(0, this.#lastSaveAt + intervalMs - this.#clock.now());
    this.#saveTimer = this.#clock.setTimeout(() => {
      this.#saveTimer = undefined;
      void this.#saveNow();
    }, delayMs);
  }

  /** Saves the state file now (after any save in progress). Never throws. */
  #saveNow(): Promise<void> {
    const stateFile = this.#stateFile;
    if (stateFile === undefined) return Promise.resolve();
    this.#saveChain = this.#saveChain.then(async () => {
      this.#lastSaveAt = this.#clock.now();
      try {
        await stateFile.save(this.#fileStates());
        this.#counters.stateSaves++;
      } catch (error) {
        this.#log.error("cannot save the state file", {
          path: stateFile.path,
          reason: errorMessage(error),
        });
      }
      await this.#saveJournalCursor();
    });
    return this.#saveChain;
  }

  async #shutdown(fatal: Error | undefined): Promise<void> {
    this.#stopping = true;
    this.#setState("stopping");
    this.#stopTicker();
    if (this.#saveTimer !== undefined) this.#clock.clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    await this.#saveNow();
    await Promise.all(this.#globs.map((g) => g.close()));
    await Promise.all(this.#sources.map((s) => s.close()));
    this.#setState("stopped");
    if (fatal !== undefined) this.#rejectDone(fatal);
    else this.#resolveDone();
  }

  #setState(state: AgentState, fields: Record<string, string | number> = {}): void {
    if (this.#counters.state === state && state !== "disconnected") return;
    this.#counters.state = state;
    this.#log.info("state changed", { state, ...fields });
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

function validateOptions(options: RunAgentOptions): void {
  if (options.hostname.length === 0) throw new TypeError("Cannot start the agent: empty hostname");
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new RangeError(`Cannot start the agent: invalid port ${options.port}`);
  }
  if (options.paths.length === 0 && options.journal === undefined) {
    throw new TypeError("Cannot start the agent: no paths to follow and no journal");
  }
  for (const server of options.failoverServers ?? []) {
    if (
      server.hostname.length === 0 || !Number.isInteger(server.port) || server.port < 1 ||
      server.port > 65535
    ) {
      throw new RangeError(
        `Cannot start the agent: invalid failover server ${server.hostname}:${server.port}`,
      );
    }
  }
  const positive: [string, number | undefined][] = [
    ["heartbeatSeconds", options.heartbeatSeconds],
    ["maxInFlightLines", options.maxInFlightLines],
    ["maxInFlightBytes", options.maxInFlightBytes],
    ["shutdownTimeoutMs", options.shutdownTimeoutMs],
    ["ackTimeoutMs", options.ackTimeoutMs],
    ["pollIntervalMs", options.pollIntervalMs],
  ];
  for (const [name, value] of positive) {
    if (value !== undefined && !(value > 0 && Number.isFinite(value))) {
      throw new RangeError(`Cannot start the agent: invalid ${name} ${value}`);
    }
  }
}
