/**
 * The agent's link to its servers: connect (client.ts), keep one session
 * alive with heartbeats, pump lines from the sources into it while its window
 * has room, and when a connection fails or a session drops, move on to the
 * next server, the backoff (backoff.ts) applying once every server failed
 * in a row. The first attempt after an established session dropped waits a
 * random part of the reconnect spread, so a fleet does not return at once.
 *
 * A new session first rewinds every source to its first unacknowledged
 * line, so lines in flight when the last one dropped are resent (the server
 * drops duplicates by stream and position) and lines written meanwhile are
 * read from the files.
 *
 * @module
 */

import { errorMessage } from "../common/error_message.ts";
import type { Wake } from "./_wake.ts";
import type { AgentStats } from "./agent.ts";
import type { Backoff } from "./backoff.ts";
import type { Checkpoints } from "./checkpoint/mod.ts";
import { AccessDeniedError, Client, type ClientHandler, type ClientTls } from "./client.ts";
import { type Clock, sleep, type TimerId } from "./clock.ts";
import type { HostInfo } from "./host_info.ts";
import { MAX_REPEATED_WARNINGS } from "./limits.ts";
import type { LineOrigin } from "./line_source.ts";
import type { Logger } from "./log.ts";
import type { Sources } from "./sources/mod.ts";
import { TOKEN_LOGIN_USER } from "../protocol/mod.ts";

/** Longest wait at shutdown for lines in flight to be acknowledged, in milliseconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;
/** Longest wait for `ACK OK Goodbye` at shutdown, in milliseconds. */
export const BYE_TIMEOUT_MS = 2_000;
/** Commands unanswered this long close the session as dead, in milliseconds. */
export const DEFAULT_ACK_TIMEOUT_MS = 60_000;
/** A session that lasted this long resets the reconnect backoff, in milliseconds. */
export const BACKOFF_RESET_AFTER_MS = 10_000;
/** Longest interval of the heartbeat and watchdog tick, in milliseconds. */
export const MAX_TICK_MS = 1_000;

/** A server to connect to. */
export interface ServerAddress {
  /** Host name or IP address. */
  readonly hostname: string;
  /** TCP port. */
  readonly port: number;
}

/** The states a session reports. */
export type SessionState = "connecting" | "connected" | "disconnected";

/** Options of {@linkcode Session}. */
export interface SessionOptions {
  /** The servers in failover order; the first is tried first. */
  readonly servers: readonly ServerAddress[];
  /** User to log in as. */
  readonly username: string;
  /** That user's password. */
  readonly password: string;
  /** TLS settings; absent: plain TCP. */
  readonly tls: ClientTls | undefined;
  /** Most lines sent and not yet acknowledged. */
  readonly maxInFlightLines: number;
  /** Most file bytes sent and not yet acknowledged. */
  readonly maxInFlightBytes: number;
  /** Time between heartbeats, in milliseconds. */
  readonly heartbeatMs: number;
  /** Unanswered commands older than this close the session, in milliseconds. */
  readonly ackTimeoutMs: number;
  /** Longest wait at shutdown for lines in flight, in milliseconds. */
  readonly shutdownTimeoutMs: number;
  /** Delays between rounds of failed servers. */
  readonly backoff: Backoff;
  /** Where lines come from. */
  readonly sources: Sources;
  /** Saved after ACKs and at shutdown. */
  readonly checkpoints: Checkpoints;
  /** Wakes the pump when a source or the session has news. */
  readonly wake: Wake;
  /** Stops the session when aborted: the last one says BYE. */
  readonly signal: AbortSignal;
  /** When the agent started, in the clock's milliseconds (for the heartbeat's uptime). */
  readonly startedAt: number;
  /** Timers and time. */
  readonly clock: Clock;
  /** Where refusals and shutdown problems are reported. */
  readonly logger: Logger;
  /**
   * Called at each state change.
   *
   * @param state The new state.
   * @param fields The server, and for `disconnected` the reason and what comes next.
   */
  readonly onState: (state: SessionState, fields: Record<string, string | number>) => void;
}

/** Counters of the sessions: the session's share of {@linkcode AgentStats}. */
export type SessionStats = Pick<
  AgentStats,
  | "linesStored"
  | "linesDuplicate"
  | "linesFailed"
  | "inFlightLines"
  | "connects"
  | "connectFailures"
  | "ticketLogins"
  | "disconnects"
  | "lagBytes"
>;

/**
 * Sessions with the servers, one after the other, until stopped.
 *
 * @example
 * ```ts
 * const session = new Session({ servers, username, password, ... });
 * const fatal = await session.run(await readHostInfo()); // until the signal aborts
 * ```
 */
