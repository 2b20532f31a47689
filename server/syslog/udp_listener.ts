/**
 * Syslog over UDP (RFC 5426): one datagram is one message. Datagrams that
 * arrive within one turn of the event loop go to the pool as one batch.
 *
 * @module
 */

import { decodeLogBytes } from "../log_formats/mod.ts";
import { senderAddress } from "./allow_list.ts";
import type { AllowList } from "./allow_list.ts";
import { SyslogBatchSender, type SyslogContext } from "./batch_sender.ts";
import { MAX_SYSLOG_BATCH_MESSAGES, SyslogBatch } from "./syslog_batch.ts";
import { WarnThrottle } from "../net/mod.ts";
import { AcceptHealth } from "../net/mod.ts";

/**
 * Receive buffer, in bytes: larger than any UDP payload (65,507 bytes over
 * IPv4), so no datagram is ever cut by the socket.
 */
export const UDP_RECEIVE_BUFFER_BYTES = 65_536;

/**
 * Kernel receive buffer below which the server warns when it listens for UDP
 * syslog, in bytes. The buffer holds the datagrams that arrive while the main
 * thread is busy elsewhere. Linux's usual default, 212,992 bytes, holds about
 * 200 small datagrams (each costs about 1 KiB of kernel memory), which a burst
 * fills in milliseconds (docs/SYSLOG.md). Deno cannot set `SO_RCVBUF` on one
 * socket, so the system's default for new sockets is what counts.
 */
export const RECOMMENDED_UDP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** Where Linux keeps the receive buffer size given to new sockets. */
const RMEM_DEFAULT_PATH = "/proc/sys/net/core/rmem_default";

/** Reads a file's text. */
export type ReadText = (path: string) => string;

const readText: ReadText = (path) => Deno.readTextFileSync(path);

/**
 * The receive buffer the kernel gives new sockets, in bytes.
 *
 * @param read Reads a file's text; the default reads the real one.
 * @returns The size, or null when it cannot be read (not Linux, no permission).
 * @example
 * ```ts
 * defaultReceiveBufferBytes(); // 212992 on a stock Linux
 * ```
 */
export function defaultReceiveBufferBytes(read: ReadText = readText): number | null {
  try {
    const bytes = Number(read(RMEM_DEFAULT_PATH).trim());
    return Number.isInteger(bytes) && bytes > 0 ? bytes : null;
  } catch {
    return null;
  }
}

/**
 * Advice when the kernel gives new sockets a receive buffer too small for UDP
 * syslog bursts (see {@linkcode RECOMMENDED_UDP_RECEIVE_BUFFER_BYTES}).
 *
 * @param read Reads a file's text; the default reads the real one.
 * @returns A one-line warning, or null when the buffer is large enough or its
 *   size cannot be read (not Linux, no permission).
 * @example
 * ```ts
 * const advice = udpReceiveBufferAdvice();
 * if (advice) log.warn(advice);
 * ```
 */
export function udpReceiveBufferAdvice(read: ReadText = readText): string | null {
  const bytes = defaultReceiveBufferBytes(read);
  if (bytes === null || bytes >= RECOMMENDED_UDP_RECEIVE_BUFFER_BYTES) return null;
  return `The kernel gives sockets a ${bytes}-byte receive buffer: UDP syslog bursts beyond a few ` +
    `hundred datagrams will be dropped. Raise it with ` +
    `sysctl -w net.core.rmem_default=${RECOMMENDED_UDP_RECEIVE_BUFFER_BYTES} (docs/SYSLOG.md)`;
}

/**
 * Messages received over UDP and waiting for the worker pool. UDP cannot
 * slow a sender down, so when the pool's batch window is full datagrams
 * queue here, and beyond this bound they are dropped and counted
 * (`droppedDatagrams`) instead of growing memory.
 */
export const MAX_UDP_QUEUED_MESSAGES = 50_000;

/** Options of {@linkcode UdpSyslogListener}. */
export interface UdpSyslogListenerOptions {
  /**
   * Messages that may wait for the worker pool before datagrams are dropped.
   * @default {MAX_UDP_QUEUED_MESSAGES}
   */
  readonly maxQueuedMessages?: number;
}

/** What a {@linkcode UdpSyslogListener} needs besides its socket. */
export interface UdpSyslogContext extends SyslogContext {
  readonly allow: AllowList;
  readonly warnings: WarnThrottle;
}

/**
 * Receives syslog datagrams until stopped.
 *
 * @example
 * ```ts
 * const socket = Deno.listenDatagram({ transport: "udp", port: 514, hostname: "0.0.0.0" });
 * const udp = new UdpSyslogListener(socket, ctx);
 * const done = udp.run();
 * await udp.stop();
 * ```
 */
