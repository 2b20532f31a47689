/**
 * nms-server: the command line. The only module of the server that reads
 * `Deno.args` and `Deno.env`; it turns them into plain options and prints a
 * single line, never a stack trace, when something is wrong.
 *
 * @module
 */

import {
  Command,
  type CommandUnknownOpts,
  InvalidArgumentError,
  Option,
} from "@commander-js/extra-typings";
import { DEFAULT_HEARTBEAT_SECONDS, DEFAULT_PORT, GAP_EVENT_PREFIX } from "../protocol/mod.ts";
import { agentStatus } from "./agent_status.ts";
import { hashPassword } from "./auth/password.ts";
import { formatEvent, parseSince, printable, table } from "./cli/format.ts";
import { readPassword } from "./cli/read_password.ts";
import { addSecurityCommands, audit } from "./cli/security_commands.ts";
import { DEFAULT_LOCKOUT_SECONDS, DEFAULT_MAX_LOGIN_FAILURES } from "./auth/lockout.ts";
import {
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_LINE_TIMEOUT_SECONDS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_IP,
  DEFAULT_MAX_EVENTS_PER_SECOND,
} from "./connection_limits.ts";
import { createLogger, type LogLevel } from "./log.ts";
import { DEFAULT_DB_PATH, startServer } from "./server.ts";
import { DEFAULT_HTTP_PORT } from "./dashboard/mod.ts";
import {
  DEFAULT_SOURCE_SILENT_AFTER_SECONDS,
  DEFAULT_SYSLOG_ALLOW,
  parseAllowList,
  sourceStatus,
} from "./syslog/mod.ts";
import { openStore, parseStoreUrl } from "./store/open_store.ts";
import {
  EVENT_FLAGS,
  type EventRecord,
  type Role,
  ROLES,
  type Store,
  StoreError,
} from "./store/store.ts";
import { alertsTable } from "./cli/alerts_table.ts";
import { addRulesCommands } from "./cli/rules_commands.ts";
import { loadRulesFile } from "./rules/rules_file.ts";
import { webhookUrl } from "./rules/webhook.ts";
import { addOpsCommands, byteSizeArg, retentionDaysArg } from "./cli/ops_commands.ts";
import { DEFAULT_TEXT_INDEX_MAX_LAG } from "./worker_pool.ts";
import { MAX_TEXT_INDEX_CATCHUP_SECONDS } from "./text_index_lag.ts";
import { SERVER_VERSION, versionLine } from "./version.ts";

/** Version printed by `--version`. */
export const VERSION: string = SERVER_VERSION;

/** Poll interval of `logs --follow`, in ms. */
const FOLLOW_POLL_MS = 250;

const encoder = new TextEncoder();
function out(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text + "\n"));
}

/** Who runs a CLI command, for the audit trail (issue 5): `cli:<OS user>`. */
function cliActor(): string {
  return `cli:${Deno.env.get("USER") ?? Deno.env.get("LOGNAME") ?? `uid ${Deno.uid() ?? "?"}`}`;
}

/** A user error: printed as one line, exit code 1. */
class UsageError extends Error {}

