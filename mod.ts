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

export * from "./protocol/mod.ts";
export {
  DEFAULT_DB_PATH,
  type EventQuery,
  type EventRecord,
  type NmsServer,
  openStore,
  type Role,
  type ServerOptions,
  startServer,
  type Store,
} from "./server/mod.ts";
export { type AgentHandle, type AgentStats, runAgent, type RunAgentOptions } from "./agent/mod.ts";
