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
export * from "./store/mod.ts";
export { createLogger, type Logger, type LoggerOptions, silentLogger } from "./log.ts";
