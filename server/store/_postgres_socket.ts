/**
 * TCP connections to PostgreSQL with Nagle's algorithm off. The `postgres`
 * driver connects with it on, so a message written right after another one
 * that the server has not acknowledged yet (the CopyDone after a COPY's data,
 * pipelined statements) waits for the server's delayed ACK: about 40 ms per
 * COPY on Linux, which capped ingest at a fraction of what PostgreSQL takes
 * (docs/decisions/0013-postgres-ingest.md). Private to server/store/.
 *
 * @module
 */

import net from "node:net";

/** The driver's parsed options that say where to connect (its `socket` hook receives them). */
export interface SocketTarget {
  readonly host: readonly string[];
  readonly port: readonly number[];
  /** Unix socket path, when the URL names one. */
  readonly path?: string;
  /** Seconds to wait for the connection. */
  readonly "connect_timeout"?: number;
}

/** A connected socket, named as the driver names its own (it reads `host` for TLS). */
type DriverSocket = net.Socket & { host?: string; port?: number };

/**
 * Makes the driver's `socket` option: each call connects to the next host of
 * the URL in turn (as the driver itself does), with `TCP_NODELAY` set.
 *
 * @returns A function the driver calls for every new connection.
 * @example
 * ```ts
 * const sql = postgres(url, { socket: noDelaySockets() } as postgres.Options<{}>);
 * ```
 */
export function noDelaySockets(): (target: SocketTarget) => Promise<DriverSocket> {
  let next = 0;
  return (target) => {
    if (target.path) return connect({ path: target.path }, target.connect_timeout);
    const index = next++ % Math.max(1, target.host.length);
    const host = target.host[index] ?? "localhost";
    const port = target.port[index] ?? target.port[0] ?? 5432;
    return connect({ host, port, noDelay: true }, target.connect_timeout).then((socket) => {
      socket.setNoDelay(true);
      socket.host = host;
      socket.port = port;
      return socket;
    });
  };
}

function connect(
  options: net.NetConnectOpts,
  timeoutSeconds: number | undefined,
): Promise<DriverSocket> {
  return new Promise((resolve, reject) => {
    const socket: DriverSocket = net.connect(options);
    const timer = timeoutSeconds
      ? setTimeout(() => {
        socket.destroy();
        reject(new Error(`Connection timed out after ${timeoutSeconds} s`));
      }, timeoutSeconds * 1000)
      : undefined;
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
