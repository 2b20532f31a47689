/**
 * The full command line of `nms-agent`, built with commander: `run`, `version`,
 * `config check|keys`, `--version`, `--config`, help and every usage error.
 * main.ts loads it only when the light parser of run_argv.ts does not handle
 * the command line (docs/decisions/0012-agent-memory.md). The options of
 * `run` are made from the tables of agent/config.ts.
 *
 * @module
 */

import {
  Command,
  CommanderError,
  type CommandUnknownOpts,
  InvalidArgumentError,
  Option,
} from "@commander-js/extra-typings";
import { errorMessage } from "../../common/error_message.ts";
import { type FlagSpec, PASSWORD_ENV, RUN_FLAGS, RUN_OPERATIONS_FLAGS } from "../config.ts";
import { writeStderrRaw, writeStdoutLine, writeStdoutRaw } from "../log.ts";
import { addAgentOps, agentVersionLine } from "./ops.ts";
import {
  type AgentRunFlags,
  ERROR_PREFIX,
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

/** Repeated `--server` flags, joined with commas like `NMS_SERVER=a:8080,b:8080`. */
function joinValues(value: string, previous?: string): string {
  return previous === undefined ? value : `${previous},${value}`;
}

/**
 * The commander option of a table entry, without its environment variable.
 *
 * @param spec The entry.
 * @returns The option.
 */
function optionOf(spec: FlagSpec): Option {
  const option = new Option(spec.flags, spec.help);
  const { problem, value } = spec;
  if (spec.choices !== undefined) option.choices(spec.choices);
  if (problem !== undefined || value !== undefined) {
    option.argParser((text: string) => {
      const why = problem?.(text);
      if (why !== undefined) throw new InvalidArgumentError(why);
      return value === undefined ? text : value(text);
    });
  }
  if (spec.repeat === "list") option.argParser(collect).default([]);
  if (spec.repeat === "join") option.argParser(joinValues);
  if (spec.default !== undefined) option.default(spec.default);
  return option;
}

/**
 * Reads a `run` flag's environment variable through the command's own hook,
 * which words a bad value as `... from env 'NMS_X' is invalid: <why>`.
 * (Commander subscribes an option to its variable when the option is added,
 * so the variable is set afterwards, and read here.)
 */
function readEnv(run: CommandUnknownOpts, option: Option, env: string): void {
  option.env(env);
  run.on(`optionEnv:${option.name()}`, (value: string) => {
    const attribute = option.attributeName();
    let parsed: unknown = value;
    try {
      if (option.parseArg) parsed = option.parseArg(value, run.getOptionValue(attribute));
    } catch (error) {
      run.error(
        `error: option '${option.flags}' value '${value}' from env '${env}' is invalid: ${
          errorMessage(error)
        }`,
      );
    }
    run.setOptionValueWithSource(attribute, parsed, "env");
  });
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
    .configureOutput({
      writeOut: writeStdoutRaw,
      writeErr: writeStderrRaw,
      // One line with the agent's prefix, as reportError() writes, pointing at --help.
      outputError: (text, write) =>
        write(
          `${ERROR_PREFIX}${
            text.trim().replace(/^error: /, "").replace(/\s*\n\s*/g, " ")
          } (see --help)\n`,
        ),
    })
    .showSuggestionAfterError(true);

  program.command("version")
    .description("print the agent and protocol versions")
    .action(() => {
      writeStdoutLine(agentVersionLine());
      setExitCode(EXIT_OK);
    });

  const run = program.command("run")
    .description("follow files and ship their new lines until stopped (SIGINT or SIGTERM)");
  for (const spec of Object.values(RUN_FLAGS) as FlagSpec[]) {
    const option = optionOf(spec);
    run.addOption(option);
    if (spec.env !== undefined) readEnv(run as unknown as CommandUnknownOpts, option, spec.env);
  }
  for (const spec of Object.values(RUN_OPERATIONS_FLAGS) as FlagSpec[]) {
    const option = optionOf(spec);
    if (spec.env !== undefined) option.env(spec.env);
    run.addOption(option);
  }
  run
    .addHelpText(
      "after",
      `\nThe password is never taken from the command line: use --password-file or ${PASSWORD_ENV}.\n` +
        "Exit codes: 0 clean stop, 1 cannot run (e.g. login refused), 2 usage error.\n",
    )
    .action(async (flags) => setExitCode(await options.run(flags as unknown as AgentRunFlags)));

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
