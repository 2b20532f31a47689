/**
 * `startTestServer()`: a real nms-server on an ephemeral loopback port with
 * its SQLite file in a fresh temp directory, released with `await using`.
 *
 * @module
 */

import { join } from "node:path";
import { type RunningServer, silentLogger, startServer, type Store } from "../../server/mod.ts";
import type { Logger } from "../../server/log.ts";
import type { ConnectionLimitOptions } from "../../server/agent_port/mod.ts";

/** Options of {@linkcode startTestServer}. */
export interface TestServerOptions {
  /** @default {"admin"} */
  adminPassword?: string;
  /** @default {2} */
  workers?: number;
  /** A fixed port, e.g. to restart on the port a previous instance had. @default {0} */
  port?: number;
  /** Reuse this data directory (it is then not removed on dispose). */
  dataDir?: string;
  /** @default {silentLogger} */
  log?: Logger;
  // Syslog receiver (server/syslog/): each listener off unless given a port (0 = free one).
  syslogUdpPort?: number;
  syslogTcpPort?: number;
  syslogTlsPort?: number;
  /** @default {loopback only} */
  syslogAllow?: string[];
  /** Certificate and key PEM text for TLS listeners. */
  tls?: { cert: string; key: string };
  // Web console (server/dashboard/): off unless given a port (0 = free one).
  httpPort?: number;
  /** Heartbeat interval (s) the console's node status assumes. @default {30} */
  heartbeatSeconds?: number;
  /** Connection limits of the agent port. @default {the server's defaults} */
  limits?: ConnectionLimitOptions;
}

/** A running test server. */
export interface TestServer {
  readonly hostname: string;
  readonly port: number;
  readonly dataDir: string;
  readonly dbPath: string;
  /** Main-thread read access to the server's database. */
  readonly store: Store;
  readonly server: RunningServer;
  /** Base URL of the web console (`http://127.0.0.1:PORT`), or null when it is off. */
  readonly httpUrl: string | null;
  /** Shuts the server down (keeps the data directory). */
  stop(): Promise<void>;
  /** Shuts down and removes the data directory if this harness created it. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1, port 0, with a temp data directory.
 *
 * @param options Overrides.
 * @returns The server; dispose it with `await using`.
 * @example
 * ```ts
 * await using srv = await startTestServer();
 * const conn = await Deno.connect({ hostname: srv.hostname, port: srv.port });
 * ```
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "nms-test-" });
  const dbPath = join(dataDir, "nms.db");
  let server: RunningServer;
  try {
    server = await startServer({
      port: options.port ?? 0,
      hostname: "127.0.0.1",
      dbPath,
      workers: options.workers ?? 2,
      adminPassword: options.adminPassword ?? "admin",
      log: options.log ?? silentLogger,
      syslogUdpPort: options.syslogUdpPort,
      syslogTcpPort: options.syslogTcpPort,
      syslogTlsPort: options.syslogTlsPort,
      syslogAllow: options.syslogAllow,
      tls: options.tls,
      httpPort: options.httpPort,
      heartbeatSeconds: options.heartbeatSeconds,
      limits: options.limits,
    });
  } catch (error) {
    if (ownDir) await Deno.remove(dataDir, { recursive: true });
    throw error;
  }
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    dataDir,
    dbPath,
    store: server.store,
    server,
    httpUrl: server.httpAddr
      ? `${options.tls ? "https" : "http"}://${server.httpAddr.hostname}:${server.httpAddr.port}`
      : null,
    stop: () => server.shutdown(),
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      if (ownDir) await Deno.remove(dataDir, { recursive: true });
    },
  };
}
