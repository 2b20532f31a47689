/**
 * `nms-server serve`: its options come from the table of server/config.ts;
 * the command reads the files they name (TLS, client CA, rules), starts the
 * server, warns about plain-text listeners, and reloads the rules and the
 * certificate on SIGHUP until SIGINT or SIGTERM stops it.
 *
 * @module
 */

import type { Command } from "@commander-js/extra-typings";
import { ADMIN_PASSWORD_ENV, type ServeFlags, serveOptions } from "../config.ts";
import { createLogger } from "../log.ts";
import { loadRulesFile, webhookUrl } from "../rules/mod.ts";
import { startServer } from "../server.ts";
import { DEFAULT_SYSLOG_ALLOW } from "../syslog/mod.ts";
import { type CliContext, CommandError, UsageError } from "./context.ts";

/** Addresses on which a plain-text listener is not worth a warning. */
const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "::1", "localhost"];

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

/**
 * Adds `serve` to the program.
 *
 * @param program The nms-server program.
 * @param context Output and environment.
 * @example
 * ```ts
 * addServeCommand(program, context);
 * ```
 */
export function addServeCommand(program: Command, context: CliContext): void {
  const serve = program.command("serve").description("Run the collector");
  for (const option of serveOptions()) serve.addOption(option);
  serve.addHelpText(
    "after",
    `
Environment (besides each option's own variable above):
  ${ADMIN_PASSWORD_ENV}   password of the user admin created on first start; when unset, a
                       random one is written to <data dir>/initial-admin-password (mode 0600)

Exit codes: 0 stopped by SIGINT or SIGTERM, 1 cannot run (e.g. port in use), 2 usage error.`,
  );
  serve.action(async (parsed) => {
    await serveWith(parsed as unknown as ServeFlags, context);
  });
}

/** Runs the server with the parsed options until it is stopped, then exits. */
async function serveWith(options: ServeFlags, context: CliContext): Promise<void> {
  const log = createLogger({ level: options.logLevel, format: options.logFormat });
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
      agentTls,
      ...(clientCa === undefined ? {} : { clientCa }),
      limits: {
        ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
        maxConnectionsPerIp: options.maxConnectionsPerIp,
        idleTimeoutSeconds: options.idleTimeout,
        lineTimeoutSeconds: options.lineTimeout,
        maxEventsPerSecond: options.maxEventsPerSecond,
        loginTimeoutSeconds: options.loginTimeout,
        maxPreLoginConnections: options.maxPreLoginConnections,
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
      adminPassword: context.env(ADMIN_PASSWORD_ENV),
      showGeneratedPassword: context.stderrIsTerminal,
      logIsTerminal: context.stderrIsTerminal,
      signal: controller.signal,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      syslogUdpPort: options.syslogUdp,
      syslogTcpPort: options.syslogTcp,
      syslogTlsPort: options.syslogTls,
      syslogAllow: [options.syslogAllow],
      syslogIdleTimeoutSeconds: options.syslogIdleTimeout,
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
      throw new CommandError(
        `Port ${options.port} (agents) or ${options.httpPort} (web console) is already in use`,
      );
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new CommandError(`Not allowed to listen on port ${options.port} (${error.message})`);
    }
    throw error;
  }
  if (!agentTls && !LOOPBACK_HOSTS.includes(options.host)) {
    log.warn(
      "Agent protocol is plain TCP: passwords and logs cross the network unencrypted (set --tls-cert and --tls-key)",
    );
  }
  if (!tls && !LOOPBACK_HOSTS.includes(options.httpHost ?? options.host)) {
    log.warn(
      "Web console is plain HTTP: passwords cross the network unencrypted (set --tls-cert and --tls-key)",
    );
  }
  const syslogOn = [options.syslogUdp, options.syslogTcp, options.syslogTls].some((p) =>
    p !== undefined
  );
  const loopbackOnly = LOOPBACK_HOSTS.includes(options.host);
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
          (error) => log.error(`Kept the previous TLS certificate: ${(error as Error).message}`),
        );
    }
  });
  await server.finished;
  Deno.exit(0);
}
