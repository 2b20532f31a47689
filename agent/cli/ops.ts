/**
 * The operations side of the nms-agent command line (issue 10,
 * docs/PRODUCTION.md): `--version` with the build's commit, environment
 * variables for the `run` flags, `--config FILE`, `config check`,
 * `--log-format` and `--metrics-port`. cli.ts calls {@linkcode addAgentOps}
 * once its commands are defined; run_command.ts starts the metrics endpoint
 * (metrics_server.ts) once the agent runs. The environment variables and
 * validators live in run_argv.ts, which parses an ordinary `run` without
 * commander.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import {
  CommanderError,
  type CommandUnknownOpts,
  InvalidArgumentError,
  Option,
} from "@commander-js/extra-typings";
import { PROTOCOL_VERSION } from "../../protocol/mod.ts";
import { BUILD_COMMIT, BUILD_VERSION } from "../build_info.ts";
import {
  applyConfigValues,
  ConfigFileError,
  configKeys,
  effectiveConfig,
  formatConfigKeys,
  formatEffectiveConfig,
  readConfigFile,
} from "../../common/mod.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../log.ts";
import { DEFAULT_METRICS_HOSTNAME } from "../metrics_server.ts";
import {
  AGENT_CONFIG_ENV,
  AGENT_FLAG_ENV,
  DEFAULT_LOG_FORMAT,
  heartbeatProblem,
  LOG_FORMAT_ENV,
  METRICS_HOST_ENV,
  METRICS_PORT_ENV,
  portProblem,
} from "./run_argv.ts";

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
  /** Writes one error line to stderr (`nms-agent: error: ...`). */
  readonly error: (text: string) => void;
  /** Builds a fresh program, so `config check` can parse `run`'s flags without running it. */
  readonly rebuild: () => CommandUnknownOpts;
}

function runOf(program: CommandUnknownOpts): CommandUnknownOpts {
  const run = program.commands.find((c) => c.name() === "run");
  if (!run) throw new TypeError("Cannot find the run command");
  return run;
}

function port(value: string): number {
  const problem = portProblem(value);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return Number(value);
}

/** Validates `--heartbeat` early (the value stays text for agent/config.ts). */
function heartbeat(value: string): string {
  const problem = heartbeatProblem(value);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return value;
}

/**
 * Adds `--version`, environment variables, `--config`, `--log-format`,
 * `--metrics-port`, `--metrics-host` and `config check|keys` to the program.
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
  for (const option of run.options) {
    const env = option.long ? AGENT_FLAG_ENV[option.long] : undefined;
    if (env !== undefined && option.envVar === undefined) {
      option.env(env);
      // Commander subscribes an option to its variable when the option is added: do it here.
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
    if (option.long === "--heartbeat" && !option.parseArg) option.argParser(heartbeat);
    if (option.long === "--log-level" && !option.argChoices) option.choices(LOG_LEVELS);
  }
  run
    .addOption(
      new Option("--log-format <format>", "format of log lines on stderr").choices(LOG_FORMATS)
        .env(LOG_FORMAT_ENV).default(DEFAULT_LOG_FORMAT),
    )
    .addOption(
      new Option("--metrics-port <port>", "serve Prometheus metrics on this port (off unless set)")
        .env(METRICS_PORT_ENV).argParser(port),
    )
    .addOption(
      new Option("--metrics-host <address>", "address of the metrics endpoint")
        .env(METRICS_HOST_ENV).default(DEFAULT_METRICS_HOSTNAME),
    )
    .addOption(
      new Option("-c, --config <file>", "configuration file (YAML), see docs/PRODUCTION.md")
        .env(AGENT_CONFIG_ENV),
    );

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
    try {
      applyConfigValues(action, await readConfigFile(path, configKeys(run)));
    } catch (error) {
      if (!(error instanceof ConfigFileError)) throw error;
      for (const line of error.errors) context.error(line);
      throw new CommanderError(2, "nms.invalidConfig", error.message);
    }
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
