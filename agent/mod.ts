/**
 * The NMS agent: follows log files and ships every new line to an NMS server
 * with at-least-once delivery (exactly once in storage, as the server drops
 * resends by origin), surviving server outages, rotation and truncation.
 *
 * @example
 * ```ts
 * import { runAgent } from "./mod.ts";
 * await using agent = await runAgent({
 *   hostname: "127.0.0.1",
 *   port: 8080,
 *   username: "admin",
 *   password: "admin",
 *   paths: ["/var/log/syslog"],
 *   stateDir: "/var/lib/nms-agent",
 * });
 * console.log(agent.state, agent.stats.linesStored);
 * ```
 *
 * @module
 */

import { Agent, type AgentHandle, type RunAgentOptions } from "./agent.ts";

export {
  type AgentHandle,
  type AgentJournalOptions,
  type AgentServerAddress,
  type AgentState,
  type AgentStats,
  type FileLag,
  type RunAgentOptions,
} from "./agent.ts";
export { BYE_TIMEOUT_MS, DEFAULT_ACK_TIMEOUT_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS } from "./session.ts";
export { DEFAULT_MAX_OPEN_FILES } from "./follow/mod.ts";
export { AccessDeniedError, type ClientTls } from "./client.ts";
export type { LineFilterOptions } from "./sources/mod.ts";
export {
  DEFAULT_STATE_SAVE_INTERVAL_MS,
  type FileState,
  JOURNAL_CURSOR_FILE_NAME,
  STATE_FILE_NAME,
  STATE_FILE_VERSION,
} from "./checkpoint/mod.ts";
export { AGENT_VERSION, type HostInfo } from "./host_info.ts";
export {
  createLogger,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  SILENT_LOGGER,
} from "./log.ts";
export type { Clock, TimerId } from "./clock.ts";
export {
  DEFAULT_MAX_IN_FLIGHT_BYTES,
  DEFAULT_MAX_IN_FLIGHT_LINES,
  MAX_EVENT_MESSAGE_BYTES,
} from "./limits.ts";

/**
 * Starts an agent: loads the state file, opens and watches every path, and
 * connects to the server in the background (retrying while it is down).
 *
 * @param options Server, credentials, files and tuning.
 * @returns A handle to watch and stop the agent; `await using` stops it.
 * @throws {TypeError | RangeError} For invalid options (e.g. a path that is a directory).
 * @throws {Error} When the state file is from a newer agent or cannot be written.
 * @example
 * ```ts
 * const agent = await runAgent({
 *   hostname: "127.0.0.1", port: 8080, username: "admin", password: "admin",
 *   paths: ["/var/log/syslog"],
 * });
 * await agent.stop();
 * ```
 */
export async function runAgent(options: RunAgentOptions): Promise<AgentHandle> {
  const agent = new Agent(options);
  await agent.start();
  return agent;
}
