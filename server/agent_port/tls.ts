/**
 * The agent protocol's socket: plain TCP (the paper's transport), TLS with
 * `Deno.listenTls`, or mutual TLS. `Deno.listenTls` cannot ask clients for a
 * certificate, so mutual TLS uses `node:tls` (which can, and reports the
 * verified certificate); its sockets are adapted to the {@linkcode ByteConn}
 * that `connection.ts` serves, with backpressure (a socket is paused while
 * its data waits to be read).
 *
 * With mutual TLS a client must present a certificate signed by the
 * `--client-ca`; its names (subject CN and DNS subject alternative names) are
 * the only hostnames its connection may REGISTER as, which binds each agent's
 * certificate to its name. LOGIN is still required.
 *
 * @module
 */

import tls from "node:tls";
import type { ByteConn } from "./connection.ts";

/** Seconds a client may take for the TLS handshake under mutual TLS. */
export const TLS_HANDSHAKE_TIMEOUT_SECONDS = 10;

/** Certificate, key and, for mutual TLS, the CA that signs client certificates (PEM text). */
export interface AgentTlsOptions {
  /** Certificate chain of the server, PEM. */
  readonly cert: string;
  /** Private key of the server, PEM. */
  readonly key: string;
  /** CA certificate(s), PEM: when set, clients must present a certificate it signed. */
  readonly clientCa?: string | undefined;
}

/** Options of {@linkcode listenAgents}. */
export interface ListenAgentsOptions {
  readonly hostname: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** TLS settings; absent: plain TCP. */
  readonly tls?: AgentTlsOptions | undefined;
}

/** A bound agent listener of any transport. */
export interface AgentSocketListener {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** `tcp`, `tls` or `mtls`. */
  readonly transport: "tcp" | "tls" | "mtls";
  /** The next connection; rejects once closed. */
  accept(): Promise<ByteConn>;
  /** Stops accepting. Idempotent. */
  close(): void;
}

/**
 * Binds the agent port.
 *
 * @param options Address, port and TLS settings.
 * @returns The listener.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 * @example
 * ```ts
 * const listener = await listenAgents({ hostname: "0.0.0.0", port: 8080, tls: { cert, key } });
 * const conn = await listener.accept();
 * ```
 */
export async function listenAgents(options: ListenAgentsOptions): Promise<AgentSocketListener> {
  const { hostname, port } = options;
  if (!options.tls) {
    const listener = Deno.listen({ hostname, port, transport: "tcp" });
    return wrap(listener, "tcp");
  }
  if (options.tls.clientCa === undefined) {
    const { cert, key } = options.tls;
    const listener = Deno.listenTls({ hostname, port, transport: "tcp", cert, key });
    return wrap(listener, "tls");
  }
  return await listenMutualTls(hostname, port, options.tls);
}

function wrap(listener: Deno.Listener, transport: "tcp" | "tls"): AgentSocketListener {
  let closed = false;
  return {
    addr: listener.addr as Deno.NetAddr,
    transport,
    accept: () => listener.accept(),
    close() {
      if (closed) return;
      closed = true;
      listener.close();
    },
  };
}

/** Mutual TLS through node:tls, which can request and verify client certificates. */
function listenMutualTls(
  hostname: string,
  port: number,
  options: AgentTlsOptions,
): Promise<AgentSocketListener> {
  const queue: ByteConn[] = [];
  const waiters: { resolve(conn: ByteConn): void; reject(error: Error): void }[] = [];
  let closed = false;
  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    ca: options.clientCa,
    requestCert: true,
    rejectUnauthorized: true,
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_SECONDS * 1000,
  }, (socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    const conn = new NodeTlsConn(socket);
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(conn);
    else queue.push(conn);
  });
  // A failed handshake (no or a bad certificate) concerns only that client.
  server.on("tlsClientError", () => {});
  return new Promise((resolve, reject) => {
    server.once("error", (error: Error & { code?: string }) => {
      reject(
        error.code === "EADDRINUSE"
          ? new Deno.errors.AddrInUse(`Cannot listen on ${hostname}:${port}: address in use`)
          : error,
      );
    });
    server.listen(port, hostname, () => {
      const bound = server.address() as { address: string; port: number };
      resolve({
        addr: { transport: "tcp", hostname: bound.address, port: bound.port },
        transport: "mtls",
        accept() {
          const next = queue.shift();
          if (next) return Promise.resolve(next);
          if (closed) return Promise.reject(new Deno.errors.BadResource("Listener closed"));
          return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
        },
        close() {
          if (closed) return;
          closed = true;
          server.close();
          for (const conn of queue.splice(0)) conn.close();
          for (const waiter of waiters.splice(0)) {
            waiter.reject(new Deno.errors.BadResource("Listener closed"));
          }
        },
      });
    });
  });
}

/**
 * A node:tls socket as a {@linkcode ByteConn}: data is queued and the socket
 * paused until `read()` takes it, so a fast client cannot grow the queue.
 */
class NodeTlsConn implements ByteConn {
  readonly remoteAddr: Deno.NetAddr;
  readonly peerNames: readonly string[];
  readonly #socket: tls.TLSSocket;
  readonly #chunks: Uint8Array[] = [];
  #ended = false;
  #waiter: (() => void) | null = null;

  constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    this.remoteAddr = {
      transport: "tcp",
      hostname: (socket.remoteAddress ?? "unknown").replace(/^::ffff:(?=\d+\.)/, ""),
      port: socket.remotePort ?? 0,
    };
    this.peerNames = certificateNames(socket.getPeerCertificate());
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      socket.pause();
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#waiter = resolve);
    }
    let n = 0;
    while (this.#chunks.length > 0 && n < buffer.length) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(chunk.length, buffer.length - n);
      buffer.set(chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    if (this.#chunks.length === 0 && !this.#ended) this.#socket.resume();
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#ended || this.#socket.destroyed) {
      return Promise.reject(new Deno.errors.BrokenPipe("Connection closed"));
    }
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error) => error ? reject(error) : resolve(bytes.length));
    });
  }

  close(): void {
    this.#ended = true;
    this.#socket.destroy();
    this.#wake();
  }
}

/**
 * The names a verified client certificate vouches for: its subject CN and
 * its DNS subject alternative names.
 *
 * @param cert `getPeerCertificate()` of a verified socket.
 * @returns The names, without duplicates.
 * @example
 * ```ts
 * certificateNames({ subject: { CN: "web-01" }, subjectaltname: "DNS:web-01, DNS:web-01.lan" });
 * // ["web-01", "web-01.lan"]
 * ```
 */
export function certificateNames(
  cert: { subject?: { CN?: string | string[] }; subjectaltname?: string } | null | undefined,
): string[] {
  const names = new Set<string>();
  const cn = cert?.subject?.CN;
  for (const name of Array.isArray(cn) ? cn : cn ? [cn] : []) names.add(name);
  for (const part of (cert?.subjectaltname ?? "").split(",")) {
    const match = /^\s*DNS:(.+?)\s*$/.exec(part);
    if (match) names.add(match[1]!);
  }
  return [...names];
}
