/**
 * The agent: follows its sources (sources/), ships their lines to a server
 * through a session that survives outages and fails over between servers
 * (session.ts), saves acknowledged positions (checkpoint/), and reports its
 * state (`connecting`, `connected`, `disconnected`) through the logger.
 *
 * Data path (one line, file to ACK):
 * 1. `Deno.watchFs` reports a change in the file's directory (follow/).
 * 2. The session's pump asks each source to read while the window has room.
 * 3. The follower reads new bytes into its reused buffer and splits them
 *    (protocol/line_splitter.ts), handing each line with its end offset to
 *    the sources, which filter it and queue it on the client.
 * 4. The line is queued as `EVENT <stream> <position> <line>`; after each
 *    read chunk the batch is written with one `conn.write` (client.ts).
 * 5. The server's ACK, matched in order, advances the incarnation's
 *    acknowledged offset (follow/incarnation.ts), and a coalesced save writes
 *    it to the state file (checkpoint/).
 *
 * @module
 */

import { DEFAULT_HEARTBEAT_SECONDS } from "../protocol/mod.ts";
import { Wake } from "./_wake.ts";
import {
  Backoff,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_RECONNECT_SPREAD_MS,
} from "./backoff.ts";
import { Checkpoints, DEFAULT_STATE_SAVE_INTERVAL_MS } from "./checkpoint/mod.ts";
import type { ClientTls } from "./client.ts";
import { type Clock, SYSTEM_CLOCK } from "./clock.ts";
import { DEFAULT_MAX_OPEN_FILES, DEFAULT_POLL_INTERVAL_MS } from "./follow/mod.ts";
import { type HostInfo, readHostInfo } from "./host_info.ts";
import { DEFAULT_MAX_IN_FLIGHT_BYTES, DEFAULT_MAX_IN_FLIGHT_LINES } from "./limits.ts";
import { createLogger, type Logger } from "./log.ts";
import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  type ServerAddress,
  Session,
  type SessionState,
} from "./session.ts";
import {
  type FileLag,
  type JournalSettings,
  type LineFilterOptions,
  Sources,
} from "./sources/mod.ts";

export { DEFAULT_STATE_SAVE_INTERVAL_MS } from "./checkpoint/mod.ts";
export { DEFAULT_MAX_OPEN_FILES } from "./follow/mod.ts";
export {
  BACKOFF_RESET_AFTER_MS,
  BYE_TIMEOUT_MS,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  MAX_TICK_MS,
} from "./session.ts";
export type { FileLag } from "./sources/mod.ts";

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
   * @default {DEFAULT_MAX_IN_FLIGHT_LINES}
   */
  maxInFlightLines?: number;
  /**
   * Most file bytes sent and not yet acknowledged.
   * @default {DEFAULT_MAX_IN_FLIGHT_BYTES}
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
   * Ceiling of the random delay before the first reconnect after a session
   * dropped, in milliseconds (capped by `backoffMaxMs`), so a fleet whose
   * server restarted does not come back at once.
   * @default {DEFAULT_RECONNECT_SPREAD_MS} (5 s)
   */
  reconnectSpreadMs?: number;
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
   * Poll interval of rotated files, least interval of the backstop sweep of
   * one followed file and of a glob's rescan, in milliseconds.
   * @default {DEFAULT_POLL_INTERVAL_MS} (1 s)
   */
  pollIntervalMs?: number;
  /**
   * Most followed files kept open at once while their path still names them;
   * the least recently read are closed and opened again when they change.
   * Rotated files being read to their end stay open beyond it.
   * @default {DEFAULT_MAX_OPEN_FILES} (512)
   */
  maxOpenFiles?: number;
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
  /** Follow the systemd journal too (journal/); absent: no journal. */
  journal?: AgentJournalOptions;
  /** Drop lines before sending them (sources/line_filter.ts); absent: send every line. */
  filter?: LineFilterOptions;
}

/** One server of {@linkcode RunAgentOptions.failoverServers}. */
export type AgentServerAddress = ServerAddress;

