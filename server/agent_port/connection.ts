/**
 * One client connection: framing, the session state machine and in-order
 * ACKs. Runs on the main thread; the work behind each line runs in the
 * worker pool. A bad line is answered with `ACK FAIL` and the connection
 * survives, up to {@linkcode MAX_CONSECUTIVE_BAD_LINES} in a row.
 *
 * @module
 */

import {
  type ByteLineSink,
  eventVerb,
  FAIL,
  type FailReason,
  formatAckLine,
  LineSplitter,
  MAX_CONSECUTIVE_BAD_LINES,
  OK,
  parseCommand,
  TICKET_LOGIN_USER,
  WELCOME_LINE,
} from "../../protocol/mod.ts";
import { AckQueue, type AckSlot } from "./ack_queue.ts";
import { type Logger, quote } from "../log.ts";
import { APPEND_STATUS, type LoginFailurePolicy, type Role } from "../store/mod.ts";
import {
  BATCH_BUFFERS,
  failureReason,
  type IngestLane,
  type LoginToken,
  SMALL_BATCH_BUFFERS,
  type WireLines,
  WireLinesBuilder,
  type WorkerPool,
  type Writer,
} from "../ingest/mod.ts";
import type { ServerMetrics } from "../metrics.ts";
import { CLOSE_GRACE_MS, type ConnectionLimits, RateLimiter } from "./connection_limits.ts";
import { type LoginEventGate, redactLine, type TicketAccount, type Tickets } from "../auth/mod.ts";
import { loginFields, SECURITY_EVENT_KINDS } from "../security_event.ts";
import { InFlight } from "./in_flight.ts";
import { MAX_BAD_LINES_BEFORE_LOGIN, type PreLoginBudget } from "./pre_login.ts";
import type { WarnThrottle } from "../net/mod.ts";
import type { AgentLiveness } from "../liveness/mod.ts";
import { BufferPool } from "../../common/buffer_pool.ts";

/** A settled promise, returned by work that finished without waiting. */
const DONE: Promise<void> = Promise.resolve();

/**
 * Bytes of the buffer a connection waits in `read()` with, its own. An idle
 * agent holds only this: a read that fills it (more is waiting) is followed by
 * reads into a shared {@linkcode READ_BUFFER_BYTES} buffer, taken for the read
 * and given back as soon as its lines are copied out, so thousands of idle
 * connections do not each hold a large buffer (docs/SCALING.md).
 */
const IDLE_READ_BUFFER_BYTES = 1024;
/** Bytes read at once while an agent has more to send than the idle buffer holds. */
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * Read buffer of a connection whose {@linkcode READ_BUFFER_BYTES} read came
 * back full (a busy agent): its batches are four times larger and the
 * connection faster (docs/decisions/0003-ingest-hot-path.md).
 */
const BUSY_READ_BUFFER_BYTES = 256 * 1024;
/** Free {@linkcode READ_BUFFER_BYTES} buffers kept for reuse by all connections. */
const MAX_POOLED_READ_BUFFERS = 16;
/**
 * {@linkcode BUSY_READ_BUFFER_BYTES} buffers taken at once. A few busy agents
 * gain from them; when hundreds of connections flood at once, the rest read
 * 64 KiB at a time, so the larger buffers (and the larger batches they make)
 * add at most 16 × 256 KiB to the server's memory.
 */
const MAX_BUSY_READ_BUFFERS = 16;
const READ_BUFFERS = new BufferPool(READ_BUFFER_BYTES, MAX_POOLED_READ_BUFFERS);
const BUSY_READ_BUFFERS = new BufferPool(BUSY_READ_BUFFER_BYTES, MAX_BUSY_READ_BUFFERS);

/**
 * Which buffer a connection's next read uses: `idle`, its own small buffer
 * (nothing more is known to be waiting); `large`, a shared
 * {@linkcode READ_BUFFER_BYTES} buffer (the last read filled its buffer);
 * `busy`, a shared {@linkcode BUSY_READ_BUFFER_BYTES} buffer (the last
 * shared read came back full too).
 */
type ReadSize = "idle" | "large" | "busy";