export class UdpSyslogListener {
  readonly #socket: Deno.DatagramConn;
  readonly #ctx: UdpSyslogContext;
  readonly #sender: SyslogBatchSender;
  /** Full batches waiting for a credit, oldest first. */
  readonly #ready: SyslogBatch[] = [];
  /** The batch being filled. */
  #current: SyslogBatch | null = null;
  #queued = 0;
  readonly #maxQueued: number;
  /** The running pump, which sends queued batches to the pool. */
  #pumping: Promise<void> | null = null;
  readonly #health = new AcceptHealth();
  #stopped = false;
  #running: Promise<void> = Promise.resolve();

  /**
   * @param socket A bound UDP socket; this object closes it.
   * @param ctx The pool, logger, counters and allow-list.
   * @param options The queue bound.
   */
  constructor(
    socket: Deno.DatagramConn,
    ctx: UdpSyslogContext,
    options: UdpSyslogListenerOptions = {},
  ) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#maxQueued = options.maxQueuedMessages ?? MAX_UDP_QUEUED_MESSAGES;
    this.#sender = new SyslogBatchSender(ctx);
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#socket.addr as Deno.NetAddr;
  }

  /**
   * Receives until {@linkcode stop}; never rejects.
   *
   * @returns Resolves when the socket is closed.
   */
  /** Whether the receive loop serves: its last receives did not all fail (`/healthz`). */
  get accepting(): boolean {
    return this.#health.ok;
  }

  run(): Promise<void> {
    this.#running = this.#run();
    return this.#running;
  }

  async #run(): Promise<void> {
    const buffer = new Uint8Array(UDP_RECEIVE_BUFFER_BYTES);
    const { allow, stats, warnings } = this.#ctx;
    while (!this.#stopped) {
      const received = await this.#health.next(
        () => this.#socket.receive(buffer),
        () => this.#stopped,
        (error) => this.#ctx.log.error("Syslog UDP receive failed", { error }),
      );
      if (received === null) break;
      const [data, remote] = received;
      const hostname = (remote as Deno.NetAddr).hostname;
      if (!allow.allows(hostname)) {
        stats.deniedDatagrams++;
        warnings.warn(`denied ${hostname}`, "Dropped syslog from a sender outside the allow-list", {
          address: hostname,
          transport: "udp",
        });
        continue;
      }
      if (this.#queued >= this.#maxQueued) {
        stats.droppedDatagrams++;
        warnings.warn("udp queue full", "Dropped syslog datagrams: the server is overloaded", {
          queued: this.#queued,
        });
        continue;
      }
      // The buffer is reused by the next receive: decode now.
      const { text, escaped } = decodeLogBytes(data);
      const batch = this.#current ??= new SyslogBatch("udp");
      if (!batch.add(text, senderAddress(hostname), 0, escaped)) continue;
      stats.received++;
      this.#queued++;
      if (batch.size >= MAX_SYSLOG_BATCH_MESSAGES) {
        this.#ready.push(batch);
        this.#current = null;
      }
      this.#kick();
    }
  }

  /** Whether messages wait to be sent. */
  #hasQueued(): boolean {
    return this.#ready.length > 0 || (this.#current?.size ?? 0) > 0;
  }

  /** Starts the pump unless it runs; it restarts itself if messages arrived at its end. */
  #kick(): void {
    if (this.#pumping) return;
    this.#pumping = this.#pump().catch((error) =>
      this.#ctx.log.error("Syslog UDP batch not sent", { error: (error as Error).message })
    ).finally(() => {
      this.#pumping = null;
      if (this.#hasQueued()) this.#kick();
    });
  }

  /** Sends queued batches, each after waiting one turn for more datagrams to join it. */
  async #pump(): Promise<void> {
    for (;;) {
      if (this.#ready.length === 0) {
        // Let the datagrams that are already waiting join the batch being filled.
        if (!this.#stopped) await new Promise((resolve) => setTimeout(resolve, 0));
        if (this.#current === null || this.#current.size === 0) return;
        this.#ready.push(this.#current);
        this.#current = null;
      }
      const batch = this.#ready.shift()!;
      try {
        await this.#sender.send(batch);
      } finally {
        this.#queued -= batch.size;
      }
    }
  }

  /**
   * Stops receiving; what was received is still stored. Resolves when it is committed.
   */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      try {
        this.#socket.close();
      } catch {
        // Already closed.
      }
    }
    await this.#running;
    while (this.#pumping || this.#hasQueued()) {
      this.#kick();
      await this.#pumping;
    }
    await this.#sender.settled();
  }
}
