/**
 * `startServer()`: the whole nms-server in one call, for the CLI, tests and
 * embedding. Opens the store, bootstraps the admin, starts the writer, the
 * worker pool, the agent port, the syslog receivers and the web console, and
 * shuts all of it down in the reverse order.
 *
 * @module
 */

import {
  defaultMaxConnections,
  type FdLimit,
  fdLimitUnknownNote,
  fdLimitWarning,
  readFdLimit,
} from "./agent_port/mod.ts";
import { dirname } from "node:path";
import { DEFAULT_HEARTBEAT_SECONDS, DEFAULT_PORT } from "../protocol/mod.ts";
import {
  bootstrapAdmin,
  loadTicketKey,
  type LockoutOptions,
  lockoutPolicy,
  LoginEventGate,
  Tickets,
} from "./auth/mod.ts";
import {
  type ConnectionLimitOptions,
  Listener,
  ReloadableListener,
  resolveLimits,
  watchCredentials,
} from "./agent_port/mod.ts";
import { createLogger, type Logger } from "./log.ts";
import {
  lockSqliteServer,
  openStore,
  parseStoreUrl,
  redactUrl,
  type Store,
  type SyncMode,
} from "./store/mod.ts";
import { WorkerPool, Writer } from "./ingest/mod.ts";
import { checkRetentionDays, type Retention, startRetention } from "./retention.ts";
import { type Dashboard, startDashboard } from "./dashboard/mod.ts";
import { ServerMetrics } from "./metrics.ts";
import { Progress, progressMode, type StartProgress } from "../common/progress.ts";
import { watchTextIndexCatchup } from "./ingest/mod.ts";
import { securityEvent } from "./security_event.ts";
import { AgentLiveness } from "./liveness/mod.ts";
import {
  AgentSilenceWatch,
  AlertFeed,
  AlertWebhook,
  assertBoundedRegexes,
  builtinRuleSet,
  LINEAR_REGEX_HINT,
  linearRegexSupport,
  type RuleSet,
  webhookUrl,
} from "./rules/mod.ts";
import { type IntegrityState, startIntegrityCheck } from "./store/mod.ts";
import {
  DEFAULT_SYSLOG_ALLOW,
  parseAllowList,
  startSyslogReceiver,
  type SyslogAddrs,
  type SyslogReceiver,
  type SyslogStats,
  type TlsCertificate,
} from "./syslog/mod.ts";

