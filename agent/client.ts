/**
 * One protocol session with the server: connect, read the welcome line,
 * `LOGIN`, `REGISTER`, then pipelined `EVENT <stream> <position> <line>`
 * commands inside a bounded window, with `HEARTBEAT` and `BYE`.
 *
 * The server answers every line with exactly one `ACK`, in order, so the
 * client keeps a ring of what each in-flight line was and matches ACKs to it.
 * Lines are written in batches: each line's bytes, as read from the file,
 * are encoded behind their `EVENT <stream> <position> ` prefix into a reused
 * buffer by `encodeEventLine()` (protocol/codec.ts: no decoding, no string per
 * line), and the whole batch goes out with one `conn.write` while the next
 * batch fills a second buffer.
 *
 * @module
 */

import {
  type Ack,
  encodeEventLine,
  eventLineMaxBytes,
  FAIL,
  formatCommand,
  type LineSink,
  LineSplitter,
  OK,
  parseAck,
  TICKET_LOGIN_USER,
  ticketFromAck,
} from "../protocol/mod.ts";
import { type Clock, SYSTEM_CLOCK, type TimerId } from "./clock.ts";
import type { HostInfo } from "./host_info.ts";
import { DEFAULT_MAX_IN_FLIGHT_BYTES, DEFAULT_MAX_IN_FLIGHT_LINES } from "./limits.ts";

/** Longest wait for the TCP connection to open, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Longest wait for the welcome line, LOGIN and REGISTER answers together, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Size of the reused buffer that ACKs are read into, in bytes. */
export const ACK_READ_BUFFER_BYTES = 64 * 1024;
/**
 * Initial size of each of the two reused batch buffers, in bytes. They grow
 * on demand; their size is bounded by the byte window plus one read chunk,
 * since only lines inside the window are ever queued.
 */
export const INITIAL_WRITE_BUFFER_BYTES = 256 * 1024;
/** Initial capacity of the ring of in-flight lines; it doubles on demand. */
const INITIAL_RING_CAPACITY = 1024;

/** The server refused the credentials or the user's role: retrying cannot help. */
export class AccessDeniedError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was refused, naming the user and the server.
   * @param reason The server's `ACK FAIL` reason.
   */
  constructor(message: string, readonly reason: string) {
    super(message);
    this.name = "AccessDeniedError";
  }
}

/** What became of one sent line. */
export type EventOutcome =
  /** `ACK OK Event received` (or another OK text). */
  | "stored"
  /** `ACK OK Duplicate event`: the server already had it. */
  | "duplicate"
  /** `ACK FAIL <reason>` about the line itself: counted, logged and not resent. */
  | "failed";

/** Receives the outcome of each line sent with {@linkcode Client.queueEvent}. */
export interface ClientHandler<T> {
  /**
   * The server answered a line. Called in the order the lines were queued.
   *
   * @param ref The reference given to `queueEvent`.
   * @param position The position given to `queueEvent`.
   * @param outcome What the server did with the line.
   * @param message The ACK text, e.g. the FAIL reason.
   */
  eventAcked(ref: T, position: number, outcome: EventOutcome, message: string): void;
  /** Called after each chunk of ACKs read from the socket (the window may have room again). */
  acksProcessed?(): void;
  /** The server refused a heartbeat (informational). */
  heartbeatFailed?(reason: string): void;
}

/** Options of {@linkcode Client.connect}. */
export interface ClientOptions<T> {
  /** Server host name or IP address. */
  hostname: string;
  /** Server TCP port. */
  port: number;
  /** User to LOGIN as; must not contain whitespace. */
  username: string;
  /** Password; must not contain a line break or NUL. */
  password: string;
  /** Fields of the REGISTER command. */
  host: HostInfo;
  /** Receives ACK outcomes. */
  handler: ClientHandler<T>;
  /**
   * Most lines sent and not yet acknowledged.
   * @default {DEFAULT_MAX_IN_FLIGHT_LINES} (10,000)
   */
  maxInFlightLines?: number;
  /**
   * Most file bytes sent and not yet acknowledged (a read may overshoot by one buffer).
   * @default {DEFAULT_MAX_IN_FLIGHT_BYTES} (8 MiB)
   */
  maxInFlightBytes?: number;
  /**
   * Longest wait for the TCP connection, in milliseconds.
   * @default {DEFAULT_CONNECT_TIMEOUT_MS} (10 s)
   */
  connectTimeoutMs?: number;
  /**
   * Longest wait for the handshake, in milliseconds.
   * @default {DEFAULT_HANDSHAKE_TIMEOUT_MS} (10 s)
   */
  handshakeTimeoutMs?: number;
  /**
   * Timers and time.
   * @default {SYSTEM_CLOCK}
   */
  clock?: Clock;
  /** Aborts connecting and the handshake. */
  signal?: AbortSignal;
  /** Connect with TLS (docs/SECURITY.md); absent: plain TCP, as in the paper. */
  tls?: ClientTls;
  /**
   * A resumption ticket from an earlier session: LOGIN with it first
   * (`LOGIN @ticket`, no password hash on the server), with the password
   * when the server refuses it.
   */
  ticket?: string;
  /**
   * After a password LOGIN, ask for a resumption ticket (`TICKET`), kept in
   * {@linkcode Client.ticket}. A server that does not know the command
   * answers `ACK FAIL Unknown command`, and the session goes on without one.
   * @default {false}
   */
  requestTicket?: boolean;
}

