/**
 * The agent's command-line configuration: one table of the `run` flags with
 * their defaults, units, help text, environment variables and value checks,
 * from which both parsers are built (commander's program in cli/program.ts
 * and the light one of cli/run_argv.ts), and the validation that turns raw
 * flag values into a typed {@linkcode AgentConfig}. Only this file and
 * main.ts read the environment.
 *
 * @module
 */

import { DEFAULT_HEARTBEAT_SECONDS, DEFAULT_PORT } from "../protocol/mod.ts";
import { errorMessage } from "../common/error_message.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogLevel } from "./log.ts";
import { DEFAULT_METRICS_HOSTNAME } from "./metrics_server.ts";
import { globProblem, parseSeverityName } from "./sources/mod.ts";
import { DEFAULT_MAX_OPEN_FILES } from "./follow/mod.ts";

/** Environment variable holding the password when `--password-file` is not given. */
export const PASSWORD_ENV = "NMS_PASSWORD";
/** Environment variable naming the configuration file when `--config` is absent. */
export const AGENT_CONFIG_ENV = "NMS_AGENT_CONFIG";
/** Environment variable of `--log-format`. */
export const LOG_FORMAT_ENV = "NMS_LOG_FORMAT";
/** Environment variable of `--metrics-port`. */
export const METRICS_PORT_ENV = "NMS_METRICS_PORT";
/** Environment variable of `--metrics-host`. */
export const METRICS_HOST_ENV = "NMS_METRICS_HOST";
/** Default of `--log-format`. */
export const DEFAULT_LOG_FORMAT = "text";
/** Largest accepted password file, in bytes: anything bigger is not a password file. */
export const MAX_PASSWORD_FILE_BYTES = 4096;
/** Largest accepted `--heartbeat`, in seconds (one day). */
export const MAX_HEARTBEAT_SECONDS = 86_400;
/** Most `--server` addresses: more is a mistake, not a cluster. */
export const MAX_SERVERS = 16;
/** Longest `--include` / `--exclude-line` regular expression, in characters. */
export const MAX_FILTER_PATTERN_CHARS = 1_000;
/** Largest accepted `--max-open-files`: more than any process may hold. */
export const MAX_MAX_OPEN_FILES = 1_000_000;

/** One flag of `nms-agent run`. */
export interface FlagSpec {
  /** Commander flag syntax, e.g. `--server <host:port>`. */
  readonly flags: string;
  /** Help text. */
  readonly help: string;
  /** Default value as text, if any. */
  readonly default?: string;
  /** Unit of the value, if any. */
  readonly unit?: string;
  /** Environment variable consulted when the flag is absent. */
  readonly env?: string;
  /**
   * How a repeated flag combines: `list` keeps every value (the default is
   * then an empty list), `join` joins them with commas; absent: the last one wins.
   */
  readonly repeat?: "list" | "join";
  /** The only values accepted. */
  readonly choices?: readonly string[];
  /** Why a value is invalid (`expected ...`), or undefined when it is valid. */
  readonly problem?: (text: string) => string | undefined;
  /** The value kept from a valid text; absent: the text itself. */
  readonly value?: (text: string) => unknown;
}

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
 * Why a `--heartbeat` value is invalid (it stays text until {@linkcode buildAgentConfig}).
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
  return /^\d+(\.\d+)?$/.test(value) && n >= 1 && n <= MAX_HEARTBEAT_SECONDS
    ? undefined
    : `expected seconds from 1 to ${MAX_HEARTBEAT_SECONDS}`;
}

/**
 * Why a `--max-open-files` value is invalid.
 *
 * @param value The value as given.
 * @returns `expected ...`, or undefined when valid.
 * @example
 * ```ts
 * maxOpenFilesProblem("512"); // undefined
 * maxOpenFilesProblem("0"); // "expected an integer from 1 to 1000000"
 * ```
 */
export function maxOpenFilesProblem(value: string): string | undefined {
  return /^\d{1,7}$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_MAX_OPEN_FILES
    ? undefined
    : `expected an integer from 1 to ${MAX_MAX_OPEN_FILES}`;
}

/**
 * The flags of `nms-agent run`. A flag's environment variable is read by the
 * agent's own hook (cli/program.ts), which words a bad value as
 * `... from env 'NMS_X' is invalid: <why>`.
 */
