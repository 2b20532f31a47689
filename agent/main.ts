/**
 * `nms-agent`: the command-line entry of the agent.
 *
 * ```
 * nms-agent run --server HOST:PORT --user U --password-file F --path FILE [--path FILE ...]
 *               [--state-dir DIR] [--heartbeat SECONDS] [--log-level LEVEL]
 * nms-agent run --server HOST:PORT --token-file F [--tls] [--ca-file CA]
 *               [--client-cert CERT --client-key KEY] --path FILE ...
 * nms-agent run --server A:PORT --server B:PORT ... --path '/var/log/*.log' [--exclude '*.gz']
 *               [--journal [--journal-unit UNIT ...]] [--include RE] [--exclude-line RE]
 *               [--min-severity LEVEL]
 * nms-agent version
 * ```
 *
 * Exit codes: 0 after a clean stop (SIGINT or SIGTERM), 1 when the agent
 * cannot run (login refused, unusable state file), 2 for usage errors (bad
 * flag, bad address, unreadable password file). Errors are one line on
 * stderr. A server that is down is not an error: the agent retries.
 *
 * @module
 */

import { Command, CommanderError, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { addAgentOps, agentVersionLine, startMetricsFromFlags } from "./cli_ops.ts";
import { buildAgentConfig, ConfigError, PASSWORD_ENV, RUN_FLAGS } from "./config.ts";
import {
  createLogger,
  writeStderrLine,
  writeStderrRaw,
  writeStdoutLine,
  writeStdoutRaw,
} from "./log.ts";
import { type AgentHandle, runAgent } from "./mod.ts";

/** Exit code after a clean stop. */
export const EXIT_OK = 0;
/** Exit code when the agent cannot run (e.g. the server refused the login). */
export const EXIT_FAILURE = 1;
/** Exit code for usage errors (bad flags or values). */
export const EXIT_USAGE = 2;

/** The signals that stop the agent cleanly. */
const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM"];

function reportError(message: string): void {
  writeStderrLine(`nms-agent: error: ${message}`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Repeated `--server` flags, joined with commas like `NMS_SERVER=a:8080,b:8080` (issue 9). */
function joinServers(value: string, previous?: string): string {
  return previous === undefined ? value : `${previous},${value}`;
}

async function run(flags: {
  server?: string;
  user?: string;
  passwordFile?: string;
  path: string[];
  stateDir?: string;
  heartbeat: string;
  logLevel: string;
  tokenFile?: string;
  tls?: boolean;
  caFile?: string;
  clientCert?: string;
  clientKey?: string;
  // Sources and filters (issue 3).
  exclude: string[];
  journal?: boolean;
  journalUnit: string[];
  include: string[];
  excludeLine: string[];
  minSeverity?: string;
  // Operations (agent/cli_ops.ts, issue 10).
  logFormat?: string;
  metricsPort?: number;
  metricsHost?: string;
}): Promise<number> {
  let config;
  try {
    config = await buildAgentConfig(flags, (name) => Deno.env.get(name));
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
      // Sources, filters and failover (issue 3, issue 9).
      failoverServers: config.failoverServers,
      exclude: config.exclude,
      ...(config.journal !== undefined ? { journal: config.journal } : {}),
      ...(config.filter !== undefined ? { filter: config.filter } : {}),
    });
  } catch (error) {
    reportError((error as Error).message);
    return error instanceof TypeError || error instanceof RangeError ? EXIT_USAGE : EXIT_FAILURE;
  }
  let metrics;
  try {
    metrics = startMetricsFromFlags(agent, flags);
  } catch (error) {
    reportError(`Cannot serve metrics on port ${flags.metricsPort}: ${(error as Error).message}`);
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
    reportError((error as Error).message);
    return EXIT_FAILURE;
  } finally {
    for (const signal of STOP_SIGNALS) Deno.removeSignalListener(signal, onSignal);
    await metrics?.close();
  }
}

/**
 * Builds the commander program of `nms-agent`.
 *
 * @param setExitCode Receives the exit code of the command that ran.
 * @returns The program, configured to throw instead of exiting.
 * @example
 * ```ts
 * let code = 0;
 * await buildProgram((c) => (code = c)).parseAsync(["version"], { from: "user" });
 * ```
 */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command()
    .name("nms-agent")
    .description("Follows log files and ships new lines to an NMS server.")
    .exitOverride()
    .configureOutput({ writeOut: writeStdoutRaw, writeErr: writeStderrRaw })
    .showSuggestionAfterError(true);

  program.command("version")
    .description("print the agent and protocol versions")
    .action(() => {
      writeStdoutLine(agentVersionLine());
      setExitCode(EXIT_OK);
    });

  program.command("run")
    .description("follow files and ship their new lines until stopped (SIGINT or SIGTERM)")
    .option(RUN_FLAGS.server.flags, RUN_FLAGS.server.help, joinServers)
    .option(RUN_FLAGS.user.flags, RUN_FLAGS.user.help)
    .option(RUN_FLAGS.passwordFile.flags, RUN_FLAGS.passwordFile.help)
    .option(RUN_FLAGS.path.flags, RUN_FLAGS.path.help, collect, [] as string[])
    .option(RUN_FLAGS.stateDir.flags, RUN_FLAGS.stateDir.help)
    .option(RUN_FLAGS.heartbeat.flags, RUN_FLAGS.heartbeat.help, RUN_FLAGS.heartbeat.default)
    .option(RUN_FLAGS.logLevel.flags, RUN_FLAGS.logLevel.help, RUN_FLAGS.logLevel.default)
    .option(RUN_FLAGS.tokenFile.flags, RUN_FLAGS.tokenFile.help)
    .option(RUN_FLAGS.tls.flags, RUN_FLAGS.tls.help)
    .option(RUN_FLAGS.caFile.flags, RUN_FLAGS.caFile.help)
    .option(RUN_FLAGS.clientCert.flags, RUN_FLAGS.clientCert.help)
    .option(RUN_FLAGS.clientKey.flags, RUN_FLAGS.clientKey.help)
    // Sources and filters (issue 3).
    .option(RUN_FLAGS.exclude.flags, RUN_FLAGS.exclude.help, collect, [] as string[])
    .option(RUN_FLAGS.journal.flags, RUN_FLAGS.journal.help)
    .option(RUN_FLAGS.journalUnit.flags, RUN_FLAGS.journalUnit.help, collect, [] as string[])
    .option(RUN_FLAGS.include.flags, RUN_FLAGS.include.help, collect, [] as string[])
    .option(RUN_FLAGS.excludeLine.flags, RUN_FLAGS.excludeLine.help, collect, [] as string[])
    .option(RUN_FLAGS.minSeverity.flags, RUN_FLAGS.minSeverity.help)
    .addHelpText(
      "after",
      `\nThe password is never taken from the command line: use --password-file or ${PASSWORD_ENV}.\n` +
        "Exit codes: 0 clean stop, 1 cannot run (e.g. login refused), 2 usage error.\n",
    )
    .action(async (flags) => setExitCode(await run(flags)));

  // Operations (issue 10): --version, env vars, --config, config check|keys, metrics. Keep last.
  addAgentOps(program as unknown as CommandUnknownOpts, {
    out: writeStdoutLine,
    error: (text) => reportError(text),
    rebuild: () => buildProgram(() => {}) as unknown as CommandUnknownOpts,
  });
  return program as unknown as Command;
}

/**
 * Runs the CLI.
 *
 * @param args Arguments after the program name.
 * @returns The process exit code.
 * @example
 * ```ts
 * const code = await main(["version"]); // prints "nms-agent 0.1.0 (commit dev, protocol 1)"
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync([...args], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version output end with code 0; everything else is a usage error.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    reportError((error as Error).message);
    return EXIT_FAILURE;
  }
  if (args.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  return code;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
