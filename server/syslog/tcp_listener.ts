/**
 * The accept loop of syslog over TCP (RFC 6587) and TLS (RFC 5425): checks
 * each sender against the allow-list and serves it with a
 * {@linkcode SyslogConnection}.
 *
 * @module
 */

import type { SyslogTransport } from "../store/mod.ts";
import { type AllowList, senderAddress } from "./allow_list.ts";
import type { SyslogContext } from "./batch_sender.ts";
import { SyslogConnection } from "./tcp_connection.ts";
import type { WarnThrottle } from "./_warn_throttle.ts";

/**
 * Open syslog connections per listener. Each holds a read buffer and up to
 * one maximal message; beyond the limit a new connection is closed at once
 * and counted (`refusedConnections`).
 */
export const MAX_SYSLOG_CONNECTIONS = 1000;

/** Pause after a failed accept (EMFILE and friends) before accepting again, in ms. */
const ACCEPT_ERROR_PAUSE_MS = 100;

/** What a {@linkcode TcpSyslogListener} needs besides its socket. */
export interface TcpSyslogContext extends SyslogContext {
  readonly allow: AllowList;
  readonly warnings: WarnThrottle;
}

/**
 * Accepts syslog connections until stopped.
 *
 * @example
 * ```ts
 * const tcp = new TcpSyslogListener(Deno.listen({ port: 601 }), "tcp", ctx);
 * const done = tcp.run();
 * await tcp.stop();
 * ```
 */
export class TcpSyslogListener {
  readonly #listener: Deno.Listener;
  readonly #transport: SyslogTransport;
  readonly #ctx: TcpSyslogContext;
  readonly #connections = new Set<SyslogConnection>();
  #stopped = false;

  /**
   * @param listener A bound TCP or TLS listener; this object closes it.
   * @param transport `tcp` or `tls`, as recorded for the senders.
   * @param ctx The pool, logger, counters and allow-list.
   */
  constructor(listener: Deno.Listener, transport: SyslogTransport, ctx: TcpSyslogContext) {
    this.#listener = listener;
    this.#transport = transport;
    this.#ctx = ctx;
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * Accepts until {@linkcode stop}; never rejects.
   *
   * @returns Resolves when the listener is closed.
   */
  async run(): Promise<void> {
    const { allow, stats, warnings, log } = this.#ctx;
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#stopped) return;
        log.error("Syslog accept failed", {
          transport: this.#transport,
          error: (error as Error).message,
        });
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_ERROR_PAUSE_MS));
        continue;
      }
      if (this.#stopped) {
        close(conn);
        return;
      }
      const hostname = (conn.remoteAddr as Deno.NetAddr).hostname;
      if (!allow.allows(hostname)) {
        stats.deniedConnections++;
        warnings.warn(`denied ${hostname}`, "Dropped syslog from a sender outside the allow-list", {
          address: hostname,
          transport: this.#transport,
        });
        close(conn);
        continue;
      }
      if (this.#connections.size >= MAX_SYSLOG_CONNECTIONS) {
        stats.refusedConnections++;
        warnings.warn(`limit ${this.#transport}`, "Refused syslog connection: too many open", {
          address: hostname,
          transport: this.#transport,
          limit: MAX_SYSLOG_CONNECTIONS,
        });
        close(conn);
        continue;
      }
      const connection = new SyslogConnection(
        conn,
        this.#transport,
        senderAddress(hostname),
        this.#ctx,
      );
      this.#connections.add(connection);
      stats.connections++;
      log.debug("Syslog sender connected", {
        address: connection.address,
        transport: this.#transport,
      });
      connection.serve().catch((error) =>
        log.error("Syslog connection failed", {
          address: connection.address,
          error: (error as Error).message,
        })
      ).finally(() => {
        this.#connections.delete(connection);
        stats.connections--;
        log.debug("Syslog sender disconnected", {
          address: connection.address,
          transport: this.#transport,
        });
      });
    }
  }

  /**
   * Stops accepting and closes every connection; messages already read are still stored.
   *
   * @returns Resolves when every connection has closed and its messages are committed.
   */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.all([...this.#connections].map((c) => c.stop()));
  }
}

/** Closes a socket, ignoring a peer that already did. */
function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