export const RUN_FLAGS = {
  server: {
    flags: "--server <host:port>",
    help: `NMS server address; the port defaults to ${DEFAULT_PORT}. ` +
      "Repeat it (or separate addresses with commas) to fail over between servers",
    env: "NMS_SERVER",
    repeat: "join",
  },
  user: { flags: "--user <name>", help: "user name to log in with", env: "NMS_USER" },
  passwordFile: {
    flags: "--password-file <file>",
    help: `file whose first line is the password (else the ${PASSWORD_ENV} environment variable)`,
    env: "NMS_PASSWORD_FILE",
  },
  path: {
    flags: "--path <file>",
    help:
      "log file to follow (repeat for more files); existing files are followed from their end. " +
      "A quoted glob such as '/var/log/*.log' follows every match, and files that match later from their start; " +
      "'{a,b}' are alternatives and '**' (a whole path component) any number of directories",
    repeat: "list",
  },
  stateDir: {
    flags: "--state-dir <dir>",
    help: "directory for acknowledged offsets, to resume exactly after a restart " +
      "(without it, a restart starts again at the end of each file)",
    env: "NMS_STATE_DIR",
  },
  heartbeat: {
    flags: "--heartbeat <seconds>",
    help: "seconds between heartbeats",
    default: String(DEFAULT_HEARTBEAT_SECONDS),
    unit: "seconds",
    env: "NMS_HEARTBEAT",
    problem: heartbeatProblem,
  },
  logLevel: {
    flags: "--log-level <level>",
    help: `least severe log level written to stderr (${LOG_LEVELS.join(", ")})`,
    default: "info",
    env: "NMS_LOG_LEVEL",
    choices: LOG_LEVELS,
  },
  tokenFile: {
    flags: "--token-file <file>",
    help:
      "file holding an enrollment token from 'nms-server token create' (replaces --user and the password)",
    env: "NMS_TOKEN_FILE",
  },
  tls: {
    flags: "--tls",
    help: "connect with TLS, verifying the server against the system's roots (or --ca-file)",
  },
  caFile: {
    flags: "--ca-file <file>",
    help: "CA certificate (PEM) that signed the server's certificate; implies --tls",
    env: "NMS_CA_FILE",
  },
  clientCert: {
    flags: "--client-cert <file>",
    help: "client certificate (PEM) for a server that requires mutual TLS; implies --tls",
    env: "NMS_CLIENT_CERT",
  },
  clientKey: {
    flags: "--client-key <file>",
    help: "private key (PEM) of --client-cert",
    env: "NMS_CLIENT_KEY",
  },
  exclude: {
    flags: "--exclude <glob>",
    help: "leave out files a --path glob matches: a name pattern such as '*.gz', " +
      "or a whole-path pattern containing / (repeatable)",
    repeat: "list",
  },
  journal: {
    flags: "--journal",
    help: "also follow the systemd journal through journalctl; with --state-dir its cursor " +
      "is kept, to resume exactly after a restart",
  },
  journalUnit: {
    flags: "--journal-unit <unit>",
    help: "only journal entries of this systemd unit (repeatable; implies --journal)",
    repeat: "list",
  },
  include: {
    flags: "--include <regex>",
    help: "send only lines matching this regular expression (repeatable: any of them)",
    repeat: "list",
  },
  excludeLine: {
    flags: "--exclude-line <regex>",
    help: "do not send lines matching this regular expression (repeatable)",
    repeat: "list",
  },
  maxOpenFiles: {
    flags: "--max-open-files <count>",
    help: "most followed files kept open at once; the least recently read are closed, " +
      "and opened again by path when they change (rotated files being read stay open beyond it)",
    default: String(DEFAULT_MAX_OPEN_FILES),
    unit: "files",
    env: "NMS_MAX_OPEN_FILES",
    problem: maxOpenFilesProblem,
  },
  minSeverity: {
    flags: "--min-severity <level>",
    help: "do not send lines less severe than this: emerg, alert, crit, err, warning, notice, " +
      "info or debug (or 0-7); lines without a syslog PRI are judged by keywords",
    env: "NMS_MIN_SEVERITY",
  },
} as const satisfies Record<string, FlagSpec>;

/**
 * The operations flags of `nms-agent run`, listed after {@linkcode RUN_FLAGS}
 * in its help. Commander reads their environment variables itself, and words
 * a bad value as `... from env 'NMS_X' is invalid. <why>`. `--config` names
 * a file only commander's program reads (cli/ops.ts).
 */