/** Options of {@linkcode startServer}. */
export interface ServerOptions {
  /**
   * TCP port of the agent protocol; 0 picks a free one.
   * @default {8080}
   */
  port?: number;
  /**
   * Address to listen on.
   * @default {"0.0.0.0"}
   */
  hostname?: string;
  /**
   * SQLite database file.
   * @default {"./data/nms.db"}
   */
  dbPath?: string;
  /**
   * Store URL: `postgres://user@host:port/db[?schema=NAME]` for PostgreSQL
   * (several servers may share it), `sqlite:PATH` or a plain path for SQLite.
   * Takes precedence over `dbPath`.
   * @default {dbPath}
   */
  storeUrl?: string;
  /**
   * Pool workers.
   * @default {defaultWorkerCount() (server/ingest/worker_pool.ts): CPUs - 1, at least 1}
   */
  workers?: number;
  /**
   * SQLite durability of each commit.
   * @default {"full"}
   */
  sync?: SyncMode;
  /**
   * Unindexed events beyond which ingest gives the full-text indexer a turn;
   * 0 indexes only when idle (see `WriterOptions.textIndexMaxLag`).
   * @default {DEFAULT_TEXT_INDEX_MAX_LAG}
   */
  textIndexMaxLag?: number;
  /**
   * Most seconds the full-text index may need to catch up once ingest stops
   * (see `WriterOptions.textIndexMaxCatchupSeconds`); 0 turns this bound off.
   * @default {0}
   */
  textIndexMaxCatchupSeconds?: number;
  /** Password of the `admin` created on first start; random when absent. */
  adminPassword?: string | undefined;
  /**
   * Write a generated admin password into the log, not only into its 0600
   * file: only when the log is an interactive terminal (main.ts checks).
   * @default {false}
   */
  showGeneratedPassword?: boolean | undefined;
  /**
   * The log goes to a person's terminal: long work at start (the copy before a
   * migration, the full-text index catching up) logs a progress line every few
   * seconds, not only a summary when done.
   * @default {false}
   */
  logIsTerminal?: boolean | undefined;
  /**
   * Diagnostics sink.
   * @default {a text logger on stderr}
   */
  log?: Logger;
  /** Aborting it shuts the server down. */
  signal?: AbortSignal;
  // Syslog receiver (server/syslog/, docs/SYSLOG.md): each listener is off unless given a port.
  /** UDP port for syslog (RFC 5426); 0 picks a free one. */
  syslogUdpPort?: number | undefined;
  /** TCP port for syslog, both RFC 6587 framings; 0 picks a free one. */
  syslogTcpPort?: number | undefined;
  /** TLS port for syslog (RFC 5425); 0 picks a free one. Needs `tls`. */
  syslogTlsPort?: number | undefined;
  /**
   * Networks (CIDR) that may send syslog; others are counted and dropped.
   * @default {["127.0.0.0/8", "::1/128"]}
   */
  syslogAllow?: readonly string[] | undefined;
  /**
   * Seconds a syslog TCP or TLS connection may send nothing before it is closed; 0: never.
   * @default {DEFAULT_SYSLOG_IDLE_TIMEOUT_SECONDS}
   */
  syslogIdleTimeoutSeconds?: number | undefined;
  /**
   * Open syslog TCP or TLS connections per sender address; 0: no limit.
   * @default {DEFAULT_SYSLOG_MAX_CONNECTIONS_PER_IP}
   */
  syslogMaxConnectionsPerIp?: number | undefined;
  /** The server's certificate and key (PEM text), for the TLS listeners. */
  tls?: TlsCertificate | undefined;
  // Web console (server/dashboard/, docs/API.md): served over HTTPS when `tls` is given.
  /** HTTP port of the web console; 0 picks a free one; undefined serves no console. */
  httpPort?: number | undefined;
  /**
   * Address the web console listens on.
   * @default {hostname}
   */
  httpHostname?: string | undefined;
  /**
   * Heartbeat interval the agents use, in seconds: the basis of node status.
   * @default {DEFAULT_HEARTBEAT_SECONDS}
   */
  heartbeatSeconds?: number | undefined;
  // Detection rules and alerts (server/rules/, docs/RULES.md).
  /**
   * Rules run on every stored event: the built-in rules, none, or a rule set
   * from `loadRulesFile()` / `buildRuleSet()`.
   * @default {"builtin"}
   */
  rules?: "builtin" | "off" | RuleSet | undefined;
  /** POST each new or folded alert as JSON to this URL (`minLevel`: only alerts of at least that level). */
  alertWebhook?: { readonly url: string; readonly minLevel?: number } | undefined;
  // Retention (server/retention.ts, docs/PRODUCTION.md).
  /** Delete events received more than this many days ago; undefined keeps them. */
  retentionDays?: number | undefined;
  /** Delete the oldest events while the data takes more than this, in bytes; undefined: no limit. */
  maxDbBytes?: number | undefined;
  /**
   * Pause between retention passes once nothing is left to delete, in ms.
   * @default {60000}
   */
  retentionIntervalMs?: number | undefined;
  // Agent TLS, connection limits and login lockout (docs/SECURITY.md).
  /**
   * Serve the agent protocol over TLS with the certificate of `tls`.
   * @default {false}
   */
  agentTls?: boolean | undefined;
  /** CA certificate(s), PEM text, that sign agents' certificates: turns on mutual TLS. Needs `agentTls`. */
  clientCa?: string | undefined;
  /**
   * Connection limits of the agent listener (each 0 for none).
   * @default {maxConnections: the file-descriptor limit less FD_RESERVE (server/agent_port/fd_limit.ts)}
   */
  limits?: ConnectionLimitOptions | undefined;
  /**
   * The process's file-descriptor limit, which sets the default
   * `limits.maxConnections`; null when unknown.
   * @default {readFdLimit()}
   */
  fdLimit?: FdLimit | null;
  /** Login lockout, shared by the agent protocol and the web console. */
  lockout?: LockoutOptions | undefined;
  /**
   * How often the credentials of open connections are re-checked (revoked tokens), in ms.
   * @default {5000}
   */
  credentialCheckIntervalMs?: number | undefined;
}

