/**
 * The configuration of `nms-server serve`: one table of every option with its
 * flag, help text, default, environment variable and the heading it is listed
 * under in `serve --help`, and the parsers that check each value. The serve
 * command's options are built from it (`server/cli/serve.ts`), and through
 * them the keys of the configuration file (`config keys`, common/config_file.ts).
 *
 * @module
 */

import { InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { LOG_FORMATS, LOG_LEVELS, type LogLevel } from "../common/log.ts";
import { DEFAULT_HEARTBEAT_SECONDS, DEFAULT_PORT } from "../protocol/mod.ts";
import {
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_LINE_TIMEOUT_SECONDS,
  DEFAULT_LOGIN_TIMEOUT_SECONDS,
  DEFAULT_MAX_CONNECTIONS_PER_IP,
  DEFAULT_MAX_EVENTS_PER_SECOND,
  DEFAULT_MAX_PRE_LOGIN_CONNECTIONS,
  PRE_LOGIN_EVICTION_GRACE_MS,
} from "./agent_port/mod.ts";
import { DEFAULT_LOCKOUT_SECONDS, DEFAULT_MAX_LOGIN_FAILURES } from "./auth/mod.ts";
import { parseByteSize } from "../common/byte_size.ts";
import { DEFAULT_HTTP_PORT } from "./dashboard/mod.ts";
import { DEFAULT_TEXT_INDEX_MAX_LAG, MAX_TEXT_INDEX_CATCHUP_SECONDS } from "./ingest/mod.ts";
import { checkRetentionDays } from "./retention.ts";
import { DEFAULT_DB_PATH } from "./server.ts";
import {
  DEFAULT_SYSLOG_ALLOW,
  DEFAULT_SYSLOG_IDLE_TIMEOUT_SECONDS,
  parseAllowList,
} from "./syslog/mod.ts";

/** Environment variable with the password of the `admin` created on first start. */
export const ADMIN_PASSWORD_ENV = "NMS_ADMIN_PASSWORD";

/**
 * Parser of an integer flag.
 *
 * @param min Smallest accepted value.
 * @param max Largest accepted value.
 * @returns A parser that throws `InvalidArgumentError` for anything else.
 * @example
 * ```ts
 * integerArg(0, 65535)("8080"); // 8080
 * ```
 */
export function integerArg(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/**
 * Parser of a decimal flag (digits, an optional fraction).
 *
 * @param min Smallest accepted value.
 * @param max Largest accepted value.
 * @returns A parser that throws `InvalidArgumentError` for anything else.
 * @example
 * ```ts
 * decimalArg(0, 3600)("2.5"); // 2.5
 * ```
 */
export function decimalArg(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    }
    return n;
  };
}

/**
 * Parser of `--syslog-allow`: checked when parsed, so a bad network is a
 * one-line usage error.
 *
 * @param value Comma-separated networks in CIDR notation.
 * @returns The value, unchanged.
 * @throws {InvalidArgumentError} When a network is not valid.
 */