export const RUN_OPERATIONS_FLAGS = {
  logFormat: {
    flags: "--log-format <format>",
    help: "format of log lines on stderr",
    default: DEFAULT_LOG_FORMAT,
    env: LOG_FORMAT_ENV,
    choices: LOG_FORMATS,
  },
  metricsPort: {
    flags: "--metrics-port <port>",
    help: "serve Prometheus metrics on this port (off unless set)",
    env: METRICS_PORT_ENV,
    problem: portProblem,
    value: Number,
  },
  metricsHost: {
    flags: "--metrics-host <address>",
    help: "address of the metrics endpoint",
    default: DEFAULT_METRICS_HOSTNAME,
    env: METRICS_HOST_ENV,
  },
  config: {
    flags: "-c, --config <file>",
    help: "configuration file (YAML), see docs/PRODUCTION.md",
    env: AGENT_CONFIG_ENV,
  },
} as const satisfies Record<string, FlagSpec>;

/**
 * Environment variables of the `run` flags, by long flag. `--path` and the
 * other repeatable flags, and the switches, have none; the password itself is
 * {@linkcode PASSWORD_ENV}.
 */
export const AGENT_FLAG_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(RUN_FLAGS as Record<string, FlagSpec>).flatMap((spec) =>
    spec.env === undefined ? [] : [[longFlag(spec), spec.env]]
  ),
);

/**
 * The long flag of a table entry.
 *
 * @param spec The entry.
 * @returns E.g. `--config` for `-c, --config <file>`.
 * @example
 * ```ts
 * longFlag(RUN_FLAGS.server); // "--server"
 * ```
 */
export function longFlag(spec: FlagSpec): string {
  return spec.flags.split(" ").find((word) => word.startsWith("--"))!;
}

/** Raw values of the `run` flags as commander parsed them. */
export interface RawRunFlags {
  readonly server?: string;
  readonly user?: string;
  readonly passwordFile?: string;
  readonly path?: readonly string[];
  readonly stateDir?: string;
  readonly heartbeat?: string;
  readonly logLevel?: string;
  readonly tokenFile?: string;
  readonly tls?: boolean;
  readonly caFile?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly exclude?: readonly string[];
  readonly journal?: boolean;
  readonly journalUnit?: readonly string[];
  readonly include?: readonly string[];
  readonly excludeLine?: readonly string[];
  readonly minSeverity?: string;
  readonly maxOpenFiles?: string;
}

/** Validated configuration of `nms-agent run`. */
export interface AgentConfig {
  /** Server host name or IP address (IPv6 without brackets). */
  readonly hostname: string;
  /** Server TCP port. */
  readonly port: number;
  /** User name. */
  readonly username: string;
  /** Password (never from the command line). */
  readonly password: string;
  /** Files to follow. */
  readonly paths: readonly string[];
  /** State directory, if any. */
  readonly stateDir: string | undefined;
  /** Seconds between heartbeats. */
  readonly heartbeatSeconds: number;
  /** Log level. */
  readonly logLevel: LogLevel;
  /** TLS settings, or undefined for plain TCP. */
  readonly tls: AgentTlsConfig | undefined;
  /** Further `--server` addresses to fail over to, in order. */
  readonly failoverServers: readonly { readonly hostname: string; readonly port: number }[];
  /** `--exclude` patterns for glob paths. */
  readonly exclude: readonly string[];
  /** Journal units when `--journal` (an empty list: every entry), or undefined. */
  readonly journal: { readonly units: readonly string[] } | undefined;
  /** Line filter, or undefined when no filter flag is given. */
  readonly filter: AgentFilterConfig | undefined;
  /** Most followed files open at once while their path still names them. */
  readonly maxOpenFiles: number;
}

/** The agent's line filter. */
export interface AgentFilterConfig {
  /** `--include` patterns. */
  readonly include: readonly RegExp[];
  /** `--exclude-line` patterns. */
  readonly exclude: readonly RegExp[];
  /** `--min-severity` as 0..7, or undefined. */
  readonly minSeverity: number | undefined;
}

/** The agent's TLS settings, files already read. */
export interface AgentTlsConfig {
  /** CA certificates trusted for the server; absent: the system's roots. */
  readonly caCerts?: readonly string[];
  /** Client certificate chain and key (mutual TLS). */
  readonly cert?: string;
  readonly key?: string;
}

