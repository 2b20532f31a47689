/**
 * The light parser of `nms-agent run`: it reads an ordinary `run` command line
 * (long flags with valid values, and their environment variables) into the
 * same object commander's `run` command would give, without loading commander.
 *
 * Why: commander is an npm package, and any npm package makes Deno start its
 * Node compatibility layer, which is most of the idle agent's memory above the
 * runtime itself (docs/decisions/0012-agent-memory.md). For anything else
 * (help, `version`, `config`, `--config`, a short flag, an unknown flag, a
 * missing or invalid value) {@linkcode parseRunArgv} returns undefined and
 * main.ts hands the command line to the full commander program (cli.ts), which
 * words every message and error exactly as before. run_argv_test.ts checks
 * that both parsers agree.
 *
 * @module
 */

import { MAX_HEARTBEAT_SECONDS, RUN_FLAGS } from "../config.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../log.ts";
import { DEFAULT_METRICS_HOSTNAME } from "../metrics_server.ts";
import type { AgentRunFlags } from "./run_command.ts";

/** Environment variable naming the configuration file when `--config` is absent. */
export const AGENT_CONFIG_ENV = "NMS_AGENT_CONFIG";
/** Environment variable of `--log-format`. */
export const LOG_FORMAT_ENV = "NMS_LOG_FORMAT";
/** Environment variable of `--metrics-port`. */
export const METRICS_PORT_ENV = "NMS_METRICS_PORT";
/** Environment variable of `--metrics-host`. */
export const METRICS_HOST_ENV = "NMS_METRICS_HOST";

/**
 * Environment variables of the `run` flags. `--path` (repeatable) and `--tls`
 * (a switch) have none; the password itself is `NMS_PASSWORD` (agent/config.ts).
 */
export const AGENT_FLAG_ENV: Readonly<Record<string, string>> = {
  "--server": "NMS_SERVER",
  "--user": "NMS_USER",
  "--password-file": "NMS_PASSWORD_FILE",
  "--state-dir": "NMS_STATE_DIR",
  "--heartbeat": "NMS_HEARTBEAT",
  "--log-level": "NMS_LOG_LEVEL",
  "--token-file": "NMS_TOKEN_FILE",
  "--ca-file": "NMS_CA_FILE",
  "--client-cert": "NMS_CLIENT_CERT",
  "--client-key": "NMS_CLIENT_KEY",
  // Sources and filters (issue 3); NMS_SERVER may list several servers, comma-separated (issue 9).
  "--min-severity": "NMS_MIN_SEVERITY",
};

/**
 * `run` flags that may be repeated, each value added to a list (commander's
 * `collect` with an empty list as default, in cli.ts).
 */
export const REPEATABLE_RUN_FLAGS: ReadonlySet<string> = new Set([
  "path",
  "exclude",
  "journalUnit",
  "include",
  "excludeLine",
]);

/** Default of `--log-format`. */
export const DEFAULT_LOG_FORMAT = "text";

/**
 * Why a `--metrics-port` value is invalid.
 *
 * @param value The value as given.
 * @returns `expected ...`, or undefined when valid.
 * @example
 * ```ts
 * portProblem("9101"); // undefined
 * portProblem("70000"); // "expected an integer from 0 to 65535"
 * ```
 */
export function portProblem(value: string): string | undefined {
  return /^\d+$/.test(value) && Number(value) <= 65535
    ? undefined
    : "expected an integer from 0 to 65535";
}

/**
 * Why a `--heartbeat` value is invalid (it stays text for agent/config.ts).
 *
 * @param value The value as given.
 * @returns `expected ...`, or undefined when valid.
 * @example
 * ```ts
 * heartbeatProblem("30"); // undefined
 * heartbeatProblem("0"); // "expected seconds from 1 to 86400"
 * ```
 */
export function heartbeatProblem(value: string): string | undefined {
  const n = Number(value);
  return /^\d+(\.\d+)?$/.test(value) && n > 0 && n <= MAX_HEARTBEAT_SECONDS
    ? undefined
    : `expected seconds from 1 to ${MAX_HEARTBEAT_SECONDS}`;
}

/** How the light parser treats one flag. */
interface LightFlag {
  /** Property of the parsed flags, e.g. `passwordFile`. */
  readonly attribute: string;
  /** Whether the flag takes a value (else it is a switch). */
  readonly takesValue: boolean;
  /** Environment variable consulted when the flag is absent. */
  readonly env: string | undefined;
  /** The value to store, given the text and the value so far; undefined when invalid. */
  readonly parse: (text: string, previous: unknown) => unknown;
}

/** The value itself. */
function plain(text: string): string {
  return text;
}

