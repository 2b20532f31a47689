/**
 * `startSyslogReceiver()`: the standard syslog listeners of nms-server (UDP,
 * TCP and TLS), each off unless given a port, feeding the same worker pool
 * and store as the agent protocol.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import type { WorkerPool } from "../ingest/mod.ts";
import { type AllowList, DEFAULT_SYSLOG_ALLOW, parseAllowList } from "./allow_list.ts";
import { createSyslogStats, type SyslogStats } from "./stats.ts";
import {
  DEFAULT_SYSLOG_IDLE_TIMEOUT_SECONDS,
  DEFAULT_SYSLOG_MAX_CONNECTIONS_PER_IP,
  type TcpSyslogContext,
  TcpSyslogListener,
} from "./tcp_listener.ts";
import { udpReceiveBufferAdvice, UdpSyslogListener } from "./udp_listener.ts";
import { WarnThrottle } from "../net/mod.ts";

/** A certificate chain and its private key, both PEM text. */
export interface TlsCertificate {
  /** The certificate chain, leaf first. */
  readonly cert: string;
  /** The private key of the leaf certificate. */
  readonly key: string;
}

/** Options of {@linkcode startSyslogReceiver}. */
export interface SyslogReceiverOptions {
  /** The pool that parses and stores the messages. */
  readonly pool: WorkerPool;
  /** Diagnostics sink. */
  readonly log: Logger;
  /**
   * Address the listeners bind.
   * @default {"0.0.0.0"}
   */
  readonly hostname?: string;
  /** UDP port (RFC 5426); 0 picks a free one; absent: no UDP listener. */
  readonly udpPort?: number | undefined;
  /** TCP port (RFC 6587); 0 picks a free one; absent: no TCP listener. */
  readonly tcpPort?: number | undefined;
  /** TLS port (RFC 5425); 0 picks a free one; absent: no TLS listener. Needs `tls`. */
  readonly tlsPort?: number | undefined;
  /** Certificate of the TLS listener. */
  readonly tls?: TlsCertificate | undefined;
  /**
   * Networks that may send, in CIDR notation; others are counted and dropped.
   * @default {DEFAULT_SYSLOG_ALLOW} (loopback only)
   */
  readonly allow?: readonly string[] | undefined;
  /**
   * Seconds a TCP or TLS connection may send nothing before it is closed; 0: never.
   * @default {DEFAULT_SYSLOG_IDLE_TIMEOUT_SECONDS}
   */
  readonly idleTimeoutSeconds?: number | undefined;
  /**
   * Open TCP or TLS connections per sender address and listener; 0: no limit.
   * @default {DEFAULT_SYSLOG_MAX_CONNECTIONS_PER_IP}
   */
  readonly maxConnectionsPerIp?: number | undefined;
}

/** Bound addresses of the syslog listeners that run. */
export interface SyslogAddrs {
  /** The UDP listener (RFC 5426), when `syslogUdpPort` was given. */
  readonly udp?: { readonly hostname: string; readonly port: number };
  /** The plain TCP listener (RFC 6587), when `syslogTcpPort` was given. */
  readonly tcp?: { readonly hostname: string; readonly port: number };
  /** The TLS listener (RFC 5425), when `syslogTlsPort` was given. */
  readonly tls?: { readonly hostname: string; readonly port: number };
}