/** User name that selects the token variant of LOGIN (`LOGIN @token <token>`). */
export const TOKEN_USER = "@token";
/** Largest accepted PEM file (certificate or key), in bytes. */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

/**
 * Reads a PEM file (certificate or key).
 *
 * @param flag The flag that named it, for the error.
 * @param path The file.
 * @returns Its text.
 * @throws {ConfigError} When it cannot be read or holds no PEM block.
 * @example
 * ```ts
 * const ca = await readPemFile("--ca-file", "/etc/nms-agent/ca.pem");
 * ```
 */
export async function readPemFile(flag: string, path: string): Promise<string> {
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile || info.size > MAX_PEM_FILE_BYTES) {
      throw new ConfigError(`Cannot read ${flag} ${path}: not a PEM file`);
    }
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`Cannot read ${flag} ${path}: ${errorMessage(error)}`);
  }
  if (!text.includes("-----BEGIN ")) throw new ConfigError(`Cannot read ${flag} ${path}: not PEM`);
  return text;
}

async function buildTlsConfig(flags: RawRunFlags): Promise<AgentTlsConfig | undefined> {
  if ((flags.clientCert === undefined) !== (flags.clientKey === undefined)) {
    throw new ConfigError("--client-cert and --client-key go together");
  }
  const on = flags.tls === true || flags.caFile !== undefined || flags.clientCert !== undefined;
  if (!on) return undefined;
  return {
    ...(flags.caFile === undefined
      ? {}
      : { caCerts: [await readPemFile("--ca-file", flags.caFile)] }),
    ...(flags.clientCert === undefined || flags.clientKey === undefined ? {} : {
      cert: await readPemFile("--client-cert", flags.clientCert),
      key: await readPemFile("--client-key", flags.clientKey),
    }),
  };
}

/** Reads `--token-file`: one line, a token as `nms-server token create` prints it. */
async function readTokenFile(path: string): Promise<string> {
  let token: string;
  try {
    token = await readPasswordFile(path);
  } catch (error) {
    throw new ConfigError(errorMessage(error).replace("password file", "token file"));
  }
  if (!/^nms_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/.test(token.trim())) {
    throw new ConfigError(
      `Invalid token in ${path}: expected nms_<id>_<secret> from 'nms-server token create'`,
    );
  }
  return token.trim();
}

/** A configuration mistake the user must fix; main.ts prints its message as one line. */
export class ConfigError extends Error {
  /**
   * @param message What is wrong, naming the flag and the offending value.
   */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Parses `host:port`, `host` (default port), `[v6]:port` or `[v6]`.
 *
 * @param text The `--server` value.
 * @returns Host name and port.
 * @throws {ConfigError} When the address is malformed.
 * @example
 * ```ts
 * parseServerAddress("logs.example.com:8080"); // { hostname: "logs.example.com", port: 8080 }
 * parseServerAddress("[::1]:9000"); // { hostname: "::1", port: 9000 }
 * ```
 */
export function parseServerAddress(text: string): { hostname: string; port: number } {
  const bad = (why: string) => new ConfigError(`Invalid --server ${JSON.stringify(text)}: ${why}`);
  let hostname: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw bad("missing ] after the IPv6 address");
    hostname = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(":")) throw bad("expected :port after ]");
      portText = rest.slice(1);
    }
  } else {
    const colon = text.lastIndexOf(":");
    if (colon >= 0 && text.indexOf(":") !== colon) {
      throw bad("put an IPv6 address in brackets, e.g. [::1]:8080");
    }
    hostname = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  if (hostname.length === 0) throw bad("missing host");
  if (!/^[A-Za-z0-9._:%-]+$/.test(hostname)) throw bad("the host contains invalid characters");
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw bad("the port must be a number from 1 to 65535");
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad("the port must be a number from 1 to 65535");
  }
  return { hostname, port };
}

/**
 * Reads a password file: its content without one trailing line break.
 *
 * @param path The `--password-file` value.
 * @returns The password.
 * @throws {ConfigError} When the file cannot be read, is empty or holds more than one line.
 * @example
 * ```ts
 * const password = await readPasswordFile("/etc/nms-agent/password");
 * ```
 */