/** TLS settings of the agent's connection. */
export interface ClientTls {
  /** CA certificates (PEM) trusted for the server; absent: the system's roots. */
  readonly caCerts?: readonly string[];
  /** Client certificate chain (PEM), for a server that requires mutual TLS. */
  readonly cert?: string;
  /** Private key (PEM) of `cert`. */
  readonly key?: string;
}

const KIND_EVENT = 0;
const KIND_HEARTBEAT = 1;
const KIND_CONTROL = 2;

const ACK_EVENT_LINE = `ACK OK ${OK.event}`;
const ACK_DUPLICATE_LINE = `ACK OK ${OK.duplicate}`;

/**
 * FAIL reasons for an EVENT that say nothing about the line itself: the
 * connection is closed and the line resent after reconnecting.
 */
const RETRYABLE_FAILURES: ReadonlySet<string> = new Set([
  FAIL.shuttingDown,
  FAIL.internalError,
  FAIL.notLoggedIn,
  FAIL.notRegistered,
  FAIL.tooManyBadLines,
  // The server closes the connection after these: reconnect, resend.
  FAIL.idleTimeout,
  FAIL.lineTimeout,
  FAIL.credentialRevoked,
  FAIL.tooManyConnections,
  FAIL.tooManyConnectionsFromAddress,
]);

/** LOGIN failures that retrying cannot fix. */
const FATAL_LOGIN_FAILURES: ReadonlySet<string> = new Set([
  FAIL.invalidCredentials,
  FAIL.usageLogin,
  FAIL.forbidden,
]);

interface Waiter<V> {
  resolve(value: V): void;
  reject(error: Error): void;
}

const encoder = new TextEncoder();
const LF = 0x0a;

/**
 * A logged-in, registered protocol session.
 *
 * @example
 * ```ts
 * const client = await Client.connect<string>({
 *   hostname: "127.0.0.1", port: 8080, username: "admin", password: "admin",
 *   host: await readHostInfo(),
 *   handler: { eventAcked: (ref, position, outcome) => console.log(ref, position, outcome) },
 * });
 * const encode = (text: string) => new TextEncoder().encode(text);
 * client.queueEvent("syslog", encode("q8Jc0mRk3lq2wK0nTnVb3A"), 42, encode("sshd: session opened"), 42);
 * await client.flush();
 * await client.waitForAcks(5_000);
 * await client.bye(2_000);
 * client.close();
 * ```
 */
export class Client<T> {
  /** The server's first line. */
  welcome = "";
  /** Whether this session logged in with the resumption ticket it was given. */
  resumedWithTicket = false;
  /** Whether the server refused the resumption ticket it was given (the password followed). */
  ticketRefused = false;
  /** A resumption ticket the server handed out in this session, or null (a secret: never log it). */
  ticket: string | null = null;
  /** Resolves with the reason once the connection is closed and its loops have ended. */
  readonly done: Promise<Error>;
  readonly #conn: Deno.Conn;
  readonly #handler: ClientHandler<T>;
  readonly #clock: Clock;
  readonly #maxLines: number;
  readonly #maxBytes: number;
  readonly #splitter = new LineSplitter();
  readonly #sink: LineSink;
  #closedReason: Error | undefined;
  #welcomeWaiter: Waiter<string> | undefined;
  #controlWaiter: Waiter<Ack> | undefined;
  #drainWaiters: (() => void)[] = [];
  #greeted = false;
  // Ring of in-flight lines, in send order.
  #kinds = new Uint8Array(INITIAL_RING_CAPACITY);
  #refs: (T | undefined)[] = new Array(INITIAL_RING_CAPACITY);
  #positions = new Float64Array(INITIAL_RING_CAPACITY);
  #sizes = new Float64Array(INITIAL_RING_CAPACITY);
  #head = 0;
  #count = 0;
  #inFlightLines = 0;
  #inFlightBytes = 0;
  #lastProgressAt: number;
  // Write side: the batch being filled, and the one being written.
  #out = new Uint8Array(INITIAL_WRITE_BUFFER_BYTES);
  #outLength = 0;
  #spare = new Uint8Array(INITIAL_WRITE_BUFFER_BYTES);
  #writing = false;
  #writeDone: Promise<void> = Promise.resolve();
  #readLoop: Promise<void>;

