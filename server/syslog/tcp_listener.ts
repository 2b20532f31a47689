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
import type { WarnThrottle } from "../net/mod.ts";
import { addressKey } from "../net/mod.ts";
import { AcceptHealth } from "../net/mod.ts";

/**
 * Open syslog connections per listener. Each holds a read buffer and up to
 * one maximal message; beyond the limit a new connection is closed at once
 * and counted (`refusedConnections`).
 */
export const MAX_SYSLOG_CONNECTIONS = 1000;

/**
 * Open syslog connections per sender address (IPv6: per /64) and listener,
 * unless configured; one more is closed at once and counted
 * (`refusedConnections`), so that no one sender can hold every slot.
 */
export const DEFAULT_SYSLOG_MAX_CONNECTIONS_PER_IP = 16;

/**
 * Seconds a syslog connection may send nothing before it is closed, unless
 * configured. Senders reconnect when they have something to send.
 */
export const DEFAULT_SYSLOG_IDLE_TIMEOUT_SECONDS = 600;

/** How often the idle connections are looked for, in ms. */
const IDLE_CHECK_INTERVAL_MS = 1_000;

/** Limits of the TCP and TLS syslog listeners; `Infinity` for none. */
export interface SyslogConnectionLimits {
  /** Open connections per sender address. */
  readonly maxConnectionsPerIp: number;
  /** Ms a connection may send nothing before it is closed. */
  readonly idleTimeoutMs: number;
}

/** What a {@linkcode TcpSyslogListener} needs besides its socket. */
export interface TcpSyslogContext extends SyslogContext {
  readonly allow: AllowList;
  readonly warnings: WarnThrottle;
  /**
   * Per-address cap and idle timeout.
   * @default {DEFAULT_SYSLOG_MAX_CONNECTIONS_PER_IP, DEFAULT_SYSLOG_IDLE_TIMEOUT_SECONDS}
   */
  readonly limits?: SyslogConnectionLimits;
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
  /** Open connections per sender address key (server/net/address_key.ts). */
  readonly #perAddress = new Map<string, number>();
  readonly #limits: SyslogConnectionLimits;
  #idleCheck: ReturnType<typeof setInterval> | undefined;
  readonly #health = new AcceptHealth();
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
    this.#limits = ctx.limits ?? {
      maxConnectionsPerIp: DEFAULT_SYSLOG_MAX_CONNECTIONS_PER_IP,
      idleTimeoutMs: DEFAULT_SYSLOG_IDLE_TIMEOUT_SECONDS * 1000,
    };
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  /** Whether the accept loop serves: its last accepts did not all fail (`/healthz`). */
  get accepting(): boolean {
    return this.#health.ok;
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
    if (this.#limits.idleTimeoutMs !== Infinity) {
      this.#idleCheck = setInterval(() => this.#closeIdle(), IDLE_CHECK_INTERVAL_MS);
    }
    for (;;) {
      const conn = await this.#health.next(
        () => this.#listener.accept(),
        () => this.#stopped,
        (error) => log.error("Syslog accept failed", { transport: this.#transport, error }),
      );
      if (conn === null) return;
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
      const key = addressKey(hostname);
      const fromAddress = this.#perAddress.get(key) ?? 0;
      if (fromAddress >= this.#limits.maxConnectionsPerIp) {
        stats.refusedConnections++;
        warnings.warn(
          `address limit ${this.#transport}`,
          "Refused syslog connection: too many open from this address",
          {
            address: hostname,
            transport: this.#transport,
            limit: this.#limits.maxConnectionsPerIp,
          },
        );
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
      this.#perAddress.set(key, fromAddress + 1);
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
        const left = (this.#perAddress.get(key) ?? 1) - 1;
        if (left > 0) this.#perAddress.set(key, left);
        else this.#perAddress.delete(key);
        stats.connections--;
        log.debug("Syslog sender disconnected", {
          address: connection.address,
          transport: this.#transport,
        });
      });
    }
  }

  /** Closes the connections that have sent nothing for the idle timeout (a throttled line). */
  #closeIdle(): void {
    const now = Date.now();
    for (const connection of this.#connections) {
      if (connection.idleMs(now) <= this.#limits.idleTimeoutMs) continue;
      this.#ctx.warnings.info(
        `idle ${this.#transport}`,
        "Closed syslog connection: idle for too long",
        { address: connection.address, transport: this.#transport },
      );
      void connection.stop();
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
      clearInterval(this.#idleCheck);
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
