/**
 * The accept loop: one {@linkcode Connection} per accepted socket, all
 * tracked so that shutdown can stop them.
 *
 * @module
 */

import { type ByteConn, Connection, type ConnectionContext } from "./connection.ts";
import { FAIL, type FailReason, formatAckLine } from "../../protocol/mod.ts";
import { CLOSE_GRACE_MS, TIMEOUT_CHECK_INTERVAL_MS } from "./connection_limits.ts";

/** Where connections come from: a `Deno.Listener`, or a listener of `server/agent_port/tls.ts`. */
export interface ConnectionSource {
  accept(): Promise<ByteConn>;
  close(): void;
}

/**
 * Accepts connections until the listener is closed.
 *
 * @example
 * ```ts
 * const listener = new Listener(Deno.listen({ port: 0 }), { pool, writer, log });
 * const done = listener.run();
 * await listener.stop();
 * ```
 */
export class Listener {
  readonly #listener: ConnectionSource;
  readonly #ctx: ConnectionContext;
  readonly #connections = new Set<Connection>();
  #stopped = false;
  /** Open connections per client IP (connection limits). */
  readonly #perIp = new Map<string, number>();
  /** Over-limit sockets being told why before they close. */
  readonly #refusing = new Set<Promise<void>>();
  #timeoutCheck: ReturnType<typeof setInterval> | undefined;

  /**
   * @param listener A bound TCP or TLS listener; this object closes it.
   * @param ctx What each connection needs.
   */
  constructor(listener: ConnectionSource, ctx: ConnectionContext) {
    this.#listener = listener;
    this.#ctx = ctx;
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * Nodes with an open, registered connection to this server right now. The
   * web console uses it to show a node as Disconnected as soon as its
   * connection drops without BYE.
   *
   * @returns The agent ids, read-only.
   */
  connectedAgentIds(): Set<number> {
    const ids = new Set<number>();
    for (const connection of this.#connections) {
      const id = connection.agentId;
      if (id !== null) ids.add(id);
    }
    return ids;
  }

  /**
   * The connections that have logged in, for checks of their credentials
   * (revoked tokens, removed users).
   *
   * @returns A snapshot.
   */
  loggedIn(): Connection[] {
    return [...this.#connections].filter((c) => c.username !== null);
  }

  /**
   * Closes, with `ACK FAIL <reason>`, every connection that matches.
   *
   * @param match Which connections.
   * @param reason The last line they get.
   * @returns How many are being closed.
   */
  closeWhere(match: (connection: Connection) => boolean, reason: FailReason): number {
    let count = 0;
    for (const connection of this.#connections) {
      if (!match(connection)) continue;
      count++;
      void connection.closeWith(reason);
    }
    return count;
  }

  /** Answers an over-limit socket with one `ACK FAIL` line instead of the welcome, then closes it. */
  #refuse(conn: ByteConn, reason: FailReason): void {
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    this.#ctx.log.warn("Refused connection", { address, reason });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = Promise.race([
      conn.write(new TextEncoder().encode(formatAckLine(false, reason))).catch(() => 0),
      new Promise((resolve) => timer = setTimeout(resolve, CLOSE_GRACE_MS)),
    ]).then(() => {
      clearTimeout(timer);
      try {
        conn.close();
      } catch {
        // already closed
      }
    });
    this.#refusing.add(done);
    done.finally(() => this.#refusing.delete(done));
  }

  /** Accepts until {@linkcode stop}; never rejects. */
  async run(): Promise<void> {
    const limits = this.#ctx.limits;
    if (limits && (limits.idleTimeoutMs !== Infinity || limits.lineTimeoutMs !== Infinity)) {
      this.#timeoutCheck = setInterval(() => {
        const now = Date.now();
        for (const connection of this.#connections) connection.checkTimeouts(now);
      }, TIMEOUT_CHECK_INTERVAL_MS);
    }
    for (;;) {
      let conn: ByteConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#stopped) return;
        // EMFILE and friends: log, breathe, keep serving the others.
        this.#ctx.log.error("Accept failed", { error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (this.#stopped) {
        conn.close();
        return;
      }
      const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
      const fromIp = this.#perIp.get(ip) ?? 0;
      if (limits && this.#connections.size >= limits.maxConnections) {
        this.#refuse(conn, FAIL.tooManyConnections);
        continue;
      }
      if (limits && fromIp >= limits.maxConnectionsPerIp) {
        this.#refuse(conn, FAIL.tooManyConnectionsFromAddress);
        continue;
      }
      this.#perIp.set(ip, fromIp + 1);
      const connection = new Connection(conn, this.#ctx);
      this.#connections.add(connection);
      this.#ctx.log.debug("Client connected", { address: connection.address });
      connection.serve().catch((error) =>
        this.#ctx.log.error("Connection failed", {
          address: connection.address,
          error: (error as Error).message,
        })
      ).finally(() => {
        this.#connections.delete(connection);
        const left = (this.#perIp.get(ip) ?? 1) - 1;
        if (left > 0) this.#perIp.set(ip, left);
        else this.#perIp.delete(ip);
        this.#ctx.log.debug("Client disconnected", { address: connection.address });
      });
    }
  }

  /** Stops accepting, then lets every connection answer what it has read and close. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timeoutCheck);
    this.#listener.close();
    await Promise.all([...this.#connections].map((c) => c.stop()));
    await Promise.all(this.#refusing);
  }
}
