/**
 * `nms-agent`'s command line below main.ts: the light parser of an ordinary
 * `run` (run_argv.ts) and what `run` does once its flags are parsed
 * (run_command.ts). The commander program (program.ts, with ops.ts) is not
 * exported here: main.ts loads it with a dynamic `import()` only when the
 * light parser gives up, so that `run` never loads an npm module
 * (docs/decisions/0012-agent-memory.md).
 *
 * @example
 * ```ts
 * import { parseRunArgv, runAgentCommand } from "./mod.ts";
 * const flags = parseRunArgv(Deno.args, (name) => Deno.env.get(name));
 * if (flags) Deno.exit(await runAgentCommand(flags, (name) => Deno.env.get(name)));
 * ```
 *
 * @module
 */

export { parseRunArgv } from "./run_argv.ts";
export {
  type AgentRunFlags,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  reportError,
  runAgentCommand,
} from "./run_command.ts";
