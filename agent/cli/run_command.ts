/**
 * `nms-agent run` once its flags are parsed: validate them into a config,
 * start the agent, serve metrics if asked, and stop on SIGINT or SIGTERM. Both
 * ways of parsing the command line end here: the light one of run_argv.ts and
 * the full commander program of program.ts.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { buildAgentConfig, ConfigError, type RawRunFlags } from "../config.ts";
import { createLogger, writeStderrLine } from "../log.ts";
import { type AgentHandle, runAgent } from "../mod.ts";
import { type MetricsServer, startMetricsFromFlags } from "../metrics_server.ts";

/** Exit code after a clean stop. */
export const EXIT_OK = 0;
/** Exit code when the agent cannot run (e.g. the server refused the login). */
export const EXIT_FAILURE = 1;
/** Exit code for usage errors (bad flags or values). */
export const EXIT_USAGE = 2;

/** The signals that stop the agent cleanly. */
const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM"];

/** The parsed flags of `nms-agent run`: what commander's `opts()` holds for it. */
export interface AgentRunFlags extends RawRunFlags {
  readonly path: string[];
  readonly heartbeat: string;
  readonly logLevel: string;
  readonly maxOpenFiles: string;
  readonly exclude: string[];
  readonly journalUnit: string[];
  readonly include: string[];
  readonly excludeLine: string[];
  readonly logFormat?: string;
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  readonly config?: string;
}

/** The prefix of every error line of the agent, as `nms-server: ` for the server. */
export const ERROR_PREFIX = "nms-agent: ";

/**
 * Writes one error line of the agent on stderr.
 *
 * @param message The error, without the `nms-agent: ` prefix.
 * @example
 * ```ts
 * reportError("Missing --server <host:port>"); // nms-agent: Missing --server <host:port>
 * ```
 */
export function reportError(message: string): void {
  writeStderrLine(`${ERROR_PREFIX}${message}`);
}

/**
 * Runs the agent with parsed `run` flags until it is stopped.
 *
 * @param flags The parsed flags.
 * @param getEnv Reads an environment variable (main.ts passes `Deno.env.get`).
 * @returns The exit code: {@linkcode EXIT_OK} after a clean stop,
 *   {@linkcode EXIT_USAGE} for invalid values, {@linkcode EXIT_FAILURE} when it cannot run.
 * @example
 * ```ts
 * const code = await runAgentCommand({
 *   server: "logs.example.com:8080", user: "web-1", path: ["/var/log/syslog"],
 *   heartbeat: "30", logLevel: "info", maxOpenFiles: "512", exclude: [], journalUnit: [],
 *   include: [], excludeLine: [],
 * }, (name) => Deno.env.get(name));
 * ```
 */
export async function runAgentCommand(
  flags: AgentRunFlags,
  getEnv: (name: string) => string | undefined,
): Promise<number> {
  let config;
  try {
    config = await buildAgentConfig(flags, getEnv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportError(error.message);
    return EXIT_USAGE;
  }
  let agent: AgentHandle;
  try {
    agent = await runAgent({
      hostname: config.hostname,
      port: config.port,
      username: config.username,
      password: config.password,
      paths: config.paths,
      heartbeatSeconds: config.heartbeatSeconds,
      logger: createLogger({
        level: config.logLevel,
        format: flags.logFormat === "json" ? "json" : "text",
      }),
      ...(config.stateDir !== undefined ? { stateDir: config.stateDir } : {}),
      ...(config.tls !== undefined ? { tls: config.tls } : {}),
      failoverServers: config.failoverServers,
      exclude: config.exclude,
      ...(config.journal !== undefined ? { journal: config.journal } : {}),
      ...(config.filter !== undefined ? { filter: config.filter } : {}),
      maxOpenFiles: config.maxOpenFiles,
    });
  } catch (error) {
    reportError(errorMessage(error));
    return error instanceof TypeError || error instanceof RangeError ? EXIT_USAGE : EXIT_FAILURE;
  }
  let metrics: MetricsServer | undefined;
  try {
    metrics = startMetricsFromFlags(agent, flags);
  } catch (error) {
    reportError(`Cannot serve metrics on port ${flags.metricsPort}: ${errorMessage(error)}`);
    await agent.stop();
    return EXIT_USAGE;
  }
  let signals = 0;
  const onSignal = () => {
    // A second signal while stopping means "now": skip waiting for ACKs.
    if (++signals > 1) Deno.exit(EXIT_FAILURE);
    void agent.stop();
  };
  for (const signal of STOP_SIGNALS) Deno.addSignalListener(signal, onSignal);
  try {
    await agent.done;
    return EXIT_OK;
  } catch (error) {
    reportError(errorMessage(error));
    return EXIT_FAILURE;
  } finally {
    for (const signal of STOP_SIGNALS) Deno.removeSignalListener(signal, onSignal);
    await metrics?.close();
  }
}
