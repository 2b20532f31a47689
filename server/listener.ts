/**
 * The accept loop: one {@linkcode Connection} per accepted socket, all
 * tracked so that shutdown can stop them.
 *
 * @module
 */

import { Connection, type ConnectionContext } from "./connection.ts";

/**
 * Accepts connections until the listener is closed.
 *
 * @example
 * ```ts
 * const listener = new Listener(Deno.listen({ port: 0 }), { pool, log });
 * const done = listener.run();
 * await listener.stop();
 * ```
 */
export class Listener {
  readonly #listener: Deno.Listener;
  readonly #ctx: ConnectionContext;
  readonly #connections = new Set<Connection>();
  #stopped = false;

  /**
   * @param listener A bound TCP listener; this object closes it.
   * @param ctx What each connection needs.
   */
  constructor(listener: Deno.Listener, ctx: ConnectionContext) {
    this.#listener = listener;
    this.#ctx = ctx;
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Accepts until {@linkcode stop}; never rejects. */
  async run(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
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
        this.#ctx.log.debug("Client disconnected", { address: connection.address });
      });
    }
  }

  /** Stops accepting, then lets every connection answer what it has read and close. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#listener.close();
    await Promise.all([...this.#connections].map((c) => c.stop()));
  }
}