/** The running syslog listeners. */
export interface SyslogReceiver {
  /** Where each listener is bound. */
  readonly addrs: SyslogAddrs;
  /** The allow-list in force. */
  readonly allow: AllowList;
  /**
   * A snapshot of the counters.
   *
   * @returns Copies of the counters.
   */
  stats(): SyslogStats;
  /**
   * Whether each running listener accepts (`/healthz`).
   *
   * @returns By name: `syslog-udp`, `syslog-tcp`, `syslog-tls`; empty when none runs.
   */
  health(): Record<string, boolean>;
  /**
   * Stops every listener; messages already received are still stored.
   *
   * @returns Resolves when they are committed. Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Binds a socket and turns a failure into a one-line error naming the listener.
 *
 * @param what `UDP`, `TCP` or `TLS`.
 * @param hostname The address.
 * @param port The port.
 * @param bind Opens the socket.
 * @returns The socket.
 * @throws {Error} When the socket cannot be bound.
 */
function bindOrExplain<T>(what: string, hostname: string, port: number, bind: () => T): T {
  try {
    return bind();
  } catch (error) {
    let hint = "";
    if (error instanceof Deno.errors.PermissionDenied && port > 0 && port < 1024) {
      hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
    } else if (error instanceof TypeError && what === "UDP") {
      hint = " (Deno.listenDatagram needs --unstable-net)";
    }
    throw new Error(
      `Cannot listen for syslog over ${what} on ${hostname}:${port}: ${
        (error as Error).message
      }${hint}`,
      { cause: error },
    );
  }
}

/**
 * Validates a port number.
 *
 * @param what The listener, for the message.
 * @param port The port.
 * @throws {RangeError} When it is not an integer from 0 to 65535.
 */
function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Cannot listen for syslog over ${what}: invalid port ${port}`);
  }
}

/**
 * Starts the configured syslog listeners.
 *
 * @param options Ports, certificate, allow-list, and the pool to feed.
 * @returns The running receiver (with no listener when no port is given).
 * @throws {SyntaxError} When the allow-list holds an invalid network.
 * @throws {TypeError} When a TLS port is given without a certificate.
 * @throws {Error} When a port cannot be bound (in use, or privileged).
 * @example
 * ```ts
 * const syslog = await startSyslogReceiver({ pool, log, udpPort: 514, tcpPort: 601 });
 * console.log(syslog.addrs.udp?.port);
 * await syslog.stop();
 * ```
 */
export function startSyslogReceiver(options: SyslogReceiverOptions): Promise<SyslogReceiver> {
  const hostname = options.hostname ?? "0.0.0.0";
  const allow = parseAllowList(options.allow ?? DEFAULT_SYSLOG_ALLOW);
  for (const [what, port] of [["UDP", options.udpPort], ["TCP", options.tcpPort]] as const) {
    if (port !== undefined) checkPort(what, port);
  }
  if (options.tlsPort !== undefined) {
    checkPort("TLS", options.tlsPort);
    if (!options.tls) {
      throw new TypeError("Cannot listen for syslog over TLS: no certificate and key given");
    }
  }
  const limit = (name: string, value: number | undefined, fallback: number, scale = 1) => {
    const n = value ?? fallback;
    if (!Number.isFinite(n) || n < 0) {
      throw new RangeError(`Cannot listen for syslog: invalid ${name} ${n}`);
    }
    return n === 0 ? Infinity : n * scale;
  };
  const limits = {
    idleTimeoutMs: limit(
      "idleTimeoutSeconds",
      options.idleTimeoutSeconds,
      DEFAULT_SYSLOG_IDLE_TIMEOUT_SECONDS,
      1000,
    ),
    maxConnectionsPerIp: limit(
      "maxConnectionsPerIp",
      options.maxConnectionsPerIp,
      DEFAULT_SYSLOG_MAX_CONNECTIONS_PER_IP,
    ),
  };
  const stats = createSyslogStats();
  const ctx: TcpSyslogContext = {
    pool: options.pool,
    log: options.log,
    stats,
    allow,
    warnings: new WarnThrottle(options.log),
    limits,
  };
  const opened: { close(): void }[] = [];
  let udp: UdpSyslogListener | undefined;
  let tcp: TcpSyslogListener | undefined;
  let tls: TcpSyslogListener | undefined;
  try {
    if (options.udpPort !== undefined) {
      const port = options.udpPort;
      const socket = bindOrExplain(
        "UDP",
        hostname,
        port,
        () => Deno.listenDatagram({ transport: "udp", hostname, port }),
      );
      opened.push(socket);
      udp = new UdpSyslogListener(socket, ctx);
      const advice = udpReceiveBufferAdvice();
      if (advice !== null) options.log.warn(advice);
    }
    if (options.tcpPort !== undefined) {
      const port = options.tcpPort;
      const listener = bindOrExplain(
        "TCP",
        hostname,
        port,
        () => Deno.listen({ transport: "tcp", hostname, port }),
      );
      opened.push(listener);
      tcp = new TcpSyslogListener(listener, "tcp", ctx);
    }
    if (options.tlsPort !== undefined) {
      const port = options.tlsPort;
      const { cert, key } = options.tls!;
      const listener = bindOrExplain(
        "TLS",
        hostname,
        port,
        () => Deno.listenTls({ transport: "tcp", hostname, port, cert, key }),
      );
      opened.push(listener);
      tls = new TcpSyslogListener(listener, "tls", ctx);
    }
  } catch (error) {
    for (const socket of opened) socket.close();
    return Promise.reject(error);
  }

  const running = [udp?.run(), tcp?.run(), tls?.run()];
  const address = (addr: Deno.NetAddr) => ({ hostname: addr.hostname, port: addr.port });
  const addrs: SyslogAddrs = {
    ...(udp ? { udp: address(udp.addr) } : {}),
    ...(tcp ? { tcp: address(tcp.addr) } : {}),
    ...(tls ? { tls: address(tls.addr) } : {}),
  };
  let stopping: Promise<void> | undefined;
  return Promise.resolve({
    addrs,
    allow,
    stats: () => ({ ...stats }),
    health: () => ({
      ...(udp ? { "syslog-udp": udp.accepting } : {}),
      ...(tcp ? { "syslog-tcp": tcp.accepting } : {}),
      ...(tls ? { "syslog-tls": tls.accepting } : {}),
    }),
    stop() {
      stopping ??= (async () => {
        await Promise.all([udp?.stop(), tcp?.stop(), tls?.stop()]);
        await Promise.all(running);
        ctx.warnings.close();
      })();
      return stopping;
    },
  });
}
