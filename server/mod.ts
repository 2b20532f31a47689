/**
 * nms-server as a library: {@linkcode startServer} runs the collector; the
 * {@linkcode Store} interface is the storage seam. Here `startServer()`
 * returns a {@linkcode RunningServer}, whose pool, writer and metrics the CLI
 * and the tests use; the root `mod.ts` presents only {@linkcode NmsServer}.
 *
 * @example
 * ```ts
 * import { startServer } from "./mod.ts";
 * await using server = await startServer({ port: 0, dbPath: "./data/nms.db" });
 * ```
 *
 * @module
 */

export {
  DEFAULT_DB_PATH,
  type NmsServer,
  type RunningServer,
  type ServerOptions,
  startServer,
} from "./server.ts";
export * from "./store/mod.ts";
export { createLogger, type Logger, type LoggerOptions, silentLogger } from "./log.ts";
export type { LockoutOptions } from "./auth/mod.ts";
export type { FdLimit } from "./agent_port/mod.ts";
export type { ConnectionLimitOptions } from "./agent_port/mod.ts";
export type { SyslogAddrs, SyslogStats, TlsCertificate } from "./syslog/mod.ts";
export {
  AlertFeed,
  type AlertListener,
  type AlertNotice,
  type Rule,
  type RuleSet,
} from "./rules/mod.ts";