export async function readPasswordFile(path: string): Promise<string> {
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new ConfigError(`Cannot read the password file ${path}: not a file`);
    if (info.size > MAX_PASSWORD_FILE_BYTES) {
      throw new ConfigError(
        `Cannot read the password file ${path}: larger than ${MAX_PASSWORD_FILE_BYTES} bytes`,
      );
    }
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : errorMessage(error);
    throw new ConfigError(`Cannot read the password file ${path}: ${why}`);
  }
  return checkPassword(text.replace(/\r?\n$/, ""), `the password file ${path}`);
}

function checkPassword(password: string, source: string): string {
  if (password.length === 0) throw new ConfigError(`Empty password in ${source}`);
  if (/[\r\n\0]/.test(password)) {
    throw new ConfigError(`Invalid password in ${source}: it must be one line without NUL`);
  }
  return password;
}

/**
 * Validates raw flags into a typed configuration, reading the password from
 * `--password-file` or the environment.
 *
 * @param flags Values as parsed by commander.
 * @param getEnv Reads an environment variable (main.ts passes `Deno.env.get`).
 * @returns The configuration.
 * @throws {ConfigError} For any invalid or missing value.
 * @example
 * ```ts
 * const config = await buildAgentConfig(
 *   { server: "127.0.0.1:8080", user: "admin", path: ["/var/log/syslog"] },
 *   (name) => Deno.env.get(name),
 * );
 * ```
 */
