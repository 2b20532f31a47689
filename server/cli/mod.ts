/**
 * The nms-server command line: `serve` (serve.ts), users and tokens
 * (user_commands.ts, security_commands.ts), queries (query_commands.ts) and
 * operations (ops_commands.ts), put together by program.ts. server/main.ts
 * runs it with the process's output and environment.
 *
 * @module
 */

export { buildProgram, runCli } from "./program.ts";
export {
  type CliContext,
  CommandError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
} from "./context.ts";
export { SERVER_COMMIT, SERVER_VERSION, versionLine } from "./version.ts";
