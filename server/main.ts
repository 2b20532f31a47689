/**
 * nms-server's entry point. Besides config.ts, the only module of the server
 * that reads `Deno.args` and `Deno.env`: it hands them, with stdout and
 * stderr, to the command line (server/cli/), which prints a single line,
 * never a stack trace, when something is wrong.
 *
 * @module
 */

import { type CliContext, runCli, SERVER_VERSION } from "./cli/mod.ts";

/** Version printed by `--version`. */
export const VERSION: string = SERVER_VERSION;

const encoder = new TextEncoder();

/** Who runs a CLI command, for the audit trail: `cli:<OS user>`. */
function cliActor(): string {
  return `cli:${Deno.env.get("USER") ?? Deno.env.get("LOGNAME") ?? `uid ${Deno.uid() ?? "?"}`}`;
}

/** The process's output, environment and user. */
function processContext(): CliContext {
  return {
    out: (text) => Deno.stdout.writeSync(encoder.encode(text + "\n")),
    writeErr: (text) => Deno.stderr.writeSync(encoder.encode(text)),
    env: (name) => Deno.env.get(name),
    actor: cliActor(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    stdin: Deno.stdin.readable,
  };
}

/**
 * Runs the CLI with the given arguments.
 *
 * @param args Command-line arguments, without the program name.
 * @returns The exit code.
 * @example
 * ```ts
 * Deno.exit(await main(["user", "list"]));
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, processContext());
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
