/**
 * One client connection: framing, the session state machine and in-order
 * ACKs. Runs on the main thread; the work behind each line runs in the
 * worker pool. A bad line is answered with `ACK FAIL` and the connection
 * survives, up to {@linkcode MAX_CONSECUTIVE_BAD_LINES} in a row.
 *
 * @module
 */

import {
  FAIL,
  type FailReason,
  formatAck,
  type LineSink,
  LineSplitter,
  MAX_CONSECUTIVE_BAD_LINES,
  OK,
  parseCommand,
  WELCOME_LINE,
} from "../protocol/mod.ts";
import { AckQueue } from "./ack_queue.ts";
import { type Logger, quote } from "./log.ts";
import { APPEND_STATUS, type Role } from "./store/store.ts";
import type { WorkerPool } from "./worker_pool.ts";

/** Bytes read from the socket at once. */
const READ_BUFFER_BYTES = 64 * 1024;

/** Most event lines sent to a worker as one batch. */
export const MAX_BATCH_LINES = 1000;

/**
 * Unwritten ACK slots (batches, commands, runs of failures) one connection may
 * have. At the limit the connection stops reading until the client has read
 * its ACKs, so a client that never reads cannot grow the server's memory.
 */
export const MAX_PENDING_ACKS_PER_CONNECTION = 16;

const ACK_EVENT = formatAck(true, OK.event) + "\n";
const ACK_DUPLICATE = formatAck(true, OK.duplicate) + "\n";

/** What a connection needs from the server around it. */
export interface ConnectionContext {
  readonly pool: WorkerPool;
  readonly log: Logger;
}

interface Session {
  username: string | null;
  role: Role | null;
  agentId: number | null;
  hostname: string | null;
}

interface PendingBatch {
  lines: string[];
  streams: (string | null)[] | null;
  positions: number[] | null;
}

/**
 * Serves one accepted socket until the client leaves, the server stops, or
 * the client sends too many bad lines in a row.
 *
 * @example
 * ```ts
 * const connection = new Connection(conn, { pool, log });
 * await connection.serve();
 * ```
 */
export class Connection {
  /** Client address as `ip:port`. */
  readonly address: string;
  readonly #conn: Deno.Conn;
  readonly #ctx: ConnectionContext;
  readonly #acks: AckQueue;
  readonly #splitter = new LineSplitter();
  readonly #session: Session = { username: null, role: null, agentId: null, hostname: null };
  readonly #ip: string;
  #batch: PendingBatch = { lines: [], streams: null, positions: null };
  #lines: (string | number)[] = [];
  #badInARow = 0;
  #stopping = false;
  #closed = false;
  #reading = false;
  /** Pool worker of this connection's batches, and how many are in flight there. */
  #worker = 0;
  #batchesInFlight = 0;
  #inFlight = new Set<Promise<unknown>>();
  #served: Promise<void> = Promise.resolve();

  /**
   * @param conn The accepted socket; the connection owns and closes it.
   * @param ctx The worker pool and logger.
   */
  constructor(conn: Deno.Conn, ctx: ConnectionContext) {
    this.#conn = conn;
    this.#ctx = ctx;
    const remote = conn.remoteAddr as Deno.NetAddr;
    this.#ip = remote.hostname;
    this.address = remote.hostname.includes(":")
      ? `[${remote.hostname}]:${remote.port}`
      : `${remote.hostname}:${remote.port}`;
    this.#acks = new AckQueue((bytes) => writeAll(conn, bytes));
  }

  /** The authenticated user, or null before LOGIN. */
  get username(): string | null {
    return this.#session.username;
  }

  /** Sends the welcome line, then reads and answers lines until the end. */
  serve(): Promise<void> {
    this.#served = this.#serve();
    return this.#served;
  }

