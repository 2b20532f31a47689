/**
 * nms-server as a library: {@linkcode startServer} runs the collector; the
 * {@linkcode Store} interface is the storage seam.
 *
 * @example
 * ```ts
 * import { startServer } from "./mod.ts";
 * await using server = await startServer({ port: 0, dbPath: "./data/nms.db" });
 * ```
 *
 * @module
 */

export { DEFAULT_DB_PATH, type NmsServer, type ServerOptions, startServer } from "./server.ts";
export * from "./store/store.ts";
export { openSqliteStore, type SqliteStoreOptions, type SyncMode } from "./store/sqlite_store.ts";
export { openStore, type OpenStoreOptions, parseStoreUrl } from "./store/open_store.ts";
export {
  openPostgresStore,
  PostgresStore,
  type PostgresStoreOptions,
} from "./store/postgres_store.ts";
export { createLogger, type Logger, type LoggerOptions, silentLogger } from "./log.ts";