/** The journal source of {@linkcode RunAgentOptions.journal}. */
export type AgentJournalOptions = JournalSettings;

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
  /**
   * Logins with a resumption ticket (`LOGIN @ticket`) instead of the password:
   * no password hash on the server (docs/SECURITY.md).
   */
  readonly ticketLogins: number;
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
  /** Bytes written to the state files (whole state and changes). */
  readonly stateBytesWritten: number;
  /** fsync and fdatasync calls made for the state files. */
  readonly stateSyncs: number;
  /** Followed files open now while their path names them (within `maxOpenFiles`). */
  readonly openFiles: number;
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
  /** Bytes not yet acknowledged per followed path, measured now (for `--metrics-port`). */
  fileLag(): Promise<FileLag[]>;
}

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
  readonly #log: Logger;
  readonly #stopController = new AbortController();
  readonly #sources: Sources;
  readonly #checkpoints: Checkpoints;
  readonly #session: Session;
  #state: AgentState = "starting";
  #started = false;
  #resolveDone!: () => void;
  #rejectDone!: (error: Error) => void;

  /**
   * @param options Server, credentials, files and tuning.
   */
  constructor(options: RunAgentOptions) {
    validateOptions(options);
    this.#options = options;
    const clock = options.clock ?? SYSTEM_CLOCK;
    const log = this.#log = options.logger ?? createLogger();
    const signal = this.#stopController.signal;
    const wake = new Wake();
    const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#sources = new Sources({
      pollIntervalMs,
      maxOpenFiles: options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES,
      startAtEnd: options.startAtEnd ?? true,
      exclude: options.exclude ?? [],
      filter: options.filter,
      onChange: () => wake.notify(),
      signal,
      clock,
      logger: log,
    });
    this.#checkpoints = new Checkpoints({
      stateDir: options.stateDir,
      saveIntervalMs: options.stateSaveIntervalMs ?? DEFAULT_STATE_SAVE_INTERVAL_MS,
      clock,
      logger: log,
    }, {
      fileStates: () => this.#sources.fileStates(),
      changedFileStates: (saved) => this.#sources.changedFileStates(saved),
      journalCursor: () => this.#sources.journalCursor,
    });
    this.#session = new Session({
      servers: [
        { hostname: options.hostname, port: options.port },
        ...(options.failoverServers ?? []),
      ],
      username: options.username,
      password: options.password,
      tls: options.tls,
      maxInFlightLines: options.maxInFlightLines ?? DEFAULT_MAX_IN_FLIGHT_LINES,
      maxInFlightBytes: options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES,
      heartbeatMs: (options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS) * 1000,
      ackTimeoutMs: options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS,
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
      backoff: new Backoff({
        initialDelayMs: options.backoffInitialMs ?? DEFAULT_BACKOFF_INITIAL_MS,
        maxDelayMs: options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS,
        reconnectSpreadMs: options.reconnectSpreadMs ?? DEFAULT_RECONNECT_SPREAD_MS,
        ...(options.random ? { random: options.random } : {}),
      }),
      sources: this.#sources,
      checkpoints: this.#checkpoints,
      wake,
      signal,
      startedAt: clock.now(),
      clock,
      logger: log,
      onState: (state, fields) => this.#setState(state, fields),
    });
    // Stopping wakes the pump, so the session ends and says BYE.
    signal.addEventListener("abort", () => wake.notify(), { once: true });
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    // Callers that only use stop() must not see an unhandled rejection.
    this.done.catch(() => {});
  }

  /** Current state. */
  get state(): AgentState {
    return this.#state;
  }

  /** Bytes behind per followed path. */
  fileLag(): Promise<FileLag[]> {
    return this.#sources.fileLag();
  }

  /** A snapshot of the counters. */
  get stats(): AgentStats {
    const sources = this.#sources.stats;
    const session = this.#session.stats;
    return {
      state: this.#state,
      linesRead: sources.linesRead,
      linesSent: sources.linesSent,
      linesStored: session.linesStored,
      linesDuplicate: session.linesDuplicate,
      linesFailed: session.linesFailed,
      linesSkipped: sources.linesSkipped,
      linesTooLong: sources.linesTooLong,
      inFlightLines: session.inFlightLines,
      connects: session.connects,
      connectFailures: session.connectFailures,
      ticketLogins: session.ticketLogins,
      disconnects: session.disconnects,
      lagBytes: session.lagBytes,
      truncations: sources.truncations,
      rotations: sources.rotations,
      stateSaves: this.#checkpoints.saves,
      stateBytesWritten: this.#checkpoints.writes.bytesWritten,
      stateSyncs: this.#checkpoints.writes.syncs,
      openFiles: sources.openFiles,
      linesFiltered: sources.linesFiltered,
      followedFiles: sources.followedFiles,
      journalEntries: sources.journalEntries,
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
    if (this.#state !== "starting" || this.#started) {
      throw new TypeError("Cannot start the agent twice");
    }
    this.#started = true;
    const options = this.#options;
    let host: HostInfo;
    try {
      host = options.host ?? await readHostInfo();
      const saved = await this.#checkpoints.loadState();
      await this.#sources.start(options.paths, saved);
      if (options.journal !== undefined) {
        const cursor = await this.#checkpoints.loadJournalCursor();
        await this.#sources.startJournal(options.journal, {
          hostname: host.hostname,
          cursor,
          keepsCursor: this.#checkpoints.keepsJournalCursor,
        });
      }
      await this.#checkpoints.saveFirst();
    } catch (error) {
      await this.#sources.discard();
      this.#state = "stopped";
      throw error;
    }
    this.#log.info("following files", { ...this.#sources.description, stateDir: options.stateDir });
    if (options.signal?.aborted) {
      void this.stop();
    } else {
      options.signal?.addEventListener("abort", () => void this.stop(), { once: true });
    }
    void this.#run(host);
  }

  /**
   * Stops the agent: stops reading, waits up to the shutdown timeout for ACKs,
   * saves state, says BYE and closes everything. Idempotent.
   *
   * @returns Resolves when stopped (also after a fatal error).
   */
  async stop(): Promise<void> {
    this.#stopController.abort();
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

  async #run(host: HostInfo): Promise<void> {
    // A fatal error is reported through `done` (main.ts prints it as one line).
    const fatal = await this.#session.run(host);
    this.#stopController.abort();
    this.#setState("stopping");
    this.#checkpoints.stop();
    // Whole, so the state file alone holds everything after a clean stop.
    await this.#checkpoints.saveNow(true);
    await this.#sources.close();
    this.#setState("stopped");
    if (fatal !== undefined) this.#rejectDone(fatal);
    else this.#resolveDone();
  }

  #setState(state: AgentState | SessionState, fields: Record<string, string | number> = {}): void {
    if (this.#state === state && state !== "disconnected") return;
    this.#state = state;
    this.#log.info("state changed", { state, ...fields });
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
  const maxOpenFiles = options.maxOpenFiles;
  if (maxOpenFiles !== undefined && !(Number.isInteger(maxOpenFiles) && maxOpenFiles >= 1)) {
    throw new RangeError(`Cannot start the agent: invalid maxOpenFiles ${maxOpenFiles}`);
  }
  for (const [name, value] of positive) {
    if (value !== undefined && !(value > 0 && Number.isFinite(value))) {
      throw new RangeError(`Cannot start the agent: invalid ${name} ${value}`);
    }
  }
}
