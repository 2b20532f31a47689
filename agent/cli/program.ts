/**
 * The full command line of `nms-agent`, built with commander: `run`, `version`,
 * `config check|keys`, `--version`, `--config`, help and every usage error.
 * main.ts loads it only when the light parser of run_argv.ts does not handle
 * the command line (docs/decisions/0012-agent-memory.md).
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { Command, CommanderError, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { addAgentOps, agentVersionLine } from "./ops.ts";
import { PASSWORD_ENV, RUN_FLAGS } from "../config.ts";
import { writeStderrRaw, writeStdoutLine, writeStdoutRaw } from "../log.ts";
import {
  type AgentRunFlags,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  reportError,
  runAgentCommand,
} from "./run_command.ts";

/** Options of {@linkcode buildProgram}. */
export interface BuildProgramOptions {
  /** Runs `run` with its parsed flags and returns the exit code (tests capture the flags). */
  readonly run: (flags: AgentRunFlags) => Promise<number>;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Repeated `--server` flags, joined with commas like `NMS_SERVER=a:8080,b:8080` (issue 9). */
function joinServers(value: string, previous?: string): string {
  return previous === undefined ? value : `${previous},${value}`;
}

/**
 * Builds the commander program of `nms-agent`.
 *
 * @param setExitCode Receives the exit code of the command that ran.
 * @param options What `run` does with its parsed flags.
 * @returns The program, configured to throw instead of exiting.
 * @example
 * ```ts
 * let code = 0;
 * await buildProgram((c) => (code = c), { run: () => Promise.resolve(0) })
 *   .parseAsync(["version"], { from: "user" });
 * ```
 */
export function buildProgram(
  setExitCode: (code: number) => void,
  options: BuildProgramOptions,
): Command {
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
    .action(async (flags) => setExitCode(await options.run(flags)));

  // Operations (issue 10): --version, env vars, --config, config check|keys, metrics. Keep last.
  addAgentOps(program as unknown as CommandUnknownOpts, {
    out: writeStdoutLine,
    error: (text) => reportError(text),
    rebuild: () => buildProgram(() => {}, options) as unknown as CommandUnknownOpts,
  });
  return program as unknown as Command;
}

/**
 * Runs the CLI through commander: every command, help and usage error.
 *
 * @param args Arguments after the program name.
 * @param getEnv Reads an environment variable (main.ts passes `Deno.env.get`).
 * @returns The process exit code.
 * @example
 * ```ts
 * const code = await runCli(["version"], (name) => Deno.env.get(name)); // prints "nms-agent 0.1.0 (commit dev, protocol 1)"
 * ```
 */
export async function runCli(
  args: readonly string[],
  getEnv: (name: string) => string | undefined,
): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram((c) => (code = c), {
    run: (flags) => runAgentCommand(flags, getEnv),
  });
  try {
    await program.parseAsync([...args], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version output end with code 0; everything else is a usage error.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    reportError(errorMessage(error));
    return EXIT_FAILURE;
  }
  if (args.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  return code;
}