/**
 * Shared read and batch buffers taken by connections right now and kept free
 * for reuse: an idle connection takes none (docs/SCALING.md).
 *
 * @returns Counts per pool.
 * @example
 * ```ts
 * const { readTaken, batchTaken } = connectionBufferStats();
 * ```
 */
export function connectionBufferStats(): {
  readTaken: number;
  readPooled: number;
  batchTaken: number;
  batchPooled: number;
} {
  return {
    readTaken: READ_BUFFERS.taken + BUSY_READ_BUFFERS.taken,
    readPooled: READ_BUFFERS.pooled + BUSY_READ_BUFFERS.pooled,
    batchTaken: BATCH_BUFFERS.taken + SMALL_BATCH_BUFFERS.taken,
    batchPooled: BATCH_BUFFERS.pooled + SMALL_BATCH_BUFFERS.pooled,
  };
}

/** Longest wait, in ms, for the last line of a connection closed by {@linkcode Connection.abort}. */
const ABORT_GRACE_MS = 100;

/** Most event lines sent to a worker as one batch. */
export const MAX_BATCH_LINES = 1000;

/**
 * Unwritten ACK slots (batches, commands, runs of failures) one connection may
 * have. At the limit the connection stops reading until the client has read
 * its ACKs, so a client that never reads cannot grow the server's memory.
 */
export const MAX_PENDING_ACKS_PER_CONNECTION = 32;

const ACK_EVENT = formatAckLine(true, OK.event);
const ACK_DUPLICATE = formatAckLine(true, OK.duplicate);

/** What a connection needs from the server around it. */
export interface ConnectionContext {
  /** Parses batches and verifies logins. */
  readonly pool: WorkerPool;
  /** Records node changes: REGISTER, HEARTBEAT, BYE. */
  readonly writer: Writer;
  readonly log: Logger;
  /** Counters for `/metrics`, incremented once per batch. */
  readonly metrics?: ServerMetrics;
  /** Login lockout policy; null or absent: no lockout. */
  readonly lockout?: LoginFailurePolicy | null;
  /** Rate limit and timeouts (server/agent_port/connection_limits.ts); absent: none. */
  readonly limits?: ConnectionLimits;
  /** Stores the security events of logins within their budget; absent: none are stored. */
  readonly loginEvents?: LoginEventGate;
  /** Throttles diagnostics about clients (server/net/warn_throttle.ts); absent: all are logged. */
  readonly warnings?: WarnThrottle;
  /** Which nodes are connected; told of each registration and closed connection. */
  readonly liveness?: AgentLiveness;
  /** Connections not logged in yet (server/pre_login.ts), kept by the listener. */
  readonly preLogin?: PreLoginBudget<Connection>;
  /** Resumption tickets (`TICKET`, `LOGIN @ticket`); absent: none are issued or accepted. */
  readonly tickets?: TicketDesk;
}

/** Resumption tickets and the accounts they are checked against (server/auth/tickets.ts). */
export interface TicketDesk {
  readonly issuer: Tickets;
  /** Reads an account by name; undefined when there is none. */
  findAccount(username: string): Promise<TicketAccount | undefined>;
}

/**
 * The socket a connection serves: a `Deno.Conn` (TCP or TLS), or the mutual
 * TLS adapter of `server/agent_port/tls.ts`.
 */
export interface ByteConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
  readonly remoteAddr: Deno.Addr;
  /** Names (CN and DNS SANs) of the client's verified certificate, under mutual TLS. */
  readonly peerNames?: readonly string[];
}

interface Session {
  username: string | null;
  role: Role | null;
  agentId: number | null;
  hostname: string | null;
  /** The agent token logged in with (`LOGIN @token`), or null. */
  token: LoginToken | null;
  /** Version of the user's credential at login (a password change closes us), or null. */
  credential: string | null;
  /** Whether the login was a password LOGIN, the only kind that gets a ticket. */
  byPassword: boolean;
}

/**
 * Serves one accepted socket until the client leaves, the server stops, or
 * the client sends too many bad lines in a row.
 *
 * @example
 * ```ts
 * const connection = new Connection(conn, { pool, writer, log });
 * await connection.serve();
 * ```
 */