/** `--syslog-allow`: validated at parse time, so a bad network is a one-line usage error. */
function allowList(value: string): string {
  try {
    parseAllowList([value]);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

/** Reads `--tls-cert` and `--tls-key` (both or neither). */
async function readTlsFiles(
  certPath: string | undefined,
  keyPath: string | undefined,
): Promise<{ cert: string; key: string } | undefined> {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  const read = async (flag: string, path: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      throw new UsageError(`Cannot read ${flag} ${path}: ${(error as Error).message}`);
    }
  };
  return { cert: await read("--tls-cert", certPath), key: await read("--tls-key", keyPath) };
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function decimal(min: number, max: number) {
  return (value: string): number => {
    const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    }
    return n;
  };
}

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${ROLES.join(", ")}`);
  }
  return value as Role;
}

const dbOption = () =>
  new Option("--db <path>", "SQLite database file").env("NMS_DB").default(DEFAULT_DB_PATH);

// PostgreSQL (issue 9): --store / NMS_STORE selects the backend; --db stays the SQLite path.
const storeOption = () =>
  new Option("--store <url>", "store: postgres://user@host:port/db, sqlite:PATH or a path")
    .env("NMS_STORE");

/** The store a command uses: --store when given, else the SQLite file of --db. */
function storeOf(options: { db: string; store?: string | undefined }): string {
  return options.store ?? options.db;
}

async function withStore<T>(url: string, work: (store: Store) => Promise<T>): Promise<T> {
  const location = parseStoreUrl(url);
  if (location.kind === "sqlite") {
    try {
      await Deno.stat(location.path);
    } catch {
      throw new UsageError(
        `No database at ${location.path} (start the server once, or pass --db or --store)`,
      );
    }
  }
  const store = await openStore(url, { maxConnections: 1 });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function buildProgram() {
  const program = new Command()
    .name("nms-server")
    .description(
      "NMS collector: receives agents' logs over TCP and stores them in SQLite or PostgreSQL",
    )
    .version(versionLine(), "-V, --version")
    .configureOutput({
      writeErr: (text) => Deno.stderr.writeSync(encoder.encode(text)),
      // One line, prefixed with the program's name, pointing at --help.
      outputError: (text, write) =>
        write(
          `nms-server: ${
            text.trim().replace(/^error: /, "").replace(/\s*\n\s*/g, " ")
          } (see --help)\n`,
        ),
    });

  program.command("serve")
    .description("Run the collector")
    .addOption(
      new Option("-p, --port <port>", "TCP port for agents").env("NMS_PORT")
        .argParser(integer(0, 65535)).default(DEFAULT_PORT),
    )
    .addOption(
      new Option("--host <address>", "address to listen on").env("NMS_HOST").default("0.0.0.0"),
    )
    .addOption(dbOption())
    .addOption(storeOption())
    .addOption(
      new Option(
        "-w, --workers <n>",
        "pool worker threads (default: number of CPUs - 1, at least 1)",
      ).env("NMS_WORKERS")
        .argParser(integer(1, 64)),
    )
    .addOption(
      new Option(
        "--text-index-max-lag <events>",
        "events not yet full-text indexed beyond which ingest gives the indexer a turn (0: only when idle)",
      ).env("NMS_TEXT_INDEX_MAX_LAG").argParser(integer(0, 1_000_000_000))
        .default(DEFAULT_TEXT_INDEX_MAX_LAG),
    )
    .addOption(
      new Option(
        "--text-index-max-catchup <seconds>",
        "most seconds the full-text index may need to catch up once ingest stops, at the measured indexing rate (0: no such bound)",
      ).env("NMS_TEXT_INDEX_MAX_CATCHUP").argParser(decimal(0, MAX_TEXT_INDEX_CATCHUP_SECONDS))
        .default(0),
    )
    .addOption(
      new Option("--sync <mode>", "commit durability: full (survives power loss) or normal")
        .choices(["full", "normal"] as const).env("NMS_SYNC").default("full" as const),
    )
    .addOption(
      new Option("--log-level <level>", "least severe diagnostics shown")
        .choices(["error", "warn", "info", "debug"] as const).env("NMS_LOG_LEVEL")
        .default("info" as const),
    )
    .addOption(
      new Option("--log-format <format>", "diagnostics format").choices(["text", "json"] as const)
        .env("NMS_LOG_FORMAT").default("text" as const),
    )
    // --- Standard syslog receiver (server/syslog/, docs/SYSLOG.md) ---
    .addOption(
      new Option("--syslog-udp <port>", "UDP port for syslog from devices (off unless set)")
        .env("NMS_SYSLOG_UDP").argParser(integer(0, 65535)),
    )
    .addOption(
      new Option("--syslog-tcp <port>", "TCP port for syslog, octet-counted or newline-framed")
        .env("NMS_SYSLOG_TCP").argParser(integer(0, 65535)),
    )
    .addOption(
      new Option("--syslog-tls <port>", "TLS port for syslog; needs --tls-cert, --tls-key")
        .env("NMS_SYSLOG_TLS").argParser(integer(0, 65535)),
    )
    .addOption(
      new Option("--syslog-allow <networks>", "networks that may send syslog, comma-separated CIDR")
        .env("NMS_SYSLOG_ALLOW").argParser(allowList).default(DEFAULT_SYSLOG_ALLOW.join(",")),
    )
    .addOption(
      new Option("--tls-cert <file>", "certificate chain (PEM) of the TLS listeners").env(
        "NMS_TLS_CERT",
      ),
    )
    .addOption(
      new Option("--tls-key <file>", "private key (PEM) of the TLS listeners").env("NMS_TLS_KEY"),
    )
    // --- Security (docs/SECURITY.md, issue 5): with --tls-cert the agent port is TLS ---
    .option("--plain-agents", "keep the agent port plain TCP even with --tls-cert (paper agents)")
    .addOption(
      new Option(
        "--client-ca <file>",
        "require agents' certificates signed by this CA (mutual TLS)",
      ).env("NMS_CLIENT_CA"),
    )
    .addOption(
      new Option("--max-connections <n>", "most open agent connections (0: no limit)")
        .env("NMS_MAX_CONNECTIONS").argParser(integer(0, 1_000_000))
        .default(DEFAULT_MAX_CONNECTIONS),
    )
    .addOption(
      new Option(
        "--max-connections-per-ip <n>",
        "most open agent connections per address (0: no limit)",
      ).env("NMS_MAX_CONNECTIONS_PER_IP").argParser(integer(0, 1_000_000))
        .default(DEFAULT_MAX_CONNECTIONS_PER_IP),
    )
    .addOption(
      new Option(
        "--idle-timeout <seconds>",
        "close a logged-in connection silent this long (0: never)",
      ).env("NMS_IDLE_TIMEOUT").argParser(integer(0, 7 * 86400))
        .default(DEFAULT_IDLE_TIMEOUT_SECONDS),
    )
    .addOption(
      new Option(
        "--line-timeout <seconds>",
        "close a connection holding an incomplete line this long, or not logged in (0: never)",
      ).env("NMS_LINE_TIMEOUT").argParser(integer(0, 86400)).default(DEFAULT_LINE_TIMEOUT_SECONDS),
    )
    .addOption(
      new Option(
        "--max-events-per-second <n>",
        "lines per second per connection before reading pauses (0: no limit)",
      ).env("NMS_MAX_EVENTS_PER_SECOND").argParser(integer(0, 100_000_000))
        .default(DEFAULT_MAX_EVENTS_PER_SECOND),
    )
    .addOption(
      new Option(
        "--max-login-failures <n>",
        "failed logins per user or address in 15 minutes before a lockout (0: off)",
      ).env("NMS_MAX_LOGIN_FAILURES").argParser(integer(0, 1000))
        .default(DEFAULT_MAX_LOGIN_FAILURES),
    )
    .addOption(
      new Option("--lockout-seconds <seconds>", "how long a locked user or address is refused")
        .env("NMS_LOCKOUT_SECONDS").argParser(integer(1, 7 * 86400))
        .default(DEFAULT_LOCKOUT_SECONDS),
    )
    // --- Web console (server/dashboard/, docs/API.md); HTTPS when --tls-cert/--tls-key are set ---
    .addOption(
      new Option("--http-port <port>", "HTTP port of the web console and API").env("NMS_HTTP_PORT")
        .argParser(integer(0, 65535)).default(DEFAULT_HTTP_PORT),
    )
    .addOption(
      new Option("--http-host <address>", "address of the web console (default: --host)").env(
        "NMS_HTTP_HOST",
      ),
    )
    .addOption(
      new Option("--heartbeat <seconds>", "heartbeat interval the agents use, for node status")
        .env("NMS_HEARTBEAT").argParser(integer(1, 86400)).default(DEFAULT_HEARTBEAT_SECONDS),
    )
    // --- Detection rules and alerts (server/rules/, docs/RULES.md) ---
    .addOption(
      new Option(
        "--rules <file>",
        "user rules (YAML or JSON) added to the built-in ones; SIGHUP reloads",
      )
        .env("NMS_RULES"),
    )
    .option("--no-builtin-rules", "run only the rules of --rules (no rules at all without it)")
    .addOption(
      new Option("--alert-webhook <url>", "POST each new or updated alert as JSON to this URL")
        .env("NMS_ALERT_WEBHOOK"),
    )
    .addOption(
      new Option(
        "--alert-webhook-level <n>",
        "only alerts of at least this level go to the webhook",
      )
        .env("NMS_ALERT_WEBHOOK_LEVEL").argParser(integer(0, 15)).default(0),
    )
    // --- Retention (server/retention.ts, docs/PRODUCTION.md, issue 10) ---
    .addOption(
      new Option(
        "--retention-days <days>",
        "delete events received more than this many days ago (default: keep all)",
      ).env("NMS_RETENTION_DAYS").argParser(retentionDaysArg),
    )
    .addOption(
      new Option(
        "--max-db-size <size>",
        "delete the oldest events while the stored data is larger, e.g. 2GB",
      ).env("NMS_MAX_DB_SIZE").argParser(byteSizeArg),
    )
    .action(async (options) => {
      const log = createLogger({ level: options.logLevel as LogLevel, format: options.logFormat });
      const builtin = options.builtinRules;
      const rulesFile = options.rules;
      let rules;
      try {
        rules = rulesFile === undefined
          ? (builtin ? "builtin" as const : "off" as const)
          : await loadRulesFile(rulesFile, { builtin });
        if (options.alertWebhook !== undefined) webhookUrl(options.alertWebhook);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const controller = new AbortController();
      const tls = await readTlsFiles(options.tlsCert, options.tlsKey);
      if (options.syslogTls !== undefined && !tls) {
        throw new UsageError("--syslog-tls needs --tls-cert and --tls-key");
      }
      if (options.clientCa !== undefined && (!tls || options.plainAgents)) {
        throw new UsageError("--client-ca needs --tls-cert and --tls-key (and no --plain-agents)");
      }
      const agentTls = tls !== undefined && !options.plainAgents;
      let clientCa: string | undefined;
      if (options.clientCa !== undefined) {
        try {
          clientCa = await Deno.readTextFile(options.clientCa);
        } catch (error) {
          throw new UsageError(
            `Cannot read --client-ca ${options.clientCa}: ${(error as Error).message}`,
          );
        }
      }
      let server;
      try {
        server = await startServer({
          // Security (issue 5): TLS agents, limits, lockout.
          agentTls,
          ...(clientCa === undefined ? {} : { clientCa }),
          limits: {
            maxConnections: options.maxConnections,
            maxConnectionsPerIp: options.maxConnectionsPerIp,
            idleTimeoutSeconds: options.idleTimeout,
            lineTimeoutSeconds: options.lineTimeout,
            maxEventsPerSecond: options.maxEventsPerSecond,
          },
          lockout: { maxFailures: options.maxLoginFailures, lockSeconds: options.lockoutSeconds },
          port: options.port,
          hostname: options.host,
          dbPath: options.db,
          ...(options.store === undefined ? {} : { storeUrl: options.store }),
          sync: options.sync,
          textIndexMaxLag: options.textIndexMaxLag,
          textIndexMaxCatchupSeconds: options.textIndexMaxCatchup,
          log,
          adminPassword: Deno.env.get("NMS_ADMIN_PASSWORD"),
          signal: controller.signal,
          ...(options.workers === undefined ? {} : { workers: options.workers }),
          syslogUdpPort: options.syslogUdp,
          syslogTcpPort: options.syslogTcp,
          syslogTlsPort: options.syslogTls,
          syslogAllow: [options.syslogAllow],
          tls,
          httpPort: options.httpPort,
          httpHostname: options.httpHost ?? options.host,
          heartbeatSeconds: options.heartbeat,
          rules,
          ...(options.alertWebhook === undefined ? {} : {
            alertWebhook: { url: options.alertWebhook, minLevel: options.alertWebhookLevel },
          }),
          retentionDays: options.retentionDays,
          maxDbBytes: options.maxDbSize,
        });
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse) {
          throw new UsageError(
            `Port ${options.port} (agents) or ${options.httpPort} (web console) is already in use`,
          );
        }
        if (error instanceof Deno.errors.PermissionDenied) {
          throw new UsageError(`Not allowed to listen on port ${options.port} (${error.message})`);
        }
        throw error;
      }
      if (!agentTls && !["127.0.0.1", "::1", "localhost"].includes(options.host)) {
        log.warn(
          "Agent protocol is plain TCP: passwords and logs cross the network unencrypted (set --tls-cert and --tls-key)",
        );
      }
      if (!tls && !["127.0.0.1", "::1", "localhost"].includes(options.httpHost ?? options.host)) {
        log.warn(
          "Web console is plain HTTP: passwords cross the network unencrypted (set --tls-cert and --tls-key)",
        );
      }
      const syslogOn = [options.syslogUdp, options.syslogTcp, options.syslogTls].some((p) =>
        p !== undefined
      );
      const loopbackOnly = ["127.0.0.1", "::1", "localhost"].includes(options.host);
      if (syslogOn && !loopbackOnly && options.syslogAllow === DEFAULT_SYSLOG_ALLOW.join(",")) {
        log.warn(
          "Syslog is accepted from loopback only: list your devices' networks in --syslog-allow",
        );
      }
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        Deno.addSignalListener(signal, () => {
          log.info(`Received ${signal}, shutting down`);
          controller.abort();
        });
      }
      // SIGHUP reloads the rules file and the TLS certificate and key; a broken
      // file keeps what is in force.
      const running = server;
      Deno.addSignalListener("SIGHUP", () => {
        if (rulesFile === undefined) log.info("Received SIGHUP: no --rules file to reload");
        else {
          loadRulesFile(rulesFile, { builtin }).then((next) => {
            running.setRules(next);
            log.info("Reloaded rules", { file: rulesFile, rules: next.rules.length });
          }, (error) => log.error(`Kept the previous rules: ${(error as Error).message}`));
        }
        if (options.tlsCert !== undefined) {
          readTlsFiles(options.tlsCert, options.tlsKey)
            .then((fresh) => fresh && running.reloadTls(fresh))
            .then(
              () => log.info("Reloaded the TLS certificate", { file: options.tlsCert }),
              (error) =>
                log.error(`Kept the previous TLS certificate: ${(error as Error).message}`),
            );
        }
      });
      await server.finished;
      Deno.exit(0);
    });

  const user = program.command("user").description("Manage user accounts");
  user.command("add")
    .description("Create a user; the password is read from --password-file, a prompt, or stdin")
    .argument("<name>", "user name")
    .addOption(
      new Option("-r, --role <role>", "admin, viewer or agent").argParser(role).default(
        "viewer" as Role,
      ),
    )
    .option("--password-file <file>", "read the password from this file")
    .addOption(dbOption())
    .addOption(storeOption())
    .action(async (name, options) => {
      // No leading "@": "@token" is the token variant of LOGIN (docs/SECURITY.md).
      if (!/^[A-Za-z0-9_.-][A-Za-z0-9_.@-]{0,63}$/.test(name)) {
        throw new UsageError(
          `Invalid user name ${
            JSON.stringify(name)
          }: use 1-64 letters, digits, _ . @ - (not first @)`,
        );
      }
      const password = await readPassword({
        file: options.passwordFile,
        prompt: `Password for ${name}: `,
      });
      const hash = await hashPassword(password);
      await withStore(storeOf(options), async (store) => {
        await store.createUser(name, hash, options.role);
        await audit(store, {
          at: Date.now(),
          actor: cliActor(),
          action: "user.add",
          target: name,
          detail: `role=${options.role}`,
        }, `User ${name} (${options.role}) created by ${cliActor()}`);
        out(`Created user ${name} with role ${options.role}`);
      });
    });
  user.command("passwd")
    .description("Change a user's password (from --password-file, a prompt, or stdin)")
    .argument("<name>", "user name")
    .option("--password-file <file>", "read the password from this file")
    .addOption(dbOption())
    .addOption(storeOption())
    .action(async (name, options) => {
      const password = await readPassword({
        file: options.passwordFile,
        prompt: `New password for ${name}: `,
      });
      const hash = await hashPassword(password);
      await withStore(storeOf(options), async (store) => {
        if (!await store.setPasswordHash(name, hash)) throw new UsageError(`No user named ${name}`);
        await audit(
          store,
          { at: Date.now(), actor: cliActor(), action: "user.passwd", target: name, detail: null },
          `Password of user ${name} changed by ${cliActor()}`,
        );
        out(`Changed the password of ${name}`);
      });
    });
  user.command("list")
    .description("List users and their roles")
    .addOption(dbOption())
    .addOption(storeOption())
    .action(async (options) => {
      await withStore(storeOf(options), async (store) => {
        const users = await store.listUsers();
        out(table(
          ["NAME", "ROLE", "CREATED"],
          users.map((u) => [u.username, u.role, new Date(u.createdAt).toISOString()]),
        ));
      });
    });
  user.command("remove")
    .description("Delete a user")
    .argument("<name>", "user name")
    .addOption(dbOption())
    .addOption(storeOption())
    .action(async (name, options) => {
      await withStore(storeOf(options), async (store) => {
        if (!await store.removeUser(name)) throw new UsageError(`No user named ${name}`);
        await audit(
          store,
          { at: Date.now(), actor: cliActor(), action: "user.remove", target: name, detail: null },
          `User ${name} removed by ${cliActor()}`,
        );
        out(`Removed user ${name}`);
      });
    });
  // Security (issue 5): token create|list|revoke, user role, audit, import-paper-db.
  addSecurityCommands(program, user, {
    storeOptions: (command) => {
      (command as unknown as Command).addOption(dbOption()).addOption(storeOption());
      return command;
    },
    withStore: (options, work) => withStore(storeOf(options), work),
    actor: cliActor(),
    out,
  });

  program.command("agents")
    .description("List registered nodes and their status")
    .addOption(dbOption())
    .addOption(storeOption())
    .addOption(
      new Option("--heartbeat <seconds>", "heartbeat interval the agents use").env("NMS_HEARTBEAT")
        .argParser(integer(1, 86400)).default(DEFAULT_HEARTBEAT_SECONDS),
    )
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      await withStore(storeOf(options), async (store) => {
        const now = Date.now();
        const agents = (await store.listAgents()).map((a) => ({
          ...a,
          status: agentStatus(a, now, options.heartbeat),
        }));
        if (options.json) return out(JSON.stringify(agents, null, 2));
        const time = (t: number | null) => (t === null ? "-" : new Date(t).toISOString());
        out(table(
          ["HOSTNAME", "STATUS", "LAST HEARTBEAT", "UPTIME", "VERSION", "ADDRESS", "OS"],
          agents.map((a) => [
            a.hostname,
            a.status,
            time(a.lastHeartbeat),
            a.uptimeSeconds === null ? "-" : `${a.uptimeSeconds}s`,
            a.version,
            a.address,
            a.os,
          ]),
        ));
      });
    });

  program.command("sources")
    .description("List syslog senders (devices and relays) and their status")
    .addOption(dbOption())
    .addOption(storeOption())
    .addOption(
      new Option("--silent-after <seconds>", "seconds without a message before a source is silent")
        .argParser(integer(1, 366 * 86400)).default(DEFAULT_SOURCE_SILENT_AFTER_SECONDS),
    )
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      await withStore(storeOf(options), async (store) => {
        const now = Date.now();
        const sources = (await store.listSources()).map((s) => ({
          ...s,
          status: sourceStatus(s, now, options.silentAfter),
        }));
        if (options.json) return out(JSON.stringify(sources, null, 2));
        const time = (t: number) => new Date(t).toISOString();
        out(table(
          ["ADDRESS", "HOSTNAME", "STATUS", "LAST MESSAGE", "EVENTS", "UNPARSED", "VIA", "SINCE"],
          sources.map((s) => [
            s.address,
            s.hostname ?? "-",
            s.status,
            time(s.lastSeen),
            String(s.events),
            String(s.unparsed),
            s.transport,
            time(s.firstSeen),
          ]),
        ));
      });
    });

  program.command("alerts")
    .description("List alerts raised by the detection rules, most recently updated first")
    .addOption(dbOption())
    .addOption(storeOption())
    .option(
      "--since <when>",
      "only alerts raised or updated since: 30s, 15m, 2h, 7d or an ISO date",
    )
    .addOption(
      new Option("--level <n>", "only alerts of at least this level (0-15)").argParser(
        integer(0, 15),
      ),
    )
    .addOption(
      new Option("-n, --limit <n>", "most alerts printed").argParser(integer(1, 1000)).default(50),
    )
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      const since = options.since === undefined ? undefined : parseSince(options.since, Date.now());
      if (options.since !== undefined && since === undefined) {
        throw new UsageError(
          `Invalid --since ${JSON.stringify(options.since)}: use 30s, 15m, 2h, 7d or an ISO date`,
        );
      }
      await withStore(storeOf(options), async (store) => {
        const alerts = await store.listAlerts({
          limit: options.limit,
          ...(since === undefined ? {} : { sinceMs: since }),
          ...(options.level === undefined ? {} : { minLevel: options.level }),
        });
        out(options.json ? JSON.stringify(alerts, null, 2) : alertsTable(alerts));
      });
    });

  program.command("logs")
    .description("Print stored logs, newest last")
    .addOption(dbOption())
    .addOption(storeOption())
    .option("--host <host>", "only this host")
    .option("--program <name>", "only this program")
    .option("--grep <text>", "only messages containing this text (literally)")
    .option("--since <when>", "only events after this: 30s, 15m, 2h, 7d or an ISO date")
    .addOption(
      new Option("-n, --limit <n>", "most events printed").argParser(integer(1, 10_000)).default(
        50,
      ),
    )
    .option("-f, --follow", "keep printing new events until interrupted")
    .option("--gaps", "only gap events: lines agents could not deliver (docs/DELIVERY.md)")
    .action(async (options) => {
      const since = options.since === undefined ? undefined : parseSince(options.since, Date.now());
      if (options.since !== undefined && since === undefined) {
        throw new UsageError(
          `Invalid --since ${JSON.stringify(options.since)}: use 30s, 15m, 2h, 7d or an ISO date`,
        );
      }
      const filter = {
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(options.program === undefined ? {} : { program: options.program }),
        ...(options.grep === undefined ? {} : { contains: options.grep }),
        ...(since === undefined ? {} : { sinceMs: since }),
        // --gaps: gap events carry this text; the flag check below drops look-alikes.
        ...(options.gaps && options.grep === undefined ? { contains: GAP_EVENT_PREFIX } : {}),
      };
      // --gaps also keeps only events flagged as gaps.
      const shown = (e: EventRecord) => !options.gaps || (e.flags & EVENT_FLAGS.gap) !== 0;
      await withStore(storeOf(options), async (store) => {
        const events = (await store.queryEvents({ ...filter, limit: options.limit })).filter(shown);
        events.reverse().forEach((e) => out(formatEvent(e)));
        if (!options.follow) return;
        let last = events.at(-1)?.id ?? (await store.queryEvents({ limit: 1 }))[0]?.id ?? 0;
        let running = true;
        const stop = () => running = false;
        Deno.addSignalListener("SIGINT", stop);
        Deno.addSignalListener("SIGTERM", stop);
        while (running) {
          const fresh = await store.queryEvents({ ...filter, afterId: last, limit: 1000 });
          for (const e of fresh) if (shown(e)) out(formatEvent(e));
          last = fresh.at(-1)?.id ?? last;
          if (fresh.length < 1000) await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
        }
      });
    });
  // `rules test` (server/cli/rules_commands.ts).
  addRulesCommands(program as unknown as Command, { out, stdin: Deno.stdin.readable });
  // Operations (issue 10): --config, config check|keys, backup. Keep this last.
  addOpsCommands(program as unknown as CommandUnknownOpts, {
    out,
    err: (text) => Deno.stderr.writeSync(encoder.encode(`nms-server: ${printable(text)}\n`)),
    rebuild: () => buildProgram() as unknown as CommandUnknownOpts,
    env: (name) => Deno.env.get(name),
  });
  return program;
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
export async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  const override = (command: { exitOverride(): unknown; commands: readonly unknown[] }) => {
    command.exitOverride();
    for (const sub of command.commands) override(sub as typeof command);
  };
  override(program);
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    const code = (error as { exitCode?: number; code?: string }).exitCode;
    if (typeof code === "number" && (error as { code?: string }).code?.startsWith("commander.")) {
      return code;
    }
    const message =
      error instanceof StoreError || error instanceof UsageError || error instanceof Error
        ? error.message
        : String(error);
    Deno.stderr.writeSync(encoder.encode(`nms-server: ${printable(message)}\n`));
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