  private constructor(conn: Deno.Conn, options: ClientOptions<T>) {
    this.#conn = conn;
    this.#handler = options.handler;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#maxLines = options.maxInFlightLines ?? DEFAULT_MAX_IN_FLIGHT_LINES;
    this.#maxBytes = options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
    this.#lastProgressAt = this.#clock.now();
    this.#sink = {
      line: (text) => this.#onLine(text),
      overflow: (bytes) => this.#fail(new Error(`Server sent a line of ${bytes} bytes`)),
    };
    this.#readLoop = this.#read();
    this.done = this.#readLoop.then(() => this.#writeDone).then(() => this.#closedReason!);
  }

  /**
   * Connects, reads the welcome line, logs in and registers.
   *
   * @param options Server address, credentials, host fields and window.
   * @returns The ready session.
   * @throws {AccessDeniedError} When the server refuses the credentials or role.
   * @throws {Error} When the server cannot be reached or the handshake fails (worth retrying).
   */
  static async connect<T>(options: ClientOptions<T>): Promise<Client<T>> {
    validateCredentials(options.username, options.password);
    const clock = options.clock ?? SYSTEM_CLOCK;
    const conn = await connectWithTimeout(options, clock);
    const client = new Client<T>(conn, options);
    const timer = clock.setTimeout(
      () => client.close(new Error("Handshake timed out")),
      options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    );
    const onAbort = () => client.close(new Error("Connection attempt aborted"));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await client.#handshake(options);
      return client;
    } catch (error) {
      client.close(error as Error);
      await client.done;
      throw error;
    } finally {
      clock.clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#closedReason !== undefined;
  }

  /** Lines sent (or queued) and not yet acknowledged. */
  get inFlightLines(): number {
    return this.#inFlightLines;
  }

  /** File bytes of those lines. */
  get inFlightBytes(): number {
    return this.#inFlightBytes;
  }

  /** Commands (lines, heartbeats, handshake) sent and not yet answered. */
  get unanswered(): number {
    return this.#count;
  }

  /**
   * When the server last made progress, in clock milliseconds: the last ACK,
   * or the moment a command was sent while nothing was outstanding. A
   * watchdog closes the session when commands stay unanswered too long.
   */
  get lastProgressAt(): number {
    return this.#lastProgressAt;
  }

  /**
   * Whether the window has room for more lines.
   *
   * @returns False when closed or when either window bound is reached.
   */
  hasRoom(): boolean {
    return this.#closedReason === undefined && this.#inFlightLines < this.#maxLines &&
      this.#inFlightBytes < this.#maxBytes;
  }

  /**
   * Queues `EVENT <stream> <position> <message>`; {@linkcode Client.flush} sends it.
   *
   * @param ref Opaque reference handed back with the line's ACK.
   * @param stream Stream id as ASCII bytes (`[A-Za-z0-9_-]`).
   * @param position End offset of the line in its stream (a safe integer).
   * @param message The line's bytes: non-empty, without line breaks or NUL;
   *   copied, so the caller may reuse the memory afterwards.
   * @param bytes The line's size in the file, for the byte window.
   */
  queueEvent(
    ref: T,
    stream: Uint8Array,
    position: number,
    message: Uint8Array,
    bytes: number,
  ): void {
    if (this.#closedReason !== undefined) return;
    const out = this.#reserve(eventLineMaxBytes(stream.length, message.length));
    this.#outLength = encodeEventLine(out, this.#outLength, stream, position, message);
    this.#push(KIND_EVENT, ref, position, bytes);
    this.#inFlightLines++;
    this.#inFlightBytes += bytes;
  }

  /**
   * Sends `HEARTBEAT <uptime_seconds> lag=<bytes>`.
   *
   * @param uptimeSeconds Seconds since the agent started.
   * @param lagBytes Bytes in followed files beyond the acknowledged offsets.
   * @returns Resolves once written.
   */
  heartbeat(uptimeSeconds: number, lagBytes: number): Promise<void> {
    if (this.#closedReason !== undefined) return Promise.resolve();
    this.#queueText(formatCommand({
      type: "HEARTBEAT",
      uptimeSeconds: Math.max(0, Math.floor(uptimeSeconds)),
      lagBytes: Math.max(0, Math.floor(lagBytes)),
    }));
    this.#push(KIND_HEARTBEAT, undefined, 0, 0);
    return this.flush();
  }

  /**
   * Writes everything queued. Concurrent calls share one write loop, so
   * lines go out in queue order.
   *
   * @returns Resolves once the queued bytes are handed to the OS (or the connection failed).
   */
  flush(): Promise<void> {
    if (this.#writing) return this.#writeDone;
    if (this.#outLength === 0 || this.#closedReason !== undefined) return Promise.resolve();
    this.#writing = true;
    this.#writeDone = this.#writeLoop();
    return this.#writeDone;
  }

  /**
   * Waits until every sent line is acknowledged.
   *
   * @param timeoutMs Longest wait, in milliseconds.
   * @returns True when nothing is in flight; false on timeout or a closed connection.
   */
  async waitForAcks(timeoutMs: number): Promise<boolean> {
    await this.flush();
    if (this.#inFlightLines === 0) return true;
    if (this.#closedReason !== undefined) return false;
    let timer: TimerId | undefined;
    let waiter: (() => void) | undefined;
    const drained = new Promise<boolean>((resolve) => {
      waiter = () => resolve(this.#inFlightLines === 0);
      this.#drainWaiters.push(waiter);
      timer = this.#clock.setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await drained;
    } finally {
      this.#clock.clearTimeout(timer);
      this.#drainWaiters = this.#drainWaiters.filter((w) => w !== waiter);
    }
  }

  /**
   * Says `BYE` and waits for `ACK OK Goodbye`.
   *
   * @param timeoutMs Longest wait, in milliseconds.
   * @returns Whether the server acknowledged the goodbye.
   */
  async bye(timeoutMs: number): Promise<boolean> {
    if (this.#closedReason !== undefined) return false;
    let timer: TimerId | undefined;
    try {
      const ack = await Promise.race([
        this.#sendControl(formatCommand({ type: "BYE" })),
        new Promise<Ack>((resolve) => {
          timer = this.#clock.setTimeout(
            () => resolve({ ok: false, message: "timed out" }),
            timeoutMs,
          );
        }),
      ]);
      return ack.ok;
    } catch {
      return false;
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  /**
   * Closes the connection. Lines in flight stay unacknowledged. Idempotent.
   *
   * @param reason Why, reported by {@linkcode Client.done}.
   */
  close(reason: Error = new Error("Connection closed by the agent")): void {
    this.#fail(reason);
  }

  async #handshake(options: ClientOptions<T>): Promise<void> {
    const server = `${options.hostname}:${options.port}`;
    this.welcome = await new Promise<string>((resolve, reject) => {
      this.#welcomeWaiter = { resolve, reject };
    });
    if (this.welcome.startsWith("ACK FAIL ")) {
      throw new Error(`Server ${server} refused the connection: ${this.welcome.slice(9)}`);
    }
    if (options.ticket !== undefined) {
      const resumed = await this.#sendControl(formatCommand({
        type: "LOGIN",
        username: TICKET_LOGIN_USER,
        password: options.ticket,
      }));
      // Refused (expired, revoked, another server's): the password follows.
      this.resumedWithTicket = resumed.ok;
      this.ticketRefused = !resumed.ok;
    }
    const login = this.resumedWithTicket
      ? { ok: true, message: OK.login }
      : await this.#sendControl(
        formatCommand({ type: "LOGIN", username: options.username, password: options.password }),
      );
    if (!login.ok) {
      if (FATAL_LOGIN_FAILURES.has(login.message)) {
        throw new AccessDeniedError(
          `Login to ${server} as ${options.username} was refused: ${login.message}`,
          login.message,
        );
      }
      throw new Error(`Login to ${server} failed: ${login.message}`);
    }
    if (options.requestTicket && !this.resumedWithTicket) {
      const answer = await this.#sendControl(formatCommand({ type: "TICKET" }));
      this.ticket = answer.ok ? ticketFromAck(answer.message) : null;
    }
    const register = await this.#sendControl(formatCommand({
      type: "REGISTER",
      version: options.host.version,
      hostname: options.host.hostname,
      os: options.host.os,
    }));
    if (!register.ok) {
      if (register.message === FAIL.forbidden || register.message === FAIL.hostnameNotAllowed) {
        throw new AccessDeniedError(
          `User ${options.username} may not register as an agent on ${server}: ${register.message}`,
          register.message,
        );
      }
      throw new Error(`Registration with ${server} failed: ${register.message}`);
    }
  }

  #sendControl(line: string): Promise<Ack> {
    if (this.#closedReason !== undefined) return Promise.reject(this.#closedReason);
    const answer = new Promise<Ack>((resolve, reject) => {
      this.#controlWaiter = { resolve, reject };
    });
    this.#queueText(line);
    this.#push(KIND_CONTROL, undefined, 0, 0);
    void this.flush();
    return answer;
  }

  #push(kind: number, ref: T | undefined, position: number, bytes: number): void {
    if (this.#count === 0) this.#lastProgressAt = this.#clock.now();
    if (this.#count === this.#kinds.length) this.#grow();
    const index = (this.#head + this.#count) % this.#kinds.length;
    this.#kinds[index] = kind;
    this.#refs[index] = ref;
    this.#positions[index] = position;
    this.#sizes[index] = bytes;
    this.#count++;
  }

  #grow(): void {
    const capacity = this.#kinds.length * 2;
    const kinds = new Uint8Array(capacity);
    const refs: (T | undefined)[] = new Array(capacity);
    const positions = new Float64Array(capacity);
    const sizes = new Float64Array(capacity);
    for (let i = 0; i < this.#count; i++) {
      const from = (this.#head + i) % this.#kinds.length;
      kinds[i] = this.#kinds[from]!;
      refs[i] = this.#refs[from];
      positions[i] = this.#positions[from]!;
      sizes[i] = this.#sizes[from]!;
    }
    this.#kinds = kinds;
    this.#refs = refs;
    this.#positions = positions;
    this.#sizes = sizes;
    this.#head = 0;
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(ACK_READ_BUFFER_BYTES);
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) {
          this.#fail(new Error("Connection closed by the server"));
          return;
        }
        this.#lastProgressAt = this.#clock.now();
        this.#splitter.push(buffer.subarray(0, n), this.#sink);
        if (this.#closedReason !== undefined) return;
        this.#handler.acksProcessed?.();
      }
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #onLine(text: string): void {
    if (this.#closedReason !== undefined) return;
    if (!this.#greeted) {
      this.#greeted = true;
      const waiter = this.#welcomeWaiter;
      this.#welcomeWaiter = undefined;
      waiter?.resolve(text);
      return;
    }
    if (this.#count === 0) {
      this.#fail(
        new Error(`Unexpected line from the server: ${JSON.stringify(text.slice(0, 80))}`),
      );
      return;
    }
    const index = this.#head;
    const kind = this.#kinds[index];
    const ref = this.#refs[index];
    this.#refs[index] = undefined;
    this.#head = (index + 1) % this.#kinds.length;
    this.#count--;
    if (kind === KIND_EVENT) {
      this.#onEventAck(ref as T, this.#positions[index]!, this.#sizes[index]!, text);
      return;
    }
    const parsed = parseAck(text);
    if (!parsed.ok) {
      this.#fail(new Error(`Protocol error: ${parsed.reason}`));
      return;
    }
    if (kind === KIND_HEARTBEAT) {
      if (!parsed.ack.ok) this.#handler.heartbeatFailed?.(parsed.ack.message);
      return;
    }
    const waiter = this.#controlWaiter;
    this.#controlWaiter = undefined;
    waiter?.resolve(parsed.ack);
  }

  #onEventAck(ref: T, position: number, bytes: number, text: string): void {
    let outcome: EventOutcome;
    let message: string;
    // Fast path: compare whole lines, no parsing or slicing per ACK.
    if (text === ACK_EVENT_LINE) {
      outcome = "stored";
      message = OK.event;
    } else if (text === ACK_DUPLICATE_LINE) {
      outcome = "duplicate";
      message = OK.duplicate;
    } else {
      const parsed = parseAck(text);
      if (!parsed.ok) {
        this.#fail(new Error(`Protocol error: ${parsed.reason}`));
        return;
      }
      message = parsed.ack.message;
      if (parsed.ack.ok) {
        outcome = "stored";
      } else if (message === FAIL.forbidden) {
        this.#fail(
          new AccessDeniedError(`The server refused to store events: ${message}`, message),
        );
        return;
      } else if (RETRYABLE_FAILURES.has(message)) {
        // Not about this line: keep it unacknowledged and resend after reconnecting.
        this.#fail(new Error(`Server refused a line: ${message}`));
        return;
      } else {
        outcome = "failed";
      }
    }
    this.#inFlightLines--;
    this.#inFlightBytes -= bytes;
    this.#handler.eventAcked(ref, position, outcome, message);
    if (this.#inFlightLines === 0 && this.#drainWaiters.length > 0) {
      for (const waiter of this.#drainWaiters) waiter();
    }
  }

  async #writeLoop(): Promise<void> {
    try {
      while (this.#outLength > 0 && this.#closedReason === undefined) {
        // Swap buffers: lines queued during this write fill the other one.
        const batch = this.#out;
        const length = this.#outLength;
        this.#out = this.#spare;
        this.#outLength = 0;
        this.#spare = batch;
        let written = 0;
        while (written < length) {
          written += await this.#conn.write(batch.subarray(written, length));
        }
      }
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#writing = false;
    }
  }

  /** Makes room for `needed` more bytes in the batch being filled. */
  #reserve(needed: number): Uint8Array {
    const total = this.#outLength + needed;
    if (total > this.#out.length) {
      const grown = new Uint8Array(Math.max(total, this.#out.length * 2));
      grown.set(this.#out.subarray(0, this.#outLength));
      this.#out = grown;
    }
    return this.#out;
  }

  /** Queues one text line (a control command or heartbeat) and its newline. */
  #queueText(line: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes.
    const out = this.#reserve(line.length * 3 + 1);
    const { written } = encoder.encodeInto(line, out.subarray(this.#outLength));
    this.#outLength += written;
    out[this.#outLength++] = LF;
  }

  #fail(error: Error): void {
    if (this.#closedReason !== undefined) return;
    this.#closedReason = error;
    this.#outLength = 0;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer or the runtime.
    }
    this.#welcomeWaiter?.reject(error);
    this.#welcomeWaiter = undefined;
    this.#controlWaiter?.reject(error);
    this.#controlWaiter = undefined;
    for (const waiter of this.#drainWaiters) waiter();
  }
}

function validateCredentials(username: string, password: string): void {
  if (username.length === 0 || /[\s\0]/.test(username)) {
    throw new TypeError(`Cannot log in: invalid user name ${JSON.stringify(username)}`);
  }
  if (password.length === 0 || /[\r\n\0]/.test(password)) {
    throw new TypeError("Cannot log in: the password is empty or contains a line break or NUL");
  }
}

async function connectWithTimeout<T>(
  options: ClientOptions<T>,
  clock: Clock,
): Promise<Deno.Conn> {
  const controller = new AbortController();
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const timer = clock.setTimeout(
    () => controller.abort(new Error(`Connecting timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  const onAbort = () => controller.abort(new Error("Connection attempt aborted"));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (options.tls) return await connectTls(options, options.tls, controller.signal);
    const conn = await Deno.connect({
      hostname: options.hostname,
      port: options.port,
      transport: "tcp",
      signal: controller.signal,
    });
    conn.setNoDelay(true);
    conn.setKeepAlive(true);
    return conn;
  } catch (error) {
    if (controller.signal.aborted && controller.signal.reason instanceof Error) {
      throw controller.signal.reason;
    }
    throw error;
  } finally {
    clock.clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Opens a TLS connection and completes the handshake, so that a server whose
 * certificate does not verify is reported as such at once.
 */
async function connectTls<T>(
  options: ClientOptions<T>,
  tls: ClientTls,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  const connecting = Deno.connectTls({
    hostname: options.hostname,
    port: options.port,
    ...(tls.caCerts ? { caCerts: [...tls.caCerts] } : {}),
    ...(tls.cert !== undefined && tls.key !== undefined ? { cert: tls.cert, key: tls.key } : {}),
  });
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const conn = await Promise.race([connecting, aborted]);
    try {
      await Promise.race([conn.handshake(), aborted]);
    } catch (error) {
      conn.close();
      throw error;
    }
    return conn;
  } catch (error) {
    // A connection that completes after the abort is closed, not leaked.
    connecting.then((conn) => {
      try {
        conn.close();
      } catch {
        // already closed after a failed handshake
      }
    }, () => {});
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
