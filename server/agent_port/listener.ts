/**
 * The accept loop: one {@linkcode Connection} per accepted socket, all
 * tracked so that shutdown can stop them.
 *
 * @module
 */

import { type ByteConn, Connection, type ConnectionContext } from "./connection.ts";
import { FAIL, type FailReason, formatAckLine } from "../../protocol/mod.ts";
import { CLOSE_GRACE_MS, TIMEOUT_CHECK_INTERVAL_MS } from "./connection_limits.ts";
import {
  MAX_PRE_LOGIN_CONNECTIONS_PER_ADDRESS,
  PRE_LOGIN_RECHECK_MS,
  PreLoginBudget,
} from "./pre_login.ts";
import { WarnThrottle } from "../net/mod.ts";
import { AcceptHealth } from "../net/mod.ts";

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
  /** Connections not logged in yet: their own budget, the first to go (server/pre_login.ts). */
  readonly #preLogin: PreLoginBudget<Connection>;
  /** One line per kind of refusal or misbehaviour a minute, however many clients. */
  readonly #warnings: WarnThrottle;
  readonly #connections = new Set<Connection>();
  readonly #health = new AcceptHealth();
  #stopped = false;
  /** Open connections per client IP (connection limits). */
  readonly #perIp = new Map<string, number>();
  /** Over-limit sockets being told why before they close. */
  readonly #refusing = new Set<Promise<void>>();
  /** Connections evicted before they logged in, until they have closed. */
  readonly #evicted = new Set<Connection>();
  #timeoutCheck: ReturnType<typeof setInterval> | undefined;

  /**
   * @param listener A bound TCP or TLS listener; this object closes it.
   * @param ctx What each connection needs.
   */
  constructor(listener: ConnectionSource, ctx: ConnectionContext) {
    this.#listener = listener;
    const perIp = ctx.limits?.maxConnectionsPerIp ?? Infinity;
    this.#preLogin = new PreLoginBudget(
      ctx.limits?.maxPreLoginConnections ?? Infinity,
      perIp === Infinity ? Infinity : Math.min(perIp, MAX_PRE_LOGIN_CONNECTIONS_PER_ADDRESS),
    );
    this.#warnings = ctx.warnings ?? new WarnThrottle(ctx.log);
    this.#ctx = { ...ctx, preLogin: this.#preLogin, warnings: this.#warnings };
  }

  /** Connections closed before they logged in to make room for new ones, since the start. */
  get preLoginEvicted(): number {
    return this.#preLogin.evicted;
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
    this.#warnings.warn(`refused ${reason}`, "Refused connection", { address, reason });
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

  /** Whether the accept loop serves: its last accepts did not all fail (`/healthz`). */
  get accepting(): boolean {
    return this.#health.ok;
  }

  /** Accepts until {@linkcode stop}; never rejects. */
  async run(): Promise<void> {
    const limits = this.#ctx.limits;
    if (
      limits &&
      [limits.idleTimeoutMs, limits.lineTimeoutMs, limits.loginTimeoutMs].some((t) =>
        t !== Infinity
      )
    ) {
      this.#timeoutCheck = setInterval(() => {
        const now = Date.now();
        for (const connection of this.#connections) connection.checkTimeouts(now);
      }, TIMEOUT_CHECK_INTERVAL_MS);
    }
    for (;;) {
      if (limits) await this.#roomBeforeLogin();
      // EMFILE and friends: log, breathe, keep serving the others.
      const conn = await this.#health.next(
        () => this.#listener.accept(),
        () => this.#stopped,
        (error) => this.#ctx.log.error("Accept failed", { error }),
      );
      if (conn === null) return;
      if (this.#stopped) {
        conn.close();
        return;
      }
      const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
      const fromIp = this.#perIp.get(ip) ?? 0;
      if (limits && (fromIp >= limits.maxConnectionsPerIp || this.#preLogin.fromAddressFull(ip))) {
        this.#refuse(conn, FAIL.tooManyConnectionsFromAddress);
        continue;
      }
      // When the slots, or those of connections not logged in, run out, the
      // oldest connection not logged in goes; logged-in agents never do.
      if (
        limits &&
        (this.#connections.size >= limits.maxConnections || this.#preLogin.full) &&
        !this.#evictOne()
      ) {
        this.#refuse(conn, FAIL.tooManyConnections);
        continue;
      }
      this.#perIp.set(ip, fromIp + 1);
      const connection = new Connection(conn, this.#ctx);
      this.#connections.add(connection);
      this.#preLogin.add(connection);
      this.#ctx.log.debug("Client connected", { address: connection.address });
      connection.serve().catch((error) =>
        this.#ctx.log.error("Connection failed", {
          address: connection.address,
          error: (error as Error).message,
        })
      ).finally(() => {
        this.#release(connection);
        this.#evicted.delete(connection);
        this.#ctx.log.debug("Client disconnected", { address: connection.address });
      });
    }
  }

  /**
   * Waits while the budget of connections not logged in is spent and none of
   * them may go yet: the next connection stays in the kernel's backlog rather
   * than being refused, so a fleet that comes back at once after a restart
   * logs in as fast as the server can take it, without backing off.
   */
  async #roomBeforeLogin(): Promise<void> {
    for (;;) {
      const wait = this.#preLogin.waitMs();
      if (wait === 0 || this.#stopped) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#preLogin.freed(),
        new Promise((resolve) => timer = setTimeout(resolve, Math.min(wait, PRE_LOGIN_RECHECK_MS))),
      ]);
      clearTimeout(timer);
    }
  }

  /** Closes the oldest connection not logged in, freeing its slot at once. */
  #evictOne(): boolean {
    const evicted = this.#preLogin.evictOldest(FAIL.tooManyConnections);
    if (evicted) {
      this.#release(evicted);
      this.#evicted.add(evicted);
    }
    return evicted !== null;
  }

  /** Stops counting a connection (closed, or evicted and closing). Idempotent. */
  #release(connection: Connection): void {
    this.#preLogin.remove(connection);
    if (!this.#connections.delete(connection)) return;
    const left = (this.#perIp.get(connection.ip) ?? 1) - 1;
    if (left > 0) this.#perIp.set(connection.ip, left);
    else this.#perIp.delete(connection.ip);
  }

  /** Stops accepting, then lets every connection answer what it has read and close. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timeoutCheck);
    this.#listener.close();
    await Promise.all([...this.#connections, ...this.#evicted].map((c) => c.stop()));
    await Promise.all(this.#refusing);
    this.#warnings.close();
  }
}
