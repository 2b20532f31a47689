/**
 * The nms-server command line: the program and its command groups (serve,
 * users and tokens, queries, operations), and {@linkcode runCli}, which runs it
 * and turns every error into one line on stderr and an exit code.
 *
 * @module
 */

import { Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import {
  type CliContext,
  dbOption,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  storeOf,
  storeOption,
  UsageError,
  withStore,
} from "./context.ts";
import { addCheckCommand } from "./check_command.ts";
import { addRulesCommands } from "./rules_commands.ts";
import { printable } from "./format.ts";
import { addOpsCommands } from "./ops_commands.ts";
import { addQueryCommands } from "./query_commands.ts";
import { addSecurityCommands } from "./security_commands.ts";
import { addServeCommand } from "./serve.ts";
import { addUserCommands } from "./user_commands.ts";
import { versionLine } from "./version.ts";
import { Progress, progressMode, type StartProgress } from "../../common/progress.ts";

/**
 * Progress of a command's long work: redrawn on stderr when it is a terminal;
 * otherwise nothing until the command prints its result line, which gives the
 * size and the time taken.
 *
 * @param context The process's stderr.
 * @returns The factory the commands use.
 */
function cliProgress(context: CliContext): StartProgress {
  const terminal = context.stderrIsTerminal;
  return (label, unit, total) =>
    new Progress({
      label,
      unit,
      total,
      mode: progressMode(terminal),
      write: terminal ? context.writeErr : () => {},
    });
}

/**
 * Builds the nms-server program.
 *
 * @param context Output, environment and who is acting.
 * @returns The program, not yet parsed.
 */
export function buildProgram(context: CliContext): Command {
  const program = new Command()
    .name("nms-server")
    .description(
      "NMS collector: receives agents' logs over TCP and stores them in SQLite or PostgreSQL",
    )
    .version(versionLine(), "-V, --version")
    .configureOutput({
      writeErr: context.writeErr,
      // One line, prefixed with the program's name, pointing at --help.
      outputError: (text, write) =>
        write(
          `nms-server: ${
            text.trim().replace(/^error: /, "").replace(/\s*\n\s*/g, " ")
          } (see --help)\n`,
        ),
    });
  addServeCommand(program, context);
  const user = addUserCommands(program, context);
  addSecurityCommands(program, user, {
    storeOptions: (command) => {
      (command as unknown as Command).addOption(dbOption()).addOption(storeOption());
      return command;
    },
    withStore: (options, work) => withStore(storeOf(options), work),
    actor: context.actor,
    out: context.out,
    progress: cliProgress(context),
  });
  addQueryCommands(program, context);
  addCheckCommand(program, context);
  addRulesCommands(program, context);
  // Last: it adds --config to every command defined before.
  addOpsCommands(program as unknown as CommandUnknownOpts, {
    out: context.out,
    progress: cliProgress(context),
    err: (text) => context.writeErr(`nms-server: ${printable(text)}\n`),
    rebuild: () => buildProgram(context) as unknown as CommandUnknownOpts,
    env: context.env,
  });
  return program;
}

/**
 * Runs the command line. Exit codes: 0 done, 1 a valid command that could
 * not be done ({@linkcode CommandError} and any other failure), 2 a usage
 * error (commander's own, {@linkcode UsageError}).
 *
 * @param args Command-line arguments, without the program name.
 * @param context Output, environment and who is acting.
 * @returns The exit code.
 * @example
 * ```ts
 * Deno.exit(await runCli(["user", "list"], context));
 * ```
 */
export async function runCli(args: string[], context: CliContext): Promise<number> {
  const program = buildProgram(context);
  const override = (command: { exitOverride(): unknown; commands: readonly unknown[] }) => {
    command.exitOverride();
    for (const sub of command.commands) override(sub as typeof command);
  };
  override(program);
  try {
    await program.parseAsync(args, { from: "user" });
    return EXIT_OK;
  } catch (error) {
    const commander = error as { exitCode?: number; code?: string };
    if (typeof commander.exitCode === "number" && commander.code?.startsWith("commander.")) {
      // Help and --version end with 0; commander has printed every other one as a usage error.
      return commander.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    context.writeErr(`nms-server: ${printable(message)}\n`);
    return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}
