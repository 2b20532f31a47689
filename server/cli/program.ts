/**
 * The nms-server command line: the program and its command groups (serve,
 * users and tokens, queries, operations), and {@linkcode runCli}, which runs it
 * and turns every error into one line on stderr and an exit code.
 *
 * @module
 */

import { Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { StoreError } from "../store/mod.ts";
import {
  type CliContext,
  dbOption,
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
  });
  addQueryCommands(program, context);
  addCheckCommand(program, context);
  addRulesCommands(program, context);
  // Last: it adds --config to every command defined before.
  addOpsCommands(program as unknown as CommandUnknownOpts, {
    out: context.out,
    err: (text) => context.writeErr(`nms-server: ${printable(text)}\n`),
    rebuild: () => buildProgram(context) as unknown as CommandUnknownOpts,
    env: context.env,
  });
  return program;
}

/**
 * Runs the command line.
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
    return 0;
  } catch (error) {
    const code = (error as { exitCode?: number; code?: string }).exitCode;
    if (typeof code === "number" && (error as { code?: string }).code?.startsWith("commander.")) {
      return code;
    }
    const message =
      error instanceof StoreError || error instanceof UsageError || error instanceof Error
        ? error.message
        : String(error);
    context.writeErr(`nms-server: ${printable(message)}\n`);
    return 1;
  }
}