export class Connection {
  /** Client address as `ip:port`. */
  readonly address: string;
  /** When the socket was accepted, ms since the epoch (the login deadline counts from it). */
  readonly connectedAt: number = Date.now();
  readonly #conn: ByteConn;
  readonly #ctx: ConnectionContext;
  readonly #acks: AckQueue;
  readonly #splitter = new LineSplitter();
  readonly #session: Session = {
    username: null,
    role: null,
    agentId: null,
    hostname: null,
    token: null,
    credential: null,
    byPassword: false,
  };
  readonly #ip: string;
  /** Event lines read but not yet sent to a worker, as bytes. */
  readonly #wire = new WireLinesBuilder();
  /** Whether this session may ship events (logged in, not a viewer): enables the byte path. */
  #shipping = false;
  readonly #decoder = new TextDecoder();
  #lines: (string | number)[] = [];
  #badInARow = 0;
  #stopping = false;
  #closed = false;
  #reading = false;
  #saidBye = false;
  /** This connection's lane in the pool's fair turns, opened with its first batch. */
  #lane: IngestLane | null = null;
  readonly #inFlight = new InFlight();
  #served: Promise<void> = Promise.resolve();
  /** Paces reading to the connection's limit of lines per second. */
  readonly #rate: RateLimiter;
  /** Lines split from the current chunk, for the rate limit. */
  #chunkLines = 0;
  /** When the current read() started (the client owes us bytes since then), ms. */
  #readingSince = 0;
  /** Whether the splitter holds an incomplete line. */
  #partial = false;
  /**
   * Ms this connection has waited for the client, in completed reads, since
   * the splitter started holding an incomplete line. Only time spent reading
   * counts: while the server itself holds back (backpressure, a LOGIN being
   * verified), a slow line is not the client's fault.
   */
  #partialWaitMs = 0;
  /** Sent as a last `ACK FAIL` before closing (timeouts, revocation), or null. */
  #finalReason: FailReason | null = null;
  #finalSent = false;
  /** Ends a rate-limit pause early (stop). */
  #wakePause: (() => void) | null = null;
  /** A LOGIN of this connection is being verified. */
  #verifyingLogin = false;

  /**
   * @param conn The accepted socket; the connection owns and closes it.
   * @param ctx The worker pool and logger.
   */
  constructor(conn: ByteConn, ctx: ConnectionContext) {
    this.#conn = conn;
    this.#ctx = ctx;
    const remote = conn.remoteAddr as Deno.NetAddr;
    this.#ip = remote.hostname;
    this.address = remote.hostname.includes(":")
      ? `[${remote.hostname}]:${remote.port}`
      : `${remote.hostname}:${remote.port}`;
    this.#acks = new AckQueue((bytes) => writeAll(conn, bytes));
    this.#rate = new RateLimiter(ctx.limits?.maxEventsPerSecond ?? Infinity);
  }

  /** Client IP address, without port. */
  get ip(): string {
    return this.#ip;
  }

  /** Role of the logged-in user (`agent` for a token), or null before LOGIN. */
  get role(): Role | null {
    return this.#session.role;
  }

  /** Id of the agent token this connection logged in with, or null. */
  get tokenId(): string | null {
    return this.#session.token?.id ?? null;
  }

  /** Version of the logged-in user's credential (`credentialStamp()`), or null. */
  get credential(): string | null {
    return this.#session.credential;
  }

  /** Whether a LOGIN of this connection is being verified now. */
  get verifyingLogin(): boolean {
    return this.#verifyingLogin;
  }

  /**
   * Closes the connection when it has sent nothing for too long, or has held
   * an incomplete line for too long. Called about once a second by the listener.
   *
   * @param now Ms since the epoch.
   * @returns The reason it is being closed, or null.
   */
  checkTimeouts(now: number): FailReason | null {
    const limits = this.#ctx.limits;
    if (!limits || this.#stopping) return null;
    if (
      this.#partial && this.#reading &&
      this.#partialWaitMs + (now - this.#readingSince) > limits.lineTimeoutMs
    ) {
      void this.closeWith(FAIL.lineTimeout);
      return FAIL.lineTimeout;
    }
    // Before LOGIN a connection has a deadline, whatever it sends: no slot held
    // for free. A LOGIN the server is still verifying is not the client's delay.
    if (
      this.#session.username === null && !this.#verifyingLogin &&
      now - this.connectedAt > limits.loginTimeoutMs
    ) {
      void this.closeWith(FAIL.loginTimeout);
      return FAIL.loginTimeout;
    }
    // Before LOGIN a connection gets the short (line) timeout: no slot held for free.
    const idleMs = this.#session.username === null
      ? Math.min(limits.idleTimeoutMs, limits.lineTimeoutMs)
      : limits.idleTimeoutMs;
    if (this.#reading && now - this.#readingSince > idleMs) {
      void this.closeWith(FAIL.idleTimeout);
      return FAIL.idleTimeout;
    }
    return null;
  }

  /**
   * Stops reading, answers every line already read, sends `ACK FAIL <reason>`
   * and closes: for timeouts and revoked credentials. Gives a client that does
   * not read at most {@linkcode CLOSE_GRACE_MS} before closing anyway.
   *
   * @param reason The last line the client gets.
   * @returns Resolves when the connection has closed.
   */
  async closeWith(reason: FailReason): Promise<void> {
    if (this.#finalReason === null && !this.#closed) {
      this.#finalReason = reason;
      this.#note("info", reason, "Closing connection", { address: this.address, reason });
    }
    this.#stopping = true;
    this.#wakePause?.();
    if (this.#reading) {
      await this.#finish();
      this.#close();
    }
    await this.#served;
  }

  /**
   * Closes at once, sending `ACK FAIL <reason>` without waiting for the client
   * or for lines in progress: for a connection evicted before it logged in.
   *
   * @param reason The last line the client gets, if it reads it.
   */
  abort(reason: FailReason): void {
    if (this.#closed) return;
    this.#stopping = true;
    this.#finalSent = true;
    this.#wakePause?.();
    this.#note("info", reason, "Closing connection", { address: this.address, reason });
    // A client that does not read gets no grace: the slot is wanted now.
    const timer = setTimeout(() => this.#close(), ABORT_GRACE_MS);
    this.#conn.write(new TextEncoder().encode(formatAckLine(false, reason))).catch(() => 0)
      .finally(() => {
        clearTimeout(timer);
        this.#close();
      });
  }

  /** Answers what was read, then the final reason, within the grace period. */
  async #finish(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_GRACE_MS));
    try {
      await Promise.race([
        (async () => {
          await this.#inFlight.settled();
          if (this.#finalReason !== null && !this.#finalSent) {
            this.#finalSent = true;
            this.#acks.pushText(formatAckLine(false, this.#finalReason));
          }
          await this.#acks.drained();
        })(),
        grace,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Pauses reading for the rate limit; stop() ends the pause early. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wakePause = done;
    }).then(() => {
      this.#wakePause = null;
    });
  }

  /** The authenticated user, or null before LOGIN. */
  get username(): string | null {
    return this.#session.username;
  }

  /** The node this connection registered as (REGISTER), or null. */
  get agentId(): number | null {
    return this.#session.agentId;
  }

  /** Sends the welcome line, then reads and answers lines until the end. */
  serve(): Promise<void> {
    this.#served = this.#serve();
    return this.#served;
  }

  async #serve(): Promise<void> {
    this.#acks.pushText(WELCOME_LINE + "\n");
    const idleBuffer = new Uint8Array(IDLE_READ_BUFFER_BYTES);
    let size: ReadSize = "idle";
    const lines = this.#lines;
    const sink: ByteLineSink = {
      line: (bytes) => {
        // Hot path: an event line, before any other line of this chunk, is
        // copied as bytes; the pool worker decodes and validates it.
        this.#chunkLines++;
        if (lines.length === 0 && this.#shipping && eventVerb(bytes) !== null) {
          this.#wire.append(bytes);
        } else {
          lines.push(this.#decoder.decode(bytes));
        }
      },
      overflow: (bytes) => {
        this.#chunkLines++;
        lines.push(bytes);
      },
    };
    try {
      while (!this.#stopping) {
        // Only a session that ships events takes shared buffers, never a client before LOGIN.
        if (size === "busy" && BUSY_READ_BUFFERS.taken >= MAX_BUSY_READ_BUFFERS) {
          size = "large";
        }
        const pool = !this.#shipping || size === "idle"
          ? null
          : size === "busy"
          ? BUSY_READ_BUFFERS
          : READ_BUFFERS;
        const buffer = pool ? pool.take() : idleBuffer;
        let n: number | null = null;
        try {
          this.#reading = true;
          this.#readingSince = Date.now();
          try {
            n = await this.#conn.read(buffer);
          } catch {
            break; // reset by peer, or closed by stop()
          } finally {
            this.#reading = false;
          }
          if (n === null) break;
          if (this.#partial) this.#partialWaitMs += Date.now() - this.#readingSince;
          this.#chunkLines = 0;
          // Copies out every line it reports: the buffer is free afterwards.
          this.#splitter.pushBytes(buffer.subarray(0, n), sink);
        } finally {
          pool?.give(buffer);
        }
        if (n < buffer.length && (pool === null || n < buffer.length / 2)) {
          // The socket is drained: wait for the next bytes holding no shared
          // buffer. A shared read that came back at least half full is an agent
          // streaming, whose next bytes are near: it keeps a shared buffer.
          size = "idle";
        } else if (n === buffer.length) {
          size = size === "idle" ? "large" : "busy";
        }
        // Slow-loris: how long the client has kept a line incomplete.
        this.#partial = this.#splitter.pendingBytes > 0;
        if (!this.#partial) this.#partialWaitMs = 0;
        await this.#handleLines(lines);
        lines.length = 0;
        if (size === "idle") {
          // Going idle: what this connection's lines were built in goes back.
          this.#splitter.compact();
          this.#wire.release();
        }
        await this.#acks.waitBelow(MAX_PENDING_ACKS_PER_CONNECTION);
        if (this.#acks.broken) break;
        // Rate limit: a fast sender is slowed by not reading, never refused.
        const pauseMs = this.#rate.take(this.#chunkLines, performance.now());
        if (pauseMs > 0 && !this.#stopping) await this.#pause(pauseMs);
      }
      // Everything read so far is answered before the socket closes.
      if (this.#finalReason !== null) {
        await this.#finish();
      } else {
        await this.#inFlight.settled();
        await this.#acks.drained();
      }
    } finally {
      this.#close();
      this.#wire.release(true);
    }
  }

  /**
   * Stops reading; lines already read are still processed and answered, then
   * the connection closes. Resolves when it has closed.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakePause?.();
    if (this.#reading) {
      // Blocked in read(): every line read so far has been dispatched, so
      // answer them all, then closing the socket ends the read.
      await this.#inFlight.settled();
      await this.#acks.drained();
      this.#close();
    }
    await this.#served;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const agentId = this.#session.agentId;
    if (agentId !== null) this.#ctx.liveness?.closed(agentId, this.#saidBye);
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  async #handleLines(lines: (string | number)[]): Promise<void> {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (typeof line === "number") {
        this.#bad(FAIL.lineTooLong, `${line} bytes`);
      } else {
        await this.#handleLine(line);
      }
      // Nothing after BYE is read: the client said it was done.
      if (this.#saidBye) break;
      const maxBad = this.#session.username === null
        ? MAX_BAD_LINES_BEFORE_LOGIN
        : MAX_CONSECUTIVE_BAD_LINES;
      if (this.#badInARow >= maxBad) {
        this.#note("warn", "bad lines", "Closing connection after too many bad lines", {
          address: this.address,
          lines: this.#badInARow,
        });
        this.#stopping = true;
        break;
      }
    }
    await this.#flushBatch();
  }

  async #handleLine(line: string): Promise<void> {
    const parsed = parseCommand(line);
    // A malformed LOGIN still carries a password: it never reaches the log.
    if (!parsed.ok) return this.#bad(parsed.reason, quote(redactLine(line)));
    const command = parsed.command;
    const session = this.#session;
    if (command.type === "LOGIN") {
      if (session.username !== null) return this.#bad(FAIL.alreadyLoggedIn, command.username);
      await this.#flushBatch();
      if (command.username === TICKET_LOGIN_USER) return this.#ticketLogin(command.password);
      return this.#login(command.username, command.password);
    }
    if (session.username === null) return this.#bad(FAIL.notLoggedIn, command.type);
    if (session.role === "viewer") return this.#bad(FAIL.forbidden, command.type);
    switch (command.type) {
      case "BATCH_EVENT":
      case "EVENT":
        // Validated again by the worker, like the lines on the byte path.
        this.#good();
        this.#wire.appendText(line);
        if (this.#wire.count >= MAX_BATCH_LINES) return this.#flushBatch();
        return;
      case "REGISTER":
        await this.#flushBatch();
        return this.#register(command.version, command.hostname, command.os);
      case "HEARTBEAT": {
        if (session.agentId === null) return this.#bad(FAIL.notRegistered, command.type);
        await this.#flushBatch();
        this.#good();
        const heartbeat = {
          agentId: session.agentId,
          uptimeSeconds: command.uptimeSeconds,
          lagBytes: command.lagBytes ?? null,
          at: Date.now(),
        };
        this.#ctx.liveness?.heard(session.agentId, heartbeat.at);
        return this.#track(this.#ctx.writer.recordHeartbeat(heartbeat), () => {
          if (this.#ctx.metrics) this.#ctx.metrics.heartbeats++;
          return OK.heartbeat;
        });
      }
      case "TICKET": {
        await this.#flushBatch();
        const tickets = this.#ctx.tickets;
        if (!tickets || !session.byPassword || session.credential === null) {
          return this.#bad(FAIL.noTicket, command.type);
        }
        this.#good();
        const ticket = tickets.issuer.issue(session.username, session.credential, Date.now());
        if (this.#ctx.metrics) this.#ctx.metrics.ticketsIssued++;
        return this.#acks.pushText(formatAckLine(true, `${OK.ticket} ${ticket}`));
      }
      case "BYE": {
        await this.#flushBatch();
        this.#good();
        this.#stopping = true;
        this.#saidBye = true;
        if (session.agentId === null) {
          return this.#acks.pushText(formatAckLine(true, OK.goodbye));
        }
        const stopped = this.#ctx.writer.markAgentStopped(session.agentId, Date.now());
        return this.#track(stopped, () => OK.goodbye);
      }
    }
  }

  /** Reserves an ACK slot for `work` and fills it with OK or, on failure, FAIL. */
  #track<T>(work: Promise<T>, ok: (value: T) => string): void {
    const slot = this.#acks.reserve();
    const done = work.then(
      (value) => this.#acks.fill(slot, formatAckLine(true, ok(value))),
      (error) => {
        this.#ctx.log.error("Command failed", {
          address: this.address,
          error: (error as Error).message,
        });
        this.#acks.fill(slot, formatAckLine(false, FAIL.internalError));
      },
    );
    this.#inFlight.track(done);
  }

  async #login(username: string, password: string): Promise<void> {
    const slot = this.#acks.reserve();
    try {
      this.#verifyingLogin = true;
      const outcome = await this.#ctx.pool.login(username, password, this.address, {
        ip: this.#ip,
        lockout: this.#ctx.lockout ?? null,
      }).finally(() => this.#verifyingLogin = false);
      if (outcome.checked && this.#ctx.metrics) this.#ctx.metrics.passwordChecks.agent++;
      this.#ctx.loginEvents?.admit(this.#ip, outcome.events ?? []);
      if (outcome.ok) {
        const token = outcome.token ?? null;
        this.#admit(slot, {
          username,
          role: outcome.role,
          token,
          credential: outcome.credential ?? null,
          byPassword: token === null,
        }, { user: quote(token ? `token ${token.name}` : username) });
      } else if (outcome.locked) {
        // Refused before any password check: the user or address is cooling off.
        this.#countBad(FAIL.tooManyFailures, quote(username));
        this.#acks.fill(slot, formatAckLine(false, FAIL.tooManyFailures));
      } else {
        this.#countBad(FAIL.invalidCredentials, quote(username));
        this.#acks.fill(slot, formatAckLine(false, FAIL.invalidCredentials));
      }
    } catch (error) {
      this.#ctx.log.error("Login failed", {
        address: this.address,
        error: (error as Error).message,
      });
      this.#acks.fill(slot, formatAckLine(false, FAIL.internalError));
    }
  }

  /**
   * A verified login, by password, token or ticket: the session takes its
   * user, the connection may ship events unless the user is a viewer, and the
   * client is answered and logged.
   */
  #admit(
    slot: AckSlot,
    login: Pick<Session, "username" | "role" | "credential"> & Partial<Session>,
    logged: Record<string, string>,
  ): void {
    Object.assign(this.#session, login);
    this.#shipping = login.role !== "viewer";
    this.#ctx.preLogin?.remove(this);
    this.#good();
    this.#acks.fill(slot, formatAckLine(true, OK.login));
    this.#ctx.log.info("Client logged in", { address: this.address, ...logged });
  }

  /**
   * `LOGIN @ticket <ticket>`: one indexed read and one HMAC, no password
   * hash. A refused ticket is answered like a wrong password and counts as a
   * bad line; the ticket itself is never logged.
   */
  async #ticketLogin(ticket: string): Promise<void> {
    const slot = this.#acks.reserve();
    const tickets = this.#ctx.tickets;
    const metrics = this.#ctx.metrics;
    try {
      this.#verifyingLogin = true;
      const login = tickets
        ? await tickets.issuer.check(ticket, Date.now(), (name) => tickets.findAccount(name))
          .finally(() => this.#verifyingLogin = false)
        : null;
      this.#verifyingLogin = false;
      const fields = loginFields(login?.username ?? TICKET_LOGIN_USER, this.address, "agent");
      if (login === null) {
        if (metrics) metrics.ticketLogins.failed++;
        this.#ctx.loginEvents?.admit(this.#ip, [{
          kind: SECURITY_EVENT_KINDS.loginFailed,
          fields,
          severity: 4,
          message: `Failed login with a resumption ticket from ${this.address}`,
        }]);
        this.#countBad(FAIL.invalidCredentials, "(ticket)");
        this.#acks.fill(slot, formatAckLine(false, FAIL.invalidCredentials));
        return;
      }
      if (metrics) metrics.ticketLogins.ok++;
      this.#ctx.loginEvents?.admit(this.#ip, [{
        kind: SECURITY_EVENT_KINDS.loginOk,
        fields,
        severity: 5,
        message: `Successful login for user ${
          quote(login.username)
        } with a resumption ticket from ${this.address}`,
      }]);
      this.#admit(slot, {
        username: login.username,
        role: login.role,
        credential: login.credential,
      }, { user: quote(login.username), with: "ticket" });
    } catch (error) {
      this.#verifyingLogin = false;
      this.#ctx.log.error("Login failed", {
        address: this.address,
        error: (error as Error).message,
      });
      this.#acks.fill(slot, formatAckLine(false, FAIL.internalError));
    }
  }

  async #register(version: string, hostname: string, os: string): Promise<void> {
    // A token or client certificate bound to a name may only register as that name.
    const bound = this.#session.token?.boundHostname ?? null;
    const peers = this.#conn.peerNames;
    if ((bound !== null && hostname !== bound) || (peers && !peers.includes(hostname))) {
      return this.#bad(FAIL.hostnameNotAllowed, quote(hostname));
    }
    const slot = this.#acks.reserve();
    try {
      const at = Date.now();
      const agentId = await this.#ctx.writer.registerAgent({
        hostname,
        version,
        os,
        address: this.address,
        at,
      });
      // Closed while the registration was written: the previous node is already
      // counted as closed, and this one is lost at once.
      this.#ctx.liveness?.registered(agentId, at, this.#closed ? null : this.#session.agentId);
      if (this.#closed) this.#ctx.liveness?.closed(agentId, this.#saidBye);
      this.#session.agentId = agentId;
      this.#session.hostname = hostname;
      if (this.#ctx.metrics) this.#ctx.metrics.registrations++;
      this.#good();
      this.#acks.fill(slot, formatAckLine(true, OK.register));
    } catch (error) {
      this.#ctx.log.error("Registration failed", {
        address: this.address,
        error: (error as Error).message,
      });
      this.#acks.fill(slot, formatAckLine(false, FAIL.internalError));
    }
  }

  /**
   * Sends the pending event lines to the pool as one batch, waiting for its
   * credits only when they are not free: a fleet's one-line batches mostly
   * find them free, and then cost no promise of their own.
   */
  #flushBatch(): Promise<void> {
    if (this.#wire.count === 0) return DONE;
    const wire = this.#wire.take();
    const count = wire.ends.length;
    const slot = this.#acks.reserve();
    // Backpressure: without a credit this connection reads nothing more.
    if (this.#ctx.pool.tryAcquireBatchCredit(count)) {
      this.#sendBatch(wire, slot);
      return DONE;
    }
    return this.#ctx.pool.acquireBatchCredit(count).then(() => this.#sendBatch(wire, slot));
  }

  /** Hands a batch whose credits are taken to the pool; its answer fills `slot`. */
  #sendBatch(wire: WireLines, slot: AckSlot): void {
    const count = wire.ends.length;
    this.#lane ??= this.#ctx.pool.openLane();
    const metrics = this.#ctx.metrics;
    if (metrics) metrics.eventsReceived += count;
    const work = this.#ctx.pool.ingest({
      source: "agent",
      receivedAt: Date.now(),
      agentId: this.#session.agentId,
      defaultHost: this.#session.hostname ?? this.#ip,
      wire,
    }, this.#lane).then(
      (statuses) => {
        if (metrics) countCommitted(metrics, statuses);
        this.#countLineFailures(statuses);
        this.#acks.fill(slot, ackText(statuses));
      },
      (error) => {
        this.#ctx.log.error("Events not stored", {
          address: this.address,
          events: count,
          error: (error as Error).message,
        });
        this.#acks.fill(
          slot,
          formatAckLine(false, FAIL.internalError).repeat(count),
        );
        if (metrics) metrics.eventsFailed += count;
      },
    );
    this.#inFlight.track(work);
  }

  /** Lines the worker rejected count as bad lines, in order with the good ones. */
  #countLineFailures(statuses: Uint8Array): void {
    for (const status of statuses) {
      const reason = failureReason(status);
      if (reason === null) {
        this.#badInARow = 0;
      } else {
        this.#countBad(reason, "(event line)");
        if (this.#badInARow >= MAX_CONSECUTIVE_BAD_LINES) this.#stopping = true;
      }
    }
  }

  #good(): void {
    this.#badInARow = 0;
  }

  #countBad(reason: FailReason, detail: string): void {
    this.#badInARow++;
    this.#note("warn", reason, `Dropped line: ${reason}`, {
      address: this.address,
      line: detail,
    });
  }

  /**
   * Logs a line about this client, throttled per kind (and per user once
   * logged in): a flood of bad clients prints one line per kind a minute.
   */
  #note(level: "warn" | "info", kind: string, message: string, fields: Record<string, unknown>) {
    const warnings = this.#ctx.warnings;
    if (!warnings) return this.#ctx.log[level](message, fields);
    const key = `${kind}\0${this.#session.username ?? ""}`;
    if (level === "warn") warnings.warn(key, message, fields);
    else warnings.info(key, message, fields);
  }

  #bad(reason: FailReason, detail: string): Promise<void> | void {
    this.#countBad(reason, detail);
    // A failure is answered in order, after the events read before it.
    if (this.#wire.count > 0) {
      return this.#flushBatch().then(() => this.#acks.pushText(formatAckLine(false, reason)));
    }
    this.#acks.pushText(formatAckLine(false, reason));
  }
}

/** Adds a stored batch's outcome to the metrics. */
function countCommitted(metrics: ServerMetrics, statuses: Uint8Array): void {
  let stored = 0;
  let duplicates = 0;
  for (const status of statuses) {
    if (status === APPEND_STATUS.stored) stored++;
    else if (status === APPEND_STATUS.duplicate) duplicates++;
  }
  metrics.eventsCommitted += stored;
  metrics.eventsDuplicate += duplicates;
}

/** ACK lines for a stored batch: one per event, in order. */
function ackText(statuses: Uint8Array): string {
  if (statuses.every((status) => status === APPEND_STATUS.stored)) {
    return ACK_EVENT.repeat(statuses.length);
  }
  let text = "";
  for (const status of statuses) {
    if (status === APPEND_STATUS.stored) text += ACK_EVENT;
    else if (status === APPEND_STATUS.duplicate) text += ACK_DUPLICATE;
    else text += formatAckLine(false, failureReason(status) ?? FAIL.internalError);
  }
  return text;
}

/** Writes every byte, looping over partial writes. */
async function writeAll(conn: ByteConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(written === 0 ? bytes : bytes.subarray(written));
  }
}