export async function buildAgentConfig(
  flags: RawRunFlags,
  getEnv: (name: string) => string | undefined,
): Promise<AgentConfig> {
  if (flags.server === undefined) throw new ConfigError("Missing --server <host:port>");
  const servers = parseServerList(flags.server);
  const { hostname, port } = servers[0]!;
  if (
    flags.tokenFile !== undefined && (flags.user !== undefined || flags.passwordFile !== undefined)
  ) {
    throw new ConfigError(
      "--token-file replaces --user and --password-file: give one or the other",
    );
  }
  if (flags.tokenFile === undefined && flags.user === undefined) {
    throw new ConfigError("Missing --user <name> (or --token-file <file>)");
  }
  const username = flags.tokenFile !== undefined ? TOKEN_USER : flags.user ?? "";
  if (username.length === 0 || /[\s\0]/.test(username)) {
    throw new ConfigError(`Invalid --user ${JSON.stringify(username)}: it must be one word`);
  }
  const paths = flags.path ?? [];
  const journalUnits = [...(flags.journalUnit ?? [])];
  const journal = flags.journal === true || journalUnits.length > 0;
  if (paths.length === 0 && !journal) {
    throw new ConfigError("Missing --path <file>: give at least one file (or --journal)");
  }
  for (const path of paths) {
    if (path.length === 0 || path.includes("\0")) {
      throw new ConfigError(`Invalid --path ${JSON.stringify(path)}`);
    }
    const problem = globProblem(path);
    if (problem !== undefined) {
      throw new ConfigError(`Invalid --path ${JSON.stringify(path)}: ${problem}`);
    }
  }
  const maxOpenFilesText = flags.maxOpenFiles ?? RUN_FLAGS.maxOpenFiles.default;
  const maxOpenFilesWrong = maxOpenFilesProblem(maxOpenFilesText);
  if (maxOpenFilesWrong !== undefined) {
    throw new ConfigError(
      `Invalid --max-open-files ${JSON.stringify(maxOpenFilesText)}: ${maxOpenFilesWrong}`,
    );
  }
  const heartbeatText = flags.heartbeat ?? RUN_FLAGS.heartbeat.default;
  const heartbeatWrong = heartbeatProblem(heartbeatText);
  if (heartbeatWrong !== undefined) {
    throw new ConfigError(
      `Invalid --heartbeat ${JSON.stringify(heartbeatText)}: ${heartbeatWrong}`,
    );
  }
  const heartbeatSeconds = Number(heartbeatText);
  const logLevel = flags.logLevel ?? RUN_FLAGS.logLevel.default;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(
      `Invalid --log-level ${JSON.stringify(logLevel)}: expected one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  let password: string;
  if (flags.tokenFile !== undefined) {
    password = await readTokenFile(flags.tokenFile);
  } else if (flags.passwordFile !== undefined) {
    password = await readPasswordFile(flags.passwordFile);
  } else {
    const fromEnv = getEnv(PASSWORD_ENV);
    if (fromEnv === undefined) {
      throw new ConfigError(`Missing password: use --password-file <file> or set ${PASSWORD_ENV}`);
    }
    password = checkPassword(fromEnv, `the ${PASSWORD_ENV} environment variable`);
  }
  if (flags.stateDir !== undefined && flags.stateDir.length === 0) {
    throw new ConfigError("Invalid --state-dir: empty path");
  }
  return {
    hostname,
    port,
    username,
    password,
    paths: [...paths],
    stateDir: flags.stateDir,
    heartbeatSeconds,
    logLevel: logLevel as LogLevel,
    tls: await buildTlsConfig(flags),
    failoverServers: servers.slice(1),
    exclude: checkExcludes(flags.exclude ?? []),
    journal: journal ? { units: checkUnits(journalUnits) } : undefined,
    filter: buildFilter(flags),
    maxOpenFiles: Number(maxOpenFilesText),
  };
}

/**
 * Parses the `--server` value: one address, or several separated by commas
 * (repeated `--server` flags arrive joined this way, like `NMS_SERVER=a:8080,b:8080`).
 *
 * @param text The value.
 * @returns The addresses in order, without duplicates.
 * @throws {ConfigError} When an address is malformed, none is given, or more than {@linkcode MAX_SERVERS}.
 * @example
 * ```ts
 * parseServerList("collector-1:8080,collector-2:8080").length; // 2
 * ```
 */
export function parseServerList(text: string): { hostname: string; port: number }[] {
  const servers: { hostname: string; port: number }[] = [];
  const seen = new Set<string>();
  for (const part of text.split(",")) {
    const trimmed = part.trim();
    if (trimmed.length === 0) continue;
    const server = parseServerAddress(trimmed);
    const key = `${server.hostname}:${server.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    servers.push(server);
  }
  if (servers.length === 0) throw new ConfigError("Missing --server <host:port>");
  if (servers.length > MAX_SERVERS) {
    throw new ConfigError(`Too many --server addresses: at most ${MAX_SERVERS}`);
  }
  return servers;
}

function checkExcludes(patterns: readonly string[]): string[] {
  for (const pattern of patterns) {
    if (pattern.length === 0 || pattern.includes("\0")) {
      throw new ConfigError(`Invalid --exclude ${JSON.stringify(pattern)}`);
    }
    const problem = globProblem(pattern);
    if (problem !== undefined) {
      throw new ConfigError(`Invalid --exclude ${JSON.stringify(pattern)}: ${problem}`);
    }
  }
  return [...patterns];
}

function checkUnits(units: readonly string[]): string[] {
  for (const unit of units) {
    // systemd unit names (and the globs journalctl accepts for them); never an option.
    if (!/^[A-Za-z0-9@._:\\*?[\]-]{1,256}$/.test(unit) || unit.startsWith("-")) {
      throw new ConfigError(`Invalid --journal-unit ${JSON.stringify(unit)}: not a unit name`);
    }
  }
  return [...units];
}

function compilePatterns(flag: string, patterns: readonly string[]): RegExp[] {
  return patterns.map((pattern) => {
    if (pattern.length === 0 || pattern.length > MAX_FILTER_PATTERN_CHARS) {
      throw new ConfigError(
        `Invalid ${flag} ${
          JSON.stringify(pattern.slice(0, 80))
        }: expected 1 to ${MAX_FILTER_PATTERN_CHARS} characters`,
      );
    }
    try {
      return new RegExp(pattern);
    } catch (error) {
      throw new ConfigError(
        `Invalid ${flag} ${JSON.stringify(pattern)}: ${errorMessage(error)}`,
      );
    }
  });
}

function buildFilter(flags: RawRunFlags): AgentFilterConfig | undefined {
  const include = compilePatterns("--include", flags.include ?? []);
  const exclude = compilePatterns("--exclude-line", flags.excludeLine ?? []);
  let minSeverity: number | undefined;
  if (flags.minSeverity !== undefined) {
    minSeverity = parseSeverityName(flags.minSeverity);
    if (minSeverity === undefined) {
      throw new ConfigError(
        `Invalid --min-severity ${
          JSON.stringify(flags.minSeverity)
        }: expected emerg, alert, crit, err, warning, notice, info, debug or 0-7`,
      );
    }
  }
  if (include.length === 0 && exclude.length === 0 && minSeverity === undefined) return undefined;
  return { include, exclude, minSeverity };
}
