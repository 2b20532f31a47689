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
 * main.ts hands the command line to the full commander program (program.ts), which
 * words every message and error exactly as before. run_argv_test.ts checks
 * that both parsers agree.
 *
 * @module
 */

import {
  AGENT_CONFIG_ENV,
  type FlagSpec,
  longFlag,
  RUN_FLAGS,
  RUN_OPERATIONS_FLAGS,
} from "../config.ts";
import type { AgentRunFlags } from "./run_command.ts";

export {
  AGENT_CONFIG_ENV,
  AGENT_FLAG_ENV,
  DEFAULT_LOG_FORMAT,
  LOG_FORMAT_ENV,
  METRICS_HOST_ENV,
  METRICS_PORT_ENV,
} from "../config.ts";

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

/** The parser of one flag's values: commander's, except that a bad value gives undefined. */
function parserOf(spec: FlagSpec): LightFlag["parse"] {
  const { repeat, choices, problem, value } = spec;
  if (repeat === "list") return (text, previous) => [...(previous as string[]), text];
  if (repeat === "join") {
    return (text, previous) => previous === undefined ? text : `${previous},${text}`;
  }
  return (text) => {
    if (choices !== undefined && !choices.includes(text)) return undefined;
    if (problem?.(text) !== undefined) return undefined;
    return value === undefined ? text : value(text);
  };
}

/** The table's flags, less `--config` (a configuration file is commander's to read), by long name. */
function lightFlags(): Map<string, LightFlag> {
  const flags = new Map<string, LightFlag>();
  const table: Record<string, FlagSpec> = { ...RUN_FLAGS, ...RUN_OPERATIONS_FLAGS };
  for (const [attribute, spec] of Object.entries(table)) {
    if (attribute === "config") continue;
    flags.set(longFlag(spec), {
      attribute,
      takesValue: spec.flags.includes("<"),
      env: spec.env,
      parse: parserOf(spec),
    });
  }
  return flags;
}

/** The values before any flag: commander's defaults of `run`. */
function defaults(): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const table: Record<string, FlagSpec> = { ...RUN_FLAGS, ...RUN_OPERATIONS_FLAGS };
  for (const [attribute, spec] of Object.entries(table)) {
    if (spec.repeat === "list") values[attribute] = [];
    else if (spec.default !== undefined) values[attribute] = spec.default;
  }
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
  // A configuration file is read by commander's program (ops.ts).
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
