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
 * An ordinary `run` command line is parsed by cli/run_argv.ts and commander is
 * not loaded: it would start Deno's Node compatibility layer, most of the idle
 * agent's memory above the runtime (docs/decisions/0012-agent-memory.md).
 * Everything else goes to the commander program of cli/program.ts.
 *
 * @module
 */

import { errorMessage } from "../common/error_message.ts";
import { EXIT_FAILURE, parseRunArgv, reportError, runAgentCommand } from "./cli/mod.ts";

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./cli/mod.ts";

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
  const getEnv = (name: string) => Deno.env.get(name);
  const flags = parseRunArgv(args, getEnv);
  if (flags === undefined) {
    const { runCli } = await import("./cli/program.ts");
    return await runCli(args, getEnv);
  }
  try {
    return await runAgentCommand(flags, getEnv);
  } catch (error) {
    // As cli/program.ts reports an unexpected error of `run`.
    reportError(errorMessage(error));
    return EXIT_FAILURE;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