export class Session {
  readonly #options: SessionOptions;
  readonly #counters = {
    linesStored: 0,
    linesDuplicate: 0,
    linesFailed: 0,
    connects: 0,
    connectFailures: 0,
    ticketLogins: 0,
    disconnects: 0,
    lagBytes: 0,
  };
  #serverIndex = 0;
  /** Servers that failed in a row since the last good session or backoff. */
  #roundFailures = 0;
  #client: Client<LineOrigin> | undefined;
  #tickTimer: TimerId | undefined;
  #tickRunning: Promise<void> = Promise.resolve();
  #lastHeartbeatAt = -Infinity;
  #ackedThisSession = 0;
  /**
   * The resumption ticket of the last password login, kept in memory only: a
   * reconnect after a server restart then costs the server one HMAC, not one
   * password hash (docs/SECURITY.md).
   */
  #ticket: string | undefined;

  /** The callbacks the client reports ACKs to. */
  readonly #handler: ClientHandler<LineOrigin> = {
    eventAcked: (origin, position, outcome, message) => {
      origin.acknowledge(position);
      this.#ackedThisSession++;
      if (outcome === "stored") this.#counters.linesStored++;
      else if (outcome === "duplicate") this.#counters.linesDuplicate++;
      else {
        this.#counters.linesFailed++;
        if (this.#counters.linesFailed <= MAX_REPEATED_WARNINGS) {
          this.#options.logger.warn("server refused a line, not resending it", {
            path: origin.path,
            position,
            reason: message,
          });
        }
      }
    },
    acksProcessed: () => {
      this.#options.wake.notify();
      this.#options.checkpoints.schedule();
    },
    heartbeatFailed: (reason) =>
      this.#options.logger.warn("server refused a heartbeat", { reason }),
  };

  /**
   * @param options Servers, credentials, window, timing, and the agent's parts.
   */
  constructor(options: SessionOptions) {
    this.#options = options;
  }

  /** A snapshot of the counters. */
  get stats(): SessionStats {
    return { ...this.#counters, inFlightLines: this.#client?.inFlightLines ?? 0 };
  }

  /** The server connected to, or tried next, as `host:port`. */
  get server(): string {
    const server = this.#options.servers[this.#serverIndex]!;
    return `${server.hostname}:${server.port}`;
  }

  /**
   * Connects, runs sessions and reconnects until the signal aborts or the
   * agent cannot go on.
   *
   * @param host The REGISTER fields.
   * @returns Undefined once stopped; the error when the agent cannot go on
   *   ({@linkcode AccessDeniedError} when the server refused the credentials).
   */
  async run(host: HostInfo): Promise<Error | undefined> {
    const { signal, onState } = this.#options;
    try {
      while (!signal.aborted) {
        onState("connecting", { server: this.server });
        let client: Client<LineOrigin>;
        try {
          client = await this.#connect(host);
        } catch (error) {
          if (error instanceof AccessDeniedError || error instanceof TypeError) throw error;
          if (signal.aborted) break;
          this.#counters.connectFailures++;
          await this.#nextServer(errorMessage(error));
          continue;
        }
        const reason = await this.#session(client);
        if (reason instanceof AccessDeniedError) throw reason;
        if (signal.aborted) break;
        this.#counters.disconnects++;
        await this.#nextServer(reason.message, true);
      }
    } catch (error) {
      return error as Error;
    }
    return undefined;
  }

  async #connect(host: HostInfo): Promise<Client<LineOrigin>> {
    const o = this.#options;
    const server = o.servers[this.#serverIndex]!;
    const client = await Client.connect<LineOrigin>({
      hostname: server.hostname,
      port: server.port,
      username: o.username,
      password: o.password,
      host,
      handler: this.#handler,
      maxInFlightLines: o.maxInFlightLines,
      maxInFlightBytes: o.maxInFlightBytes,
      clock: o.clock,
      signal: o.signal,
      ...(o.tls ? { tls: o.tls } : {}),
      ...(this.#ticket === undefined ? {} : { ticket: this.#ticket }),
      // A token is checked without a password hash already.
      requestTicket: o.username !== TOKEN_LOGIN_USER,
    });
    if (client.resumedWithTicket) this.#counters.ticketLogins++;
    if (client.ticketRefused) this.#ticket = undefined;
    if (client.ticket !== null) this.#ticket = client.ticket;
    return client;
  }

  /**
   * After a failed connection or a dropped session: moves on to the next
   * server, at once while some server of this round is untried, else after
   * the backoff. With one server, always after the backoff. After a good
   * session dropped (the backoff was reset), the first attempt waits a random
   * part of the reconnect spread instead, whichever server it goes to.
   *
   * @param reason Why the connection or the session ended.
   * @param dropped Whether an established session ended (not a failed connect).
   */
  async #nextServer(reason: string, dropped = false): Promise<void> {
    const failed = this.server;
    const backoff = this.#options.backoff;
    const fresh = dropped && this.#roundFailures === 0 && backoff.attempt === 0;
    this.#roundFailures++;
    this.#serverIndex = (this.#serverIndex + 1) % this.#options.servers.length;
    if (fresh) {
      if (this.#roundFailures >= this.#options.servers.length) this.#roundFailures = 0;
      const delayMs = backoff.spreadDelayMs();
      this.#options.onState("disconnected", {
        server: failed,
        reason,
        next: this.server,
        retryInMs: delayMs,
      });
      await sleep(this.#options.clock, delayMs, this.#options.signal);
      return;
    }
    if (this.#roundFailures < this.#options.servers.length) {
      this.#options.onState("disconnected", { server: failed, reason, next: this.server });
      return;
    }
    this.#roundFailures = 0;
    const delayMs = backoff.nextDelayMs();
    this.#options.onState("disconnected", { server: failed, reason, retryInMs: delayMs });
    await sleep(this.#options.clock, delayMs, this.#options.signal);
  }

  /** Runs one connected session until it closes or the agent stops. */
  async #session(client: Client<LineOrigin>): Promise<Error> {
    const { clock, signal } = this.#options;
    const startedAt = clock.now();
    this.#client = client;
    this.#ackedThisSession = 0;
    this.#counters.connects++;
    // On this server, or on the next one after a failover.
    this.#options.sources.rewind();
    this.#options.onState("connected", { server: this.server });
    void client.done.then(() => this.#options.wake.notify());
    this.#lastHeartbeatAt = -Infinity;
    this.#startTicker(client);
    try {
      await this.#pump(client);
      if (signal.aborted && !client.closed) await this.#finish(client);
    } finally {
      this.#stopTicker();
      client.close();
      await this.#tickRunning;
    }
    const reason = await client.done;
    this.#client = undefined;
    if (this.#ackedThisSession > 0 || clock.now() - startedAt >= BACKOFF_RESET_AFTER_MS) {
      this.#options.backoff.reset();
      this.#roundFailures = 0;
    }
    return reason;
  }

  /** Moves lines from the sources to the client while its window has room. */
  async #pump(client: Client<LineOrigin>): Promise<void> {
    const { sources, signal, wake } = this.#options;
    while (!client.closed && !signal.aborted) {
      const readAny = await sources.readRound(client);
      void client.flush();
      if (!readAny) await wake.wait();
    }
  }

  /** At shutdown: waits (bounded) for ACKs, saves the checkpoints, says BYE. */
  async #finish(client: Client<LineOrigin>): Promise<void> {
    const log = this.#options.logger;
    if (!await client.waitForAcks(this.#options.shutdownTimeoutMs)) {
      log.warn("stopping with lines unacknowledged; they are resent on the next start", {
        lines: client.inFlightLines,
      });
    }
    await this.#options.checkpoints.saveNow();
    if (!client.closed && !await client.bye(BYE_TIMEOUT_MS)) {
      log.warn("server did not acknowledge BYE", { server: this.server });
    }
  }

  #startTicker(client: Client<LineOrigin>): void {
    const { clock, heartbeatMs } = this.#options;
    const intervalMs = Math.min(MAX_TICK_MS, heartbeatMs);
    const tick = () => {
      this.#tickTimer = clock.setTimeout(tick, intervalMs);
      this.#tickRunning = this.#tickRunning.then(() => this.#onTick(client)).catch(() => {});
    };
    tick();
  }

  #stopTicker(): void {
    if (this.#tickTimer !== undefined) this.#options.clock.clearTimeout(this.#tickTimer);
    this.#tickTimer = undefined;
  }

  /** Closes a session whose server stopped answering, and sends the heartbeat when due. */
  async #onTick(client: Client<LineOrigin>): Promise<void> {
    if (client.closed) return;
    const { clock, ackTimeoutMs } = this.#options;
    const now = clock.now();
    if (client.unanswered > 0 && now - client.lastProgressAt > ackTimeoutMs) {
      client.close(new Error(`No answer from the server for ${ackTimeoutMs} ms`));
      return;
    }
    if (now - this.#lastHeartbeatAt < this.#options.heartbeatMs) return;
    this.#lastHeartbeatAt = now;
    const lag = await this.#options.sources.lagBytes();
    this.#counters.lagBytes = lag;
    if (client.closed || this.#options.signal.aborted) return;
    await client.heartbeat((clock.now() - this.#options.startedAt) / 1000, lag);
  }
}
