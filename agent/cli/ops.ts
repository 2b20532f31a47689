/**
 * The operations side of the nms-agent command line (docs/PRODUCTION.md):
 * `--version` with the build's commit, the configuration file of `run`
 * (`--config FILE`, read before `run` acts) and `config check|keys`.
 * program.ts calls {@linkcode addAgentOps} once its commands are defined;
 * run_command.ts starts the metrics endpoint (metrics_server.ts) once the
 * agent runs.
 *
 * @module
 */

import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { PROTOCOL_VERSION } from "../../protocol/mod.ts";
import { BUILD_COMMIT, BUILD_VERSION } from "../build_info.ts";
import {
  applyConfigValues,
  configKeys,
  effectiveConfig,
  formatConfigKeys,
  formatEffectiveConfig,
  loadConfigFile,
} from "../../common/mod.ts";

/**
 * The line `nms-agent --version` prints.
 *
 * @returns `nms-agent <version> (commit <hash>, protocol <n>)`.
 * @example
 * ```ts
 * agentVersionLine(); // "nms-agent 0.1.0 (commit 1a2b3c4, protocol 1)"
 * ```
 */
export function agentVersionLine(): string {
  return `nms-agent ${BUILD_VERSION} (commit ${BUILD_COMMIT}, protocol ${PROTOCOL_VERSION})`;
}

/** What the operations commands need from main.ts. */
export interface AgentOpsContext {
  /** Writes one line to stdout. */
  readonly out: (text: string) => void;
  /** Writes one error line to stderr (`nms-agent: ...`). */
  readonly error: (text: string) => void;
  /** Builds a fresh program, so `config check` can parse `run`'s flags without running it. */
  readonly rebuild: () => CommandUnknownOpts;
}

function runOf(program: CommandUnknownOpts): CommandUnknownOpts {
  const run = program.commands.find((c) => c.name() === "run");
  if (!run) throw new TypeError("Cannot find the run command");
  return run;
}

/**
 * Adds `--version`, the reading of `run`'s `--config` file, and
 * `config check|keys` to the program.
 *
 * @param program The nms-agent program with its `run` command defined.
 * @param context Output and a way to build a fresh program.
 * @example
 * ```ts
 * addAgentOps(program, { out, error, rebuild: () => buildProgram(() => {}, { run }) });
 * ```
 */
export function addAgentOps(program: CommandUnknownOpts, context: AgentOpsContext): void {
  program.version(agentVersionLine(), "-V, --version", "print the version and the build's commit");
  const run = runOf(program);

  const config = program.command("config").description("check or describe the configuration file");
  config.command("check")
    .description(
      "print the effective configuration of run (flag > env > file > default; secrets masked), or one error per bad key",
    )
    .usage("[--config FILE] [run flags...]")
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async function (this: CommandUnknownOpts) {
      await checkConfig(this.args, context);
    });
  config.command("keys")
    .description("list the keys of the configuration file: type, default, environment variable")
    .action(() => context.out(formatConfigKeys(configKeys(run))));

  program.hook("preAction", async (_program, action) => {
    if (action !== run) return;
    const path = action.getOptionValue("config");
    if (typeof path !== "string") return;
    applyConfigValues(action, await loadConfigFile(path, configKeys(run), context.error));
  });
}

/** `config check [--config FILE] [run flags...]`: parses `run`, then prints instead of running. */
async function checkConfig(args: readonly string[], context: AgentOpsContext): Promise<void> {
  const fresh = context.rebuild();
  const run = runOf(fresh);
  run.action(() => {
    const file = run.getOptionValue("config");
    context.out("# nms-agent run: effective configuration (flag > environment > file > default)");
    context.out(`# configuration file: ${typeof file === "string" ? file : "none"}`);
    context.out(formatEffectiveConfig(effectiveConfig(run, configKeys(run))));
  });
  await fresh.parseAsync(["run", ...args], { from: "user" });
}
