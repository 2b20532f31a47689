/**
 * One syslog sender's TCP or TLS connection: frames messages (RFC 6587) and
 * hands them to the pool in batches. There is nothing to answer; when the
 * pool's batch window is full the connection stops reading, and TCP slows
 * the sender down.
 *
 * @module
 */

import type { SyslogTransport } from "../store/mod.ts";
import { SyslogBatchSender, type SyslogContext } from "./batch_sender.ts";
import { SyslogFramer, type SyslogFrameSink } from "./framer.ts";
import { MAX_SYSLOG_BATCH_MESSAGES, SyslogBatch } from "./syslog_batch.ts";

/** Bytes read from the socket at once. */
export const TCP_READ_BUFFER_BYTES = 32 * 1024;

/**
 * Serves one accepted syslog connection until the sender closes it or the
 * server stops.
 *
 * @example
 * ```ts
 * const connection = new SyslogConnection(conn, "tcp", "10.0.0.5", ctx);
 * await connection.serve();
 * ```
 */
export class SyslogConnection {
  /** The sender's IP address. */
  readonly address: string;
  readonly #conn: Deno.Conn;
  readonly #transport: SyslogTransport;
  readonly #ctx: SyslogContext;
  readonly #sender: SyslogBatchSender;
  readonly #framer = new SyslogFramer();
  #stopping = false;
  #closed = false;
  /** Whether a read is waiting for the sender, and since when (ms since the epoch). */
  #reading = false;
  #readingSince = Date.now();
  #served: Promise<void> = Promise.resolve();

  /**
   * @param conn The accepted socket; the connection owns and closes it.
   * @param transport `tcp` or `tls`.
   * @param address The sender's IP address, as recorded.
   * @param ctx The pool, logger and counters.
   */
  constructor(conn: Deno.Conn, transport: SyslogTransport, address: string, ctx: SyslogContext) {
    this.#conn = conn;
    this.#transport = transport;
    this.address = address;
    this.#ctx = ctx;
    this.#sender = new SyslogBatchSender(ctx);
  }

  /**
   * How long the sender has left this connection waiting for bytes; time the
   * server holds it back itself (a full batch window) does not count.
   *
   * @param now Ms since the epoch.
   * @returns Ms, 0 while not reading.
   */
  idleMs(now: number): number {
    return this.#reading ? now - this.#readingSince : 0;
  }

  /**
   * Reads and stores messages until the end.
   *
   * @returns Resolves when the connection is closed and its messages are committed.
   */
  serve(): Promise<void> {
    this.#served = this.#serve();
    return this.#served;
  }

  async #serve(): Promise<void> {
    const buffer = new Uint8Array(TCP_READ_BUFFER_BYTES);
    const stats = this.#ctx.stats;
    const full: SyslogBatch[] = [];
    let batch = new SyslogBatch(this.#transport);
    const sink: SyslogFrameSink = {
      frame: (message, droppedBytes, escaped) => {
        if (!batch.add(message, this.address, droppedBytes, escaped)) return;
        stats.received++;
        if (droppedBytes > 0) stats.truncated++;
        if (batch.size >= MAX_SYSLOG_BATCH_MESSAGES) {
          full.push(batch);
          batch = new SyslogBatch(this.#transport);
        }
      },
    };
    const flush = async () => {
      for (const ready of full) await this.#sender.send(ready);
      full.length = 0;
      const last = batch;
      batch = new SyslogBatch(this.#transport);
      // Backpressure: without a credit this connection reads nothing more.
      await this.#sender.send(last);
    };
    try {
      while (!this.#stopping) {
        let n: number | null;
        this.#reading = true;
        this.#readingSince = Date.now();
        try {
          n = await this.#conn.read(buffer);
        } catch (error) {
          // Reset by the peer, a failed TLS handshake, or closed by stop().
          if (!this.#stopping) {
            this.#ctx.log.debug("Syslog connection failed", {
              address: this.address,
              transport: this.#transport,
              error: (error as Error).message,
            });
          }
          break;
        } finally {
          this.#reading = false;
        }
        if (n === null) break;
        this.#framer.push(buffer.subarray(0, n), sink);
        await flush();
      }
      // A last message without its line end still counts.
      this.#framer.end(sink);
      await flush();
      await this.#sender.settled();
    } finally {
      this.#close();
    }
  }

  /**
   * Stops reading; messages already read are still stored.
   *
   * @returns Resolves when the connection has closed and its messages are committed.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    // Closing the socket ends a pending read; everything read so far is dispatched.
    this.#close();
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
}