export function allowListArg(value: string): string {
  try {
    parseAllowList([value]);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

/**
 * Parser of `--retention-days`.
 *
 * @param value The flag's text.
 * @returns The number of days.
 * @throws {InvalidArgumentError} When it is not a number of days.
 * @example
 * ```ts
 * retentionDaysArg("30"); // 30
 * ```
 */
export function retentionDaysArg(value: string): number {
  try {
    return checkRetentionDays(/^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN);
  } catch {
    throw new InvalidArgumentError("expected a number of days above 0, e.g. 30");
  }
}

/**
 * Parser of `--max-db-size`.
 *
 * @param value The flag's text.
 * @returns The size in bytes.
 * @throws {InvalidArgumentError} When it is not a size.
 * @example
 * ```ts
 * byteSizeArg("2GB"); // 2000000000
 * ```
 */
export function byteSizeArg(value: string): number {
  try {
    return parseByteSize(value);
  } catch {
    throw new InvalidArgumentError("expected a size such as 500MB, 2GB or 1GiB");
  }
}

/** Headings of `serve --help`, in the order they are listed. */
export const SERVE_OPTION_GROUPS = {
  agents: "Agents:",
  storage: "Storage and ingest:",
  diagnostics: "Diagnostics:",
  syslog: "Syslog receiver (docs/SYSLOG.md):",
  tls: "TLS (docs/SECURITY.md):",
  limits: "Connection limits:",
  lockout: "Login lockout:",
  console: "Web console (docs/API.md):",
  rules: "Detection rules and alerts (docs/RULES.md):",
  retention: "Retention (docs/PRODUCTION.md):",
} as const;

/** One option of `nms-server serve`. */
export interface ServeOptionSpec {
  /** Commander flag syntax, e.g. `-p, --port <port>`. */
  readonly flags: string;
  /** Help text. */
  readonly help: string;
  /** Heading it is listed under in `serve --help`. */
  readonly group: typeof SERVE_OPTION_GROUPS[keyof typeof SERVE_OPTION_GROUPS];
  /** Environment variable consulted when the flag is absent. */
  readonly env?: string;
  /** Value when neither the flag, the environment nor the configuration file gives one. */
  readonly default?: string | number;
  /** The accepted values, when there are few. */
  readonly choices?: readonly string[];
  /** Checks and converts the value; throws `InvalidArgumentError`. */
  readonly parse?: (value: string) => unknown;
}

const G = SERVE_OPTION_GROUPS;

/**
 * Every option of `nms-server serve`, in the order of `config keys`. The keys
 * are the properties commander gives the parsed values ({@linkcode ServeFlags}).
 */
export const SERVE_OPTIONS = {
  port: {
    flags: "-p, --port <port>",
    help: "TCP port for agents",
    group: G.agents,
    env: "NMS_PORT",
    parse: integerArg(0, 65535),
    default: DEFAULT_PORT,
  },
  host: {
    flags: "--host <address>",
    help: "address to listen on",
    group: G.agents,
    env: "NMS_HOST",
    default: "0.0.0.0",
  },
  db: {
    flags: "--db <path>",
    help: "SQLite database file",
    group: G.storage,
    env: "NMS_DB",
    default: DEFAULT_DB_PATH,
  },
  store: {
    flags: "--store <url>",
    help: "store: postgres://user@host:port/db, sqlite:PATH or a path",
    group: G.storage,
    env: "NMS_STORE",
  },
  workers: {
    flags: "-w, --workers <n>",
    help: "pool worker threads (default: number of CPUs - 1, at least 1)",
    group: G.storage,
    env: "NMS_WORKERS",
    parse: integerArg(1, 64),
  },
  textIndexMaxLag: {
    flags: "--text-index-max-lag <events>",
    help:
      "events not yet full-text indexed beyond which ingest gives the indexer a turn (0: only when idle)",
    group: G.storage,
    env: "NMS_TEXT_INDEX_MAX_LAG",
    parse: integerArg(0, 1_000_000_000),
    default: DEFAULT_TEXT_INDEX_MAX_LAG,
  },
  textIndexMaxCatchup: {
    flags: "--text-index-max-catchup <seconds>",
    help:
      "most seconds the full-text index may need to catch up once ingest stops, at the measured indexing rate (0: no such bound)",
    group: G.storage,
    env: "NMS_TEXT_INDEX_MAX_CATCHUP",
    parse: decimalArg(0, MAX_TEXT_INDEX_CATCHUP_SECONDS),
    default: 0,
  },
  sync: {
    flags: "--sync <mode>",
    help: "commit durability: full (survives power loss) or normal",
    group: G.storage,
    choices: ["full", "normal"],
    env: "NMS_SYNC",
    default: "full",
  },
  logLevel: {
    flags: "--log-level <level>",
    help: "least severe diagnostics shown",
    group: G.diagnostics,
    // The agent's set, so one NMS_LOG_LEVEL serves both binaries.
    choices: LOG_LEVELS,
    env: "NMS_LOG_LEVEL",
    default: "info",
  },
  logFormat: {
    flags: "--log-format <format>",
    help: "diagnostics format",
    group: G.diagnostics,
    choices: LOG_FORMATS,
    env: "NMS_LOG_FORMAT",
    default: "text",
  },
  syslogUdp: {
    flags: "--syslog-udp <port>",
    help: "UDP port for syslog from devices (off unless set)",
    group: G.syslog,
    env: "NMS_SYSLOG_UDP",
    parse: integerArg(0, 65535),
  },
  syslogTcp: {
    flags: "--syslog-tcp <port>",
    help: "TCP port for syslog, octet-counted or newline-framed",
    group: G.syslog,
    env: "NMS_SYSLOG_TCP",
    parse: integerArg(0, 65535),
  },
  syslogTls: {
    flags: "--syslog-tls <port>",
    help: "TLS port for syslog; needs --tls-cert, --tls-key",
    group: G.syslog,
    env: "NMS_SYSLOG_TLS",
    parse: integerArg(0, 65535),
  },
  syslogAllow: {
    flags: "--syslog-allow <networks>",
    help: "networks that may send syslog, comma-separated CIDR",
    group: G.syslog,
    env: "NMS_SYSLOG_ALLOW",
    parse: allowListArg,
    default: DEFAULT_SYSLOG_ALLOW.join(","),
  },
  syslogIdleTimeout: {
    flags: "--syslog-idle-timeout <seconds>",
    help: "close a syslog TCP or TLS connection silent this long (0: never)",
    group: G.syslog,
    env: "NMS_SYSLOG_IDLE_TIMEOUT",
    parse: integerArg(0, 7 * 86400),
    default: DEFAULT_SYSLOG_IDLE_TIMEOUT_SECONDS,
  },
  tlsCert: {
    flags: "--tls-cert <file>",
    help: "certificate chain (PEM) of the TLS listeners",
    group: G.tls,
    env: "NMS_TLS_CERT",
  },
  tlsKey: {
    flags: "--tls-key <file>",
    help: "private key (PEM) of the TLS listeners",
    group: G.tls,
    env: "NMS_TLS_KEY",
  },
  plainAgents: {
    flags: "--plain-agents",
    help: "keep the agent port plain TCP even with --tls-cert (paper agents)",
    group: G.tls,
  },
  clientCa: {
    flags: "--client-ca <file>",
    help: "require agents' certificates signed by this CA (mutual TLS)",
    group: G.tls,
    env: "NMS_CLIENT_CA",
  },
  maxConnections: {
    flags: "--max-connections <n>",
    help:
      "most open agent connections (0: no limit; default: the file-descriptor limit less 256, at most 65536)",
    group: G.limits,
    env: "NMS_MAX_CONNECTIONS",
    parse: integerArg(0, 1_000_000),
  },
  maxConnectionsPerIp: {
    flags: "--max-connections-per-ip <n>",
    help: "most open agent connections per address (0: no limit)",
    group: G.limits,
    env: "NMS_MAX_CONNECTIONS_PER_IP",
    parse: integerArg(0, 1_000_000),
    default: DEFAULT_MAX_CONNECTIONS_PER_IP,
  },
  idleTimeout: {
    flags: "--idle-timeout <seconds>",
    help: "close a logged-in connection silent this long (0: never)",
    group: G.limits,
    env: "NMS_IDLE_TIMEOUT",
    parse: integerArg(0, 7 * 86400),
    default: DEFAULT_IDLE_TIMEOUT_SECONDS,
  },
  lineTimeout: {
    flags: "--line-timeout <seconds>",
    help: "close a connection holding an incomplete line this long, or not logged in (0: never)",
    group: G.limits,
    env: "NMS_LINE_TIMEOUT",
    parse: integerArg(0, 86400),
    default: DEFAULT_LINE_TIMEOUT_SECONDS,
  },
  loginTimeout: {
    flags: "--login-timeout <seconds>",
    help: "close a connection that has not logged in this long after connecting (0: never)",
    group: G.limits,
    env: "NMS_LOGIN_TIMEOUT",
    parse: integerArg(0, 86400),
    default: DEFAULT_LOGIN_TIMEOUT_SECONDS,
  },
  maxPreLoginConnections: {
    flags: "--max-pre-login-connections <n>",
    help:
      `most open agent connections not logged in yet; past it, newcomers wait and the oldest goes after ${
        PRE_LOGIN_EVICTION_GRACE_MS / 1000
      } s (0: no limit)`,
    group: G.limits,
    env: "NMS_MAX_PRE_LOGIN_CONNECTIONS",
    parse: integerArg(0, 1_000_000),
    default: DEFAULT_MAX_PRE_LOGIN_CONNECTIONS,
  },
  maxEventsPerSecond: {
    flags: "--max-events-per-second <n>",
    help: "lines per second per connection before reading pauses (0: no limit)",
    group: G.limits,
    env: "NMS_MAX_EVENTS_PER_SECOND",
    parse: integerArg(0, 100_000_000),
    default: DEFAULT_MAX_EVENTS_PER_SECOND,
  },
  maxLoginFailures: {
    flags: "--max-login-failures <n>",
    help: "failed logins per user or address in 15 minutes before a lockout (0: off)",
    group: G.lockout,
    env: "NMS_MAX_LOGIN_FAILURES",
    parse: integerArg(0, 1000),
    default: DEFAULT_MAX_LOGIN_FAILURES,
  },
  lockoutSeconds: {
    flags: "--lockout-seconds <seconds>",
    help: "how long a locked user or address is refused",
    group: G.lockout,
    env: "NMS_LOCKOUT_SECONDS",
    parse: integerArg(1, 7 * 86400),
    default: DEFAULT_LOCKOUT_SECONDS,
  },
  httpPort: {
    flags: "--http-port <port>",
    help: "HTTP port of the web console and API",
    group: G.console,
    env: "NMS_HTTP_PORT",
    parse: integerArg(0, 65535),
    default: DEFAULT_HTTP_PORT,
  },
  httpHost: {
    flags: "--http-host <address>",
    help: "address of the web console (default: --host)",
    group: G.console,
    env: "NMS_HTTP_HOST",
  },
  heartbeat: {
    flags: "--heartbeat <seconds>",
    help: "heartbeat interval the agents use, for node status",
    group: G.agents,
    env: "NMS_HEARTBEAT",
    // As the agent reads NMS_HEARTBEAT: seconds, fractions allowed.
    parse: decimalArg(1, 86400),
    default: DEFAULT_HEARTBEAT_SECONDS,
  },
  rules: {
    flags: "--rules <file>",
    help: "user rules (YAML or JSON) added to the built-in ones; SIGHUP reloads",
    group: G.rules,
    env: "NMS_RULES",
  },
  builtinRules: {
    flags: "--no-builtin-rules",
    help: "run only the rules of --rules (no rules at all without it)",
    group: G.rules,
  },
  alertWebhook: {
    flags: "--alert-webhook <url>",
    help: "POST each new or updated alert as JSON to this URL",
    group: G.rules,
    env: "NMS_ALERT_WEBHOOK",
  },
  alertWebhookLevel: {
    flags: "--alert-webhook-level <n>",
    help: "only alerts of at least this level go to the webhook",
    group: G.rules,
    env: "NMS_ALERT_WEBHOOK_LEVEL",
    parse: integerArg(0, 15),
    default: 0,
  },
  retentionDays: {
    flags: "--retention-days <days>",
    help: "delete events received more than this many days ago (default: keep all)",
    group: G.retention,
    env: "NMS_RETENTION_DAYS",
    parse: retentionDaysArg,
  },
  maxDbSize: {
    flags: "--max-db-size <size>",
    help: "delete the oldest events while the stored data is larger, e.g. 2GB",
    group: G.retention,
    env: "NMS_MAX_DB_SIZE",
    parse: byteSizeArg,
  },
} as const satisfies Record<string, ServeOptionSpec>;

/** The values of the serve options, as commander parses them from {@linkcode SERVE_OPTIONS}. */
export interface ServeFlags {
  readonly port: number;
  readonly host: string;
  readonly db: string;
  readonly store?: string;
  readonly workers?: number;
  readonly textIndexMaxLag: number;
  readonly textIndexMaxCatchup: number;
  readonly sync: "full" | "normal";
  readonly logLevel: LogLevel;
  readonly logFormat: "text" | "json";
  readonly syslogUdp?: number;
  readonly syslogTcp?: number;
  readonly syslogTls?: number;
  readonly syslogAllow: string;
  readonly syslogIdleTimeout: number;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly plainAgents?: true;
  readonly clientCa?: string;
  readonly maxConnections?: number;
  readonly maxConnectionsPerIp: number;
  readonly idleTimeout: number;
  readonly lineTimeout: number;
  readonly loginTimeout: number;
  readonly maxPreLoginConnections: number;
  readonly maxEventsPerSecond: number;
  readonly maxLoginFailures: number;
  readonly lockoutSeconds: number;
  readonly httpPort: number;
  readonly httpHost?: string;
  readonly heartbeat: number;
  readonly rules?: string;
  readonly builtinRules: boolean;
  readonly alertWebhook?: string;
  readonly alertWebhookLevel: number;
  readonly retentionDays?: number;
  readonly maxDbSize?: number;
}

/**
 * The commander option of one table entry.
 *
 * @param spec The entry.
 * @param grouped Whether to list it under its heading (in `serve --help`).
 * @returns A new option.
 * @example
 * ```ts
 * command.addOption(optionOf(SERVE_OPTIONS.db));
 * ```
 */
export function optionOf(spec: ServeOptionSpec, grouped = false): Option {
  const option = new Option(spec.flags, spec.help);
  if (spec.choices) option.choices(spec.choices);
  if (spec.env) option.env(spec.env);
  if (spec.parse) option.argParser(spec.parse);
  if (spec.default !== undefined) option.default(spec.default);
  if (grouped) option.helpGroup(spec.group);
  return option;
}

/**
 * The options of `nms-server serve`, in table order, each under its heading.
 *
 * @returns New commander options.
 */
export function serveOptions(): Option[] {
  return Object.values(SERVE_OPTIONS).map((spec) => optionOf(spec, true));
}