/** The flags the light parser knows, by long name: `run`'s table plus the operations flags. */
function lightFlags(): Map<string, LightFlag> {
  const flags = new Map<string, LightFlag>();
  for (const [attribute, spec] of Object.entries(RUN_FLAGS)) {
    const long = spec.flags.split(" ")[0]!;
    let parse: LightFlag["parse"] = plain;
    if (REPEATABLE_RUN_FLAGS.has(attribute)) {
      parse = (text, previous) => [...(previous as string[]), text];
    } else if (attribute === "server") {
      // Repeated --server flags join with commas, like NMS_SERVER=a:8080,b:8080 (issue 9).
      parse = (text, previous) => previous === undefined ? text : `${previous},${text}`;
    } else if (attribute === "heartbeat") {
      parse = (text) => heartbeatProblem(text) === undefined ? text : undefined;
    } else if (attribute === "logLevel") {
      parse = (text) => (LOG_LEVELS as readonly string[]).includes(text) ? text : undefined;
    }
    flags.set(long, {
      attribute,
      takesValue: spec.flags.includes("<"),
      env: AGENT_FLAG_ENV[long],
      parse,
    });
  }
  flags.set("--log-format", {
    attribute: "logFormat",
    takesValue: true,
    env: LOG_FORMAT_ENV,
    parse: (text) => (LOG_FORMATS as readonly string[]).includes(text) ? text : undefined,
  });
  flags.set("--metrics-port", {
    attribute: "metricsPort",
    takesValue: true,
    env: METRICS_PORT_ENV,
    parse: (text) => portProblem(text) === undefined ? Number(text) : undefined,
  });
  flags.set("--metrics-host", {
    attribute: "metricsHost",
    takesValue: true,
    env: METRICS_HOST_ENV,
    parse: plain,
  });
  return flags;
}

/** The values before any flag: commander's defaults of `run`. */
function defaults(): Record<string, unknown> {
  const values: Record<string, unknown> = {
    heartbeat: RUN_FLAGS.heartbeat.default,
    logLevel: RUN_FLAGS.logLevel.default,
    logFormat: DEFAULT_LOG_FORMAT,
    metricsHost: DEFAULT_METRICS_HOSTNAME,
  };
  for (const attribute of REPEATABLE_RUN_FLAGS) values[attribute] = [];
  return values;
}

/**
 * Parses an ordinary `nms-agent run` command line without commander.
 *
 * Precedence is commander's: a flag beats its environment variable, which
 * beats the default. Returns undefined for anything it does not handle (see the
 * module doc), so that the caller hands the command line to commander.
 *
 * @param args Arguments after the program name, starting with `run`.
 * @param getEnv Reads an environment variable (main.ts passes `Deno.env.get`).
 * @returns The parsed flags, or undefined when commander must parse them.
 * @example
 * ```ts
 * parseRunArgv(["run", "--server", "logs:8080", "--user", "web-1", "--path", "/var/log/syslog"],
 *   (name) => Deno.env.get(name));
 * // { server: "logs:8080", user: "web-1", path: ["/var/log/syslog"], heartbeat: "30", ... }
 * ```
 */
export function parseRunArgv(
  args: readonly string[],
  getEnv: (name: string) => string | undefined,
): AgentRunFlags | undefined {
  // A configuration file is read by commander's program (cli_ops.ts).
  if (args[0] !== "run" || getEnv(AGENT_CONFIG_ENV) !== undefined) return undefined;
  const flags = lightFlags();
  const values = defaults();
  const fromCommandLine = new Set<string>();
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    const equals = arg.indexOf("=");
    const flag = flags.get(equals === -1 ? arg : arg.slice(0, equals));
    // Unknown flags, -h, --help, --config, -c, "--" and operands: commander's job.
    if (flag === undefined) return undefined;
    fromCommandLine.add(flag.attribute);
    if (!flag.takesValue) {
      if (equals !== -1) return undefined;
      values[flag.attribute] = true;
      continue;
    }
    let text: string | undefined;
    if (equals !== -1) {
      text = arg.slice(equals + 1);
    } else {
      text = args[++i];
      // Commander takes a value that looks like a flag; let it say what it makes of one.
      if (text === undefined || text.startsWith("-")) return undefined;
    }
    const value = flag.parse(text, values[flag.attribute]);
    if (value === undefined) return undefined;
    values[flag.attribute] = value;
  }
  for (const flag of flags.values()) {
    if (flag.env === undefined || fromCommandLine.has(flag.attribute)) continue;
    const text = getEnv(flag.env);
    if (text === undefined) continue;
    const value = flag.parse(text, values[flag.attribute]);
    if (value === undefined) return undefined;
    values[flag.attribute] = value;
  }
  return values as unknown as AgentRunFlags;
}