  async #serve(): Promise<void> {
    this.#acks.pushText(WELCOME_LINE + "\n");
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    const lines = this.#lines;
    const sink: LineSink = {
      line: (text) => lines.push(text),
      overflow: (bytes) => lines.push(bytes),
    };
    try {
      while (!this.#stopping) {
        let n: number | null;
        this.#reading = true;
        try {
          n = await this.#conn.read(buffer);
        } catch {
          break; // reset by peer, or closed by stop()
        } finally {
          this.#reading = false;
        }
        if (n === null) break;
        this.#splitter.push(buffer.subarray(0, n), sink);
        await this.#handleLines(lines);
        lines.length = 0;
        await this.#acks.waitBelow(MAX_PENDING_ACKS_PER_CONNECTION);
        if (this.#acks.broken) break;
      }
      // Everything read so far is answered before the socket closes.
      await Promise.allSettled(this.#inFlight);
      await this.#acks.drained();
    } finally {
      this.#close();
    }
  }

  /**
   * Stops reading; lines already read are still processed and answered, then
   * the connection closes. Resolves when it has closed.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#reading) {
      // Blocked in read(): every line read so far has been dispatched, so
      // answer them all, then closing the socket ends the read.
      await Promise.allSettled(this.#inFlight);
      await this.#acks.drained();
      this.#close();
    }
    await this.#served;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
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
      if (this.#badInARow >= MAX_CONSECUTIVE_BAD_LINES) {
        this.#ctx.log.warn("Closing connection after too many bad lines", {
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
    if (!parsed.ok) return this.#bad(parsed.reason, quote(line));
    const command = parsed.command;
    const session = this.#session;
    if (command.type === "LOGIN") {
      if (session.username !== null) return this.#bad(FAIL.alreadyLoggedIn, command.username);
      await this.#flushBatch();
      return this.#login(command.username, command.password);
    }
    if (session.username === null) return this.#bad(FAIL.notLoggedIn, command.type);
    if (session.role === "viewer") return this.#bad(FAIL.forbidden, command.type);
    switch (command.type) {
      case "BATCH_EVENT":
        return this.#addEvent(command.message, null, -1);
      case "EVENT":
        return this.#addEvent(command.message, command.stream, command.position);
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
        return this.#track(this.#ctx.pool.recordHeartbeat(heartbeat), () => OK.heartbeat);
      }
      case "BYE": {
        await this.#flushBatch();
        this.#good();
        this.#stopping = true;
        if (session.agentId === null) {
          return this.#acks.pushText(formatAck(true, OK.goodbye) + "\n");
        }
        const stopped = this.#ctx.pool.markAgentStopped(session.agentId, Date.now());
        return this.#track(stopped, () => OK.goodbye);
      }
    }
  }

  /** Reserves an ACK slot for `work` and fills it with OK or, on failure, FAIL. */
  #track<T>(work: Promise<T>, ok: (value: T) => string): void {
    const slot = this.#acks.reserve();
    const done = work.then(
      (value) => this.#acks.fill(slot, formatAck(true, ok(value)) + "\n"),
      (error) => {
        this.#ctx.log.error("Command failed", {
          address: this.address,
          error: (error as Error).message,
        });
        this.#acks.fill(slot, formatAck(false, FAIL.internalError) + "\n");
      },
    );
    this.#inFlight.add(done);
    done.finally(() => this.#inFlight.delete(done));
  }

  async #login(username: string, password: string): Promise<void> {
    const slot = this.#acks.reserve();
    try {
      const outcome = await this.#ctx.pool.login(username, password, this.address);
      if (outcome.ok) {
        this.#session.username = username;
        this.#session.role = outcome.role;
        this.#good();
        this.#acks.fill(slot, formatAck(true, OK.login) + "\n");
        this.#ctx.log.info("Client logged in", { address: this.address, user: quote(username) });
      } else {
        this.#countBad(FAIL.invalidCredentials, quote(username));
        this.#acks.fill(slot, formatAck(false, FAIL.invalidCredentials) + "\n");
      }
    } catch (error) {
      this.#ctx.log.error("Login failed", {
        address: this.address,
        error: (error as Error).message,
      });
      this.#acks.fill(slot, formatAck(false, FAIL.internalError) + "\n");
    }
  }

  async #register(version: string, hostname: string, os: string): Promise<void> {
    const slot = this.#acks.reserve();
    try {
      const agentId = await this.#ctx.pool.registerAgent({
        hostname,
        version,
        os,
        address: this.address,
        at: Date.now(),
      });
      this.#session.agentId = agentId;
      this.#session.hostname = hostname;
      this.#good();
      this.#acks.fill(slot, formatAck(true, OK.register) + "\n");
    } catch (error) {
      this.#ctx.log.error("Registration failed", {
        address: this.address,
        error: (error as Error).message,
      });
      this.#acks.fill(slot, formatAck(false, FAIL.internalError) + "\n");
    }
  }

  #addEvent(message: string, stream: string | null, position: number): Promise<void> | void {
    const batch = this.#batch;
    if (stream !== null && batch.streams === null) {
      batch.streams = new Array(batch.lines.length).fill(null);
      batch.positions = new Array(batch.lines.length).fill(-1);
    }
    batch.lines.push(message);
    if (batch.streams !== null) {
      batch.streams.push(stream);
      batch.positions!.push(position);
    }
    this.#good();
    if (batch.lines.length >= MAX_BATCH_LINES) return this.#flushBatch();
  }

  /** Sends the pending event lines to the pool as one batch, waiting for a credit. */
  async #flushBatch(): Promise<void> {
    const batch = this.#batch;
    if (batch.lines.length === 0) return;
    this.#batch = { lines: [], streams: null, positions: null };
    const slot = this.#acks.reserve();
    // Backpressure: without a credit this connection reads nothing more.
    await this.#ctx.pool.acquireBatchCredit();
    if (this.#batchesInFlight === 0) this.#worker = this.#ctx.pool.leastLoaded();
    this.#batchesInFlight++;
    const work = this.#ctx.pool.appendEvents({
      receivedAt: Date.now(),
      agentId: this.#session.agentId,
      defaultHost: this.#session.hostname ?? this.#ip,
      lines: batch.lines,
      streams: batch.streams,
      positions: batch.positions ? Float64Array.from(batch.positions) : null,
    }, this.#worker).finally(() => this.#batchesInFlight--).then(
      (statuses) => this.#acks.fill(slot, ackText(statuses)),
      (error) => {
        this.#ctx.log.error("Events not stored", {
          address: this.address,
          events: batch.lines.length,
          error: (error as Error).message,
        });
        this.#acks.fill(
          slot,
          (formatAck(false, FAIL.internalError) + "\n").repeat(batch.lines.length),
        );
      },
    );
    this.#inFlight.add(work);
    work.finally(() => this.#inFlight.delete(work));
  }

  #good(): void {
    this.#badInARow = 0;
  }

  #countBad(reason: FailReason, detail: string): void {
    this.#badInARow++;
    this.#ctx.log.warn(`Dropped line: ${reason}`, { address: this.address, line: detail });
  }

  #bad(reason: FailReason, detail: string): Promise<void> | void {
    this.#countBad(reason, detail);
    // A failure is answered in order, after the events read before it.
    if (this.#batch.lines.length > 0) {
      return this.#flushBatch().then(() => this.#acks.pushText(formatAck(false, reason) + "\n"));
    }
    this.#acks.pushText(formatAck(false, reason) + "\n");
  }
}

/** ACK lines for a stored batch: one per event, in order. */
function ackText(statuses: Uint8Array): string {
  if (!statuses.includes(APPEND_STATUS.duplicate)) return ACK_EVENT.repeat(statuses.length);
  let text = "";
  for (const status of statuses) {
    text += status === APPEND_STATUS.duplicate ? ACK_DUPLICATE : ACK_EVENT;
  }
  return text;
}

/** Writes every byte, looping over partial writes. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}
