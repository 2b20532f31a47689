/**
 * `startServer()`: the whole nms-server in one call, for the CLI, tests and
 * embedding. Opens the store, bootstraps the admin, starts the worker pool and
 * the TCP listener, and shuts all of it down in order.
 *
 * @module
 */

import { dirname } from "node:path";
import { DEFAULT_PORT } from "../protocol/mod.ts";
import { bootstrapAdmin } from "./auth/bootstrap_admin.ts";
import { Listener } from "./listener.ts";
import { createLogger, type Logger } from "./log.ts";
import { openSqliteStore, type SyncMode } from "./store/sqlite_store.ts";
import type { Store } from "./store/store.ts";
import { WorkerPool } from "./worker_pool.ts";

/** Options of {@linkcode startServer}. */
export interface ServerOptions {
  /**
   * TCP port of the agent protocol; 0 picks a free one.
   * @default {8080}
   */
  port?: number;
  /**
   * Address to listen on.
   * @default {"0.0.0.0"}
   */
  hostname?: string;
  /**
   * SQLite database file.
   * @default {"./data/nms.db"}
   */
  dbPath?: string;
  /**
   * Pool workers.
   * @default {navigator.hardwareConcurrency}
   */
  workers?: number;
  /**
   * SQLite durability of each commit.
   * @default {"full"}
   */
  sync?: SyncMode;
  /** Password of the `admin` created on first start; random when absent. */
  adminPassword?: string | undefined;
  /**
   * Diagnostics sink.
   * @default {a text logger on stderr}
   */
  log?: Logger;
  /** Aborting it shuts the server down. */
  signal?: AbortSignal;
}

/** A running server. */
export interface NmsServer {
  /** The bound address (read the port from here when you passed port 0). */
  readonly addr: { readonly hostname: string; readonly port: number };
  /** A main-thread store for reads (dashboard, tests). */
  readonly store: Store;
  /** The worker pool. */
  readonly pool: WorkerPool;
  /** Resolves when the server has fully shut down. */
  readonly finished: Promise<void>;
  /** Stops accepting, answers what was read, commits, closes the database. Idempotent. */
  shutdown(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Default database path, relative to the working directory. */
export const DEFAULT_DB_PATH = "./data/nms.db";

/**
 * Starts nms-server.
 *
 * @param options Where to listen and store, and how many workers.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 * @example
 * ```ts
 * await using server = await startServer({ port: 0, dbPath: "/tmp/nms/nms.db" });
 * console.log(`listening on ${server.addr.port}`);
 * ```
 */
export async function startServer(options: ServerOptions = {}): Promise<NmsServer> {
  const log = options.log ?? createLogger();
  const dbPath = options.dbPath ?? DEFAULT_DB_PATH;
  const sync = options.sync ?? "full";
  const store = await openSqliteStore(dbPath, { sync });
  let pool: WorkerPool | undefined;
  let tcp: Deno.TcpListener | undefined;
  try {
    const admin = await bootstrapAdmin(store, {
      dataDir: dirname(dbPath),
      adminPassword: options.adminPassword,
    });
    if (admin.created && admin.generated) {
      log.warn(
        `Created user admin with a generated password (also in ${admin.file}; change it with 'nms-server user passwd admin'): ${admin.password}`,
      );
    }
    tcp = Deno.listen({
      port: options.port ?? DEFAULT_PORT,
      hostname: options.hostname ?? "0.0.0.0",
      transport: "tcp",
    });
    pool = await WorkerPool.start({
      store: { dbPath, sync },
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      onWorkerError: (message) => log.error(message),
    });
  } catch (error) {
    tcp?.close();
    await pool?.close();
    await store.close();
    throw error;
  }
  const listener = new Listener(tcp, { pool, log });
  const accepting = listener.run();
  const addr = tcp.addr as Deno.NetAddr;
  log.info("Listening for agents", {
    address: `${addr.hostname}:${addr.port}`,
    workers: pool.size,
    db: dbPath,
  });

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      await listener.stop();
      await accepting;
      await pool.close();
      await store.close();
      log.info("Server stopped");
      finish();
    })();
    return stopping;
  };
  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });

  return {
    addr: { hostname: addr.hostname, port: addr.port },
    store,
    pool,
    finished,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