/** A running server, as the library presents it. */
export interface NmsServer {
  /** The bound address (read the port from here when you passed port 0). */
  readonly addr: { readonly hostname: string; readonly port: number };
  /** A main-thread store for reads (dashboard, tests). */
  readonly store: Store;
  /** Where the web console listens, or null when `httpPort` was not given. */
  readonly httpAddr: { readonly hostname: string; readonly port: number } | null;
  /** Resolves when the server has fully shut down. */
  readonly finished: Promise<void>;
  /** Bound addresses of the syslog listeners that run (none unless configured). */
  readonly syslogAddrs: SyslogAddrs;
  /** Counters of the syslog receiver (all zero when no syslog listener runs). */
  syslogStats(): SyslogStats;
  /** Alerts as they are raised or folded (server/rules/alert_feed.ts). */
  readonly alerts: AlertFeed;
  /** Replaces the detection rules in every worker without a restart (SIGHUP); null turns them off. */
  setRules(rules: RuleSet | null): void;
  /** Stops accepting, answers what was read, commits, closes the database. Idempotent. */
  shutdown(): Promise<void>;
  /**
   * Switches the TLS listeners (agent port and web console) to a new
   * certificate and key, e.g. on SIGHUP after a renewal. Open connections keep
   * their sessions. A certificate that cannot be used is refused and the old
   * one stays in force. Without TLS it does nothing.
   *
   * @param tls New PEM certificate chain and key.
   * @throws {Error} When the new certificate or key cannot be used.
   */
  reloadTls(tls: { readonly cert: string; readonly key: string }): Promise<void>;
  /** Shuts the server down, so that `await using` stops it. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A running server with its moving parts exposed, for the CLI (`/metrics`,
 * health checks) and the tests. The library entry returns only
 * {@linkcode NmsServer}, so these parts can change without breaking users.
 */
export interface RunningServer extends NmsServer {
  /** The pool of parsing workers. */
  readonly pool: WorkerPool;
  /** The writer: node changes, retention, NMS's own events. */
  readonly writer: Writer;
  /** Counters shown by `/metrics`. */
  readonly metrics: ServerMetrics;
  /** The retention task: counters, and `wake()` to run a pass now. */
  readonly retention: Retention;
}

/** Most PostgreSQL connections of the main thread's store (console reads, bootstrap). */
const MAIN_STORE_MAX_CONNECTIONS = 4;

/** Default database path, relative to the working directory. */
export const DEFAULT_DB_PATH = "./data/nms.db";

/**
 * Starts nms-server.
 *
 * @param options Where to listen and store, and how many workers.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 * @example
 * ```ts
 * await using server = await startServer({ port: 0, dbPath: "/tmp/nms/nms.db" });
 * console.log(`listening on ${server.addr.port}`);
 * ```
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger();
  const dbPath = options.dbPath ?? DEFAULT_DB_PATH;
  const storeUrl = options.storeUrl ?? dbPath;
  const location = parseStoreUrl(storeUrl);
  const sync = options.sync ?? "full";
  // A bad allow-list is a configuration error: report it before opening anything.
  parseAllowList(options.syslogAllow ?? DEFAULT_SYSLOG_ALLOW);
  const rules = options.rules === "off"
    ? null
    : options.rules === undefined || options.rules === "builtin"
    ? builtinRuleSet()
    : options.rules;
  // A user regex must run in time linear in the line (server/rules/linear_regex.ts).
  if (rules) assertBoundedRegexes(rules);
  // The probe: without the fallback even the built-in rules' regexes are unbounded on hostile lines.
  if (rules && !linearRegexSupport().fallback) {
    log.warn(`Rule regexes run without V8's linear-time fallback: ${LINEAR_REGEX_HINT}`);
  }
  if (options.alertWebhook) webhookUrl(options.alertWebhook.url);
  if (options.retentionDays !== undefined) checkRetentionDays(options.retentionDays);
  // Security configuration errors, before anything is opened.
  // One descriptor per agent connection: the default limit follows the process's.
  const fdLimit = options.fdLimit === undefined ? readFdLimit() : options.fdLimit;
  const limits = resolveLimits({
    ...options.limits,
    maxConnections: options.limits?.maxConnections ?? defaultMaxConnections(fdLimit),
  });
  const lockout = lockoutPolicy(options.lockout);
  if (options.agentTls && !options.tls) {
    throw new TypeError("Cannot serve agents over TLS: no certificate and key (tls)");
  }
  if (options.clientCa !== undefined && !options.agentTls) {
    throw new TypeError("Cannot check client certificates: the agent protocol is not TLS");
  }
  const alerts = new AlertFeed();
  const metrics = new ServerMetrics();
  alerts.subscribe((notice) => notice.created ? metrics.alertsRaised++ : metrics.alertsFolded++);
  // The main thread's store serves reads (console, CLI-like queries) and the admin bootstrap.
  // Long work at start shows its progress in the log (common/progress.ts).
  const progress: StartProgress = (label, unit, total) =>
    new Progress({
      label,
      unit,
      total,
      mode: progressMode(options.logIsTerminal ?? false, true),
      write: (line) => log.info(line),
    });
  // One server per SQLite file (server/store/sqlite_server_lock.ts), before anything is migrated.
  const serverLock = location.kind === "sqlite" ? await lockSqliteServer(location.path) : null;
  let store: Store;
  try {
    store = await openStore(storeUrl, {
      sync,
      maxConnections: MAIN_STORE_MAX_CONNECTIONS,
      progress,
    });
  } catch (error) {
    serverLock?.release();
    throw error;
  }
  /** Closes the store, then lets the next server of its SQLite file in. */
  const closeStore = async () => {
    await store.close();
    serverLock?.release();
  };
  let writer: Writer | undefined;
  let pool: WorkerPool | undefined;
  let tcp: ReloadableListener | undefined;
  let syslog: SyslogReceiver | undefined;
  let tickets: Tickets | undefined;
  try {
    tcp = await ReloadableListener.listen({
      port: options.port ?? DEFAULT_PORT,
      hostname: options.hostname ?? "0.0.0.0",
      tls: options.agentTls && options.tls
        ? { ...options.tls, clientCa: options.clientCa }
        : undefined,
    });
    // Only once the agent port is ours: a busy port must not leave a new admin behind.
    // With PostgreSQL, a generated admin password and the ticket key still go to the local data directory.
    const dataDir = dirname(location.kind === "sqlite" ? location.path : dbPath);
    const admin = await bootstrapAdmin(store, {
      dataDir,
      adminPassword: options.adminPassword,
    });
    if (admin.created && admin.generated) {
      // The log may end in journald or `docker logs`: the password only goes to a person's terminal.
      log.warn(
        options.showGeneratedPassword
          ? `Created user admin with a generated password (also in ${admin.file}; change it with 'nms-server user passwd admin'): ${admin.password}`
          : `Created user admin with a generated password, in ${admin.file} (mode 0600): read it there, then change it with 'nms-server user passwd admin'`,
      );
    }
    // Resumption tickets: their key lives beside the database, mode 0600 (server/auth/tickets.ts).
    tickets = new Tickets(await loadTicketKey(dataDir));
    writer = await Writer.start({
      store: { url: storeUrl, sync },
      ...(options.textIndexMaxLag === undefined
        ? {}
        : { textIndexMaxLag: options.textIndexMaxLag }),
      ...(options.textIndexMaxCatchupSeconds === undefined
        ? {}
        : { textIndexMaxCatchupSeconds: options.textIndexMaxCatchupSeconds }),
      onWorkerError: (message) => log.error(message),
      onCommit: (seconds) => metrics.observeCommit(seconds),
      rules,
      onAlerts: (notices) => alerts.publish(notices),
    });
    pool = await WorkerPool.start({
      store: { url: storeUrl, sync },
      writer,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      onWorkerError: (message) => log.error(message),
      rules,
    });
    syslog = await startSyslogReceiver({
      pool,
      log,
      hostname: options.hostname ?? "0.0.0.0",
      udpPort: options.syslogUdpPort,
      tcpPort: options.syslogTcpPort,
      tlsPort: options.syslogTlsPort,
      tls: options.tls,
      allow: options.syslogAllow,
      idleTimeoutSeconds: options.syslogIdleTimeoutSeconds,
      maxConnectionsPerIp: options.syslogMaxConnectionsPerIp,
    });
  } catch (error) {
    tcp?.close();
    await pool?.close();
    await writer?.close();
    await closeStore();
    throw error;
  }
  let integrity: IntegrityState = { status: location.kind === "sqlite" ? "checking" : "skipped" };
  // Login events of both the agent protocol and the console, within one budget.
  const loginEvents = new LoginEventGate({
    record: (event) => writer.recordEvents(securityEvent(event)),
  });
  // Which nodes are connected; their lost connections go to the writer in batches.
  const liveness = new AgentLiveness({ record: (nodes) => writer.recordDisconnects(nodes) });
  const ticketDesk = {
    issuer: tickets!,
    findAccount: (username: string) => store.findUser(username),
  };
  const listener = new Listener(tcp, {
    pool,
    writer,
    log,
    metrics,
    limits,
    lockout,
    loginEvents,
    liveness,
    tickets: ticketDesk,
  });
  const accepting = listener.run();
  const addr = tcp.addr;
  const credentials = watchCredentials(listener, store, {
    log,
    ...(options.credentialCheckIntervalMs ? { intervalMs: options.credentialCheckIntervalMs } : {}),
  });
  // Created below, once the console runs; read at scrape time.
  let webhook: AlertWebhook | null = null;
  const receivers = syslog;
  let dashboard: Dashboard | undefined;
  if (options.httpPort !== undefined) {
    const [workers, writes] = [pool, writer];
    try {
      dashboard = await startDashboard({
        store,
        port: options.httpPort,
        hostname: options.httpHostname ?? options.hostname ?? "0.0.0.0",
        ...(options.tls ? { tls: options.tls } : {}),
        ...(options.heartbeatSeconds ? { heartbeatSeconds: options.heartbeatSeconds } : {}),
        metrics,
        log,
        lockout, // shared with the agent protocol
        alerts, // pushed to the console's live stream (docs/API.md)
        connectedAgentIds: () => liveness.connectedAgentIds(),
        protocolGauges: () => ({
          queueDepth: workers.batchesInFlight,
          connections: listener.connections,
          syslog: receivers.stats(),
          webhook: webhook ?? undefined,
        }),
        components: () => ({
          writer: writes.alive,
          listeners: { agents: listener.accepting, ...receivers.health() },
        }),
        recordSecurityEvent: (event) =>
          writes.recordEvents(securityEvent({ at: Date.now(), ...event })),
        loginEvents,
        databaseIntegrity: () => integrity,
      });
    } catch (error) {
      await credentials.stop();
      liveness.stop();
      await listener.stop();
      await accepting;
      loginEvents.close();
      await syslog.stop();
      await pool.close();
      await writer.close();
      await closeStore();
      throw error;
    }
    log.info("Web console listening", { url: dashboard.url });
  }
  // The integrity of a SQLite database is checked behind start-up (docs/PRODUCTION.md).
  const integrityCheck = location.kind === "sqlite" ? startIntegrityCheck(location.path) : null;
  void integrityCheck?.result.then((report) => {
    metrics.databaseIntegrityOk = report.ok ? 1 : 0;
    const seconds = Number(report.seconds.toFixed(1));
    if (report.ok) {
      integrity = { status: "ok", seconds };
      log.info("Database integrity check passed", { seconds });
    } else {
      integrity = { status: "corrupt", problems: report.problems, seconds };
      log.error(
        "Database integrity check found damage: see 'Recovering a damaged database' in docs/PRODUCTION.md",
        { problems: report.problems.slice(0, 5).join("; "), seconds },
      );
    }
  });
  const fdWarning = fdLimitWarning(limits.maxConnections, fdLimit);
  if (fdWarning !== null) log.warn(fdWarning);
  const fdNote = fdLimitUnknownNote(options.limits?.maxConnections !== undefined, fdLimit);
  if (fdNote !== null) log.warn(fdNote);
  log.info("Listening for agents", {
    address: `${addr.hostname}:${addr.port}`,
    transport: tcp.transport,
    maxConnections: limits.maxConnections === Infinity ? "unlimited" : limits.maxConnections,
    workers: pool.size,
    db: redactUrl(storeUrl),
  });
  const syslogAddrs = Object.entries(syslog.addrs);
  if (syslogAddrs.length > 0) {
    log.info("Listening for syslog", {
      ...Object.fromEntries(syslogAddrs.map(([k, a]) => [k, `${a.hostname}:${a.port}`])),
      allow: syslog.allow.networks.join(","),
    });
  }

