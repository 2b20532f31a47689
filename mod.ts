/**
 * NMS as a library: the wire protocol, the collector and the agent.
 *
 * - {@linkcode startServer} runs nms-server (agent listener, worker pool,
 *   store, web console) in this process; the {@linkcode Store} interface is
 *   its storage seam, with SQLite and PostgreSQL implementations.
 * - {@linkcode runAgent} runs nms-agent: follows files and ships their lines.
 * - The protocol codec (`parseCommand`, `formatCommand`, `formatAck`, …) and
 *   the `LineSplitter` are pure functions shared by both.
 *
 * The binaries are built from `server/main.ts` and `agent/main.ts`, not from
 * this module, so that neither contains the other.
 *
 * @example
 * ```ts
 * import { runAgent, startServer } from "./mod.ts";
 * await using server = await startServer({ port: 0, dbPath: "./data/nms.db" });
 * const agent = await runAgent({
 *   hostname: "127.0.0.1",
 *   port: server.addr.port,
 *   username: "admin",
 *   password: Deno.env.get("NMS_ADMIN_PASSWORD") ?? "",
 *   paths: ["/var/log/syslog"],
 * });
 * ```
 *
 * @module
 */

import {
  type NmsServer,
  type ServerOptions,
  startServer as startRunningServer,
} from "./server/mod.ts";

export * from "./protocol/mod.ts";
export {
  type LogFields,
  type LogFormat,
  type LogLevel,
  Progress,
  type ProgressMode,
  type ProgressOptions,
  type StartProgress,
} from "./common/mod.ts";
export {
  AlertFeed,
  type AlertListener,
  type AlertNotice,
  type AlertUpsert,
  type AuditQuery,
  type AuditRecord,
  type ConnectionLimitOptions,
  type GroupAlerts,
  type LockoutOptions,
  type NewTokenRecord,
  type Rule,
  type RuleSet,
  type SourceUpdate,
  type SyslogAddrs,
  type SyslogStats,
  type SyslogTransport,
  type TlsCertificate,
  type TokenRecord,
} from "./server/mod.ts";
export {
  AGENT_SORTS,
  type AgentChange,
  type AgentChangeResult,
  type AgentMatch,
  type AgentPage,
  type AgentQuery,
  type AgentRecord,
  type AgentRegistration,
  type AgentRow,
  type AgentSort,
  type AgentStatus,
  type AlertQuery,
  type AlertRecord,
  type AppendOptions,
  type AuditEntry,
  type CountOptions,
  createLogger,
  DEFAULT_DB_PATH,
  type DigestOptions,
  type EventBatch,
  type EventDigest,
  type EventQuery,
  type EventRecord,
  type FdLimit,
  type HeartbeatRecord,
  type Logger,
  type LoggerOptions,
  type LoginFailurePolicy,
  type NmsServer,
  openStore,
  type OpenStoreOptions,
  type PrunePolicy,
  type PruneStep,
  type Role,
  type SecurityStore,
  type ServerOptions,
  type SilenceSpan,
  type SourceRecord,
  type StatusCutoffs,
  type StorageInfo,
  type Store,
  type SyncMode,
  type UserRecord,
} from "./server/mod.ts";
export {
  type AgentHandle,
  type AgentJournalOptions,
  type AgentServerAddress,
  type AgentState,
  type AgentStats,
  type ClientTls,
  type Clock,
  type FileLag,
  type HostInfo,
  type LineFilterOptions,
  runAgent,
  type RunAgentOptions,
  type TimerId,
} from "./agent/mod.ts";

/**
 * Starts nms-server in this process: the agent listener, the worker pool, the
 * store and, when `httpPort` is given, the web console.
 *
 * @param options Where to listen and store, and how to run.
 * @returns The running server; `await using` shuts it down.
 * @throws {Deno.errors.AddrInUse} When a port is taken.
 * @throws {TypeError | RangeError} For invalid options.
 * @example
 * ```ts
 * await using server = await startServer({ port: 0, dbPath: "./data/nms.db" });
 * console.log(`agents connect to port ${server.addr.port}`);
 * ```
 */
export function startServer(options: ServerOptions = {}): Promise<NmsServer> {
  return startRunningServer(options);
}