  // Alerts: the webhook, and the periodic check for agents that fell silent (rule 8804).
  webhook = options.alertWebhook
    ? new AlertWebhook({
      url: options.alertWebhook.url,
      ...(options.alertWebhook.minLevel === undefined
        ? {}
        : { minLevel: options.alertWebhook.minLevel }),
      onError: (message) => log.warn(message),
    })
    : null;
  if (webhook) {
    const hook = webhook;
    alerts.subscribe((notice) => hook.enqueue(notice));
  }
  const silence = new AgentSilenceWatch({
    store,
    heartbeatSeconds: options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS,
    record: (batch) => writer.recordEvents(batch),
    onError: (message) => log.warn(message),
  });
  silence.start();
  const catchup = watchTextIndexCatchup(store, progress);
  // Retention: passes of small delete steps run by the writer between commits.
  const retention = startRetention(writer, {
    retentionDays: options.retentionDays,
    maxDbBytes: options.maxDbBytes,
    ...(options.retentionIntervalMs ? { intervalMs: options.retentionIntervalMs } : {}),
    log,
  });
  if (retention.enabled) {
    log.info("Retention on", {
      ...(options.retentionDays === undefined ? {} : { days: options.retentionDays }),
      ...(options.maxDbBytes === undefined ? {} : { maxDbBytes: options.maxDbBytes }),
    });
  }

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      // The console reads the store: it stops first.
      await dashboard?.shutdown();
      await credentials.stop();
      liveness.stop();
      await listener.stop();
      await accepting;
      await syslog.stop();
      await silence.stop();
      catchup.stop();
      await catchup.done;
      await retention.stop();
      loginEvents.close();
      integrityCheck?.stop();
      await pool.close();
      await writer.close();
      await webhook?.close();
      await closeStore();
      log.info("Server stopped");
      finish();
    })();
    return stopping;
  };
  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });

  return {
    addr: { hostname: addr.hostname, port: addr.port },
    httpAddr: dashboard ? dashboard.addr : null,
    metrics,
    store,
    pool,
    writer,
    finished,
    syslogAddrs: syslog.addrs,
    syslogStats: () => syslog.stats(),
    alerts,
    setRules: (next) => {
      if (next) assertBoundedRegexes(next);
      pool.setRules(next);
      writer.setRules(next);
    },
    retention,
    shutdown,
    reloadTls: async (tls) => {
      // Syslog over TLS keeps its certificate until a restart (docs/PRODUCTION.md).
      if (options.agentTls) await tcp.reload({ ...tls, clientCa: options.clientCa });
      await dashboard?.reloadTls(tls);
    },
    [Symbol.asyncDispose]: shutdown,
  };
}
