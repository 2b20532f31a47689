/**
 * nms-server: the command line. The only module of the server that reads
 * `Deno.args` and `Deno.env`; it turns them into plain options and prints a
 * single line, never a stack trace, when something is wrong.
 *
 * @module
 */

import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { DEFAULT_HEARTBEAT_SECONDS, DEFAULT_PORT } from "../protocol/mod.ts";
import { agentStatus } from "./agent_status.ts";
import { hashPassword } from "./auth/password.ts";
import { formatEvent, parseSince, printable, table } from "./cli/format.ts";
import { readPassword } from "./cli/read_password.ts";
import { createLogger, type LogLevel } from "./log.ts";
import { DEFAULT_DB_PATH, startServer } from "./server.ts";
import { openSqliteStore } from "./store/sqlite_store.ts";
import { type Role, ROLES, type Store, StoreError } from "./store/store.ts";

/** Version printed by `--version`. */
export const VERSION = "0.1.0";

/** Poll interval of `logs --follow`, in ms. */
const FOLLOW_POLL_MS = 250;

const encoder = new TextEncoder();
function out(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text + "\n"));
}

/** A user error: printed as one line, exit code 1. */
class UsageError extends Error {}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
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

async function withStore<T>(path: string, work: (store: Store) => Promise<T>): Promise<T> {
  try {
    await Deno.stat(path);
  } catch {
    throw new UsageError(`No database at ${path} (start the server once, or pass --db)`);
  }
  const store = await openSqliteStore(path);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function buildProgram() {
  const program = new Command()
    .name("nms-server")
    .description("NMS collector: receives agents' logs over TCP and stores them in SQLite")
    .version(VERSION, "-V, --version")
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
    .addOption(
      new Option("-w, --workers <n>", "worker threads (default: number of CPUs)").env("NMS_WORKERS")
        .argParser(integer(1, 64)),
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
    .action(async (options) => {
      const log = createLogger({ level: options.logLevel as LogLevel, format: options.logFormat });
      const controller = new AbortController();
      let server;
      try {
        server = await startServer({
          port: options.port,
          hostname: options.host,
          dbPath: options.db,
          sync: options.sync,
          log,
          adminPassword: Deno.env.get("NMS_ADMIN_PASSWORD"),
          signal: controller.signal,
          ...(options.workers === undefined ? {} : { workers: options.workers }),
        });
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse) {
          throw new UsageError(`Port ${options.port} on ${options.host} is already in use`);
        }
        if (error instanceof Deno.errors.PermissionDenied) {
          throw new UsageError(`Not allowed to listen on port ${options.port} (${error.message})`);
        }
        throw error;
      }
      if (!["127.0.0.1", "::1", "localhost"].includes(options.host)) {
        log.warn("Agent protocol is plain TCP: passwords and logs cross the network unencrypted");
      }
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        Deno.addSignalListener(signal, () => {
          log.info(`Received ${signal}, shutting down`);
          controller.abort();
        });
      }
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
    .action(async (name, options) => {
      if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) {
        throw new UsageError(
          `Invalid user name ${JSON.stringify(name)}: use 1-64 letters, digits, _ . @ -`,
        );
      }
      const password = await readPassword({
        file: options.passwordFile,
        prompt: `Password for ${name}: `,
      });
      const hash = await hashPassword(password);
      await withStore(options.db, async (store) => {
        await store.createUser(name, hash, options.role);
        out(`Created user ${name} with role ${options.role}`);
      });
    });
  user.command("passwd")
    .description("Change a user's password (from --password-file, a prompt, or stdin)")
    .argument("<name>", "user name")
    .option("--password-file <file>", "read the password from this file")
    .addOption(dbOption())
    .action(async (name, options) => {
      const password = await readPassword({
        file: options.passwordFile,
        prompt: `New password for ${name}: `,
      });
      const hash = await hashPassword(password);
      await withStore(options.db, async (store) => {
        if (!await store.setPasswordHash(name, hash)) throw new UsageError(`No user named ${name}`);
        out(`Changed the password of ${name}`);
      });
    });
  user.command("list")
    .description("List users and their roles")
    .addOption(dbOption())
    .action(async (options) => {
      await withStore(options.db, async (store) => {
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
    .action(async (name, options) => {
      await withStore(options.db, async (store) => {
        if (!await store.removeUser(name)) throw new UsageError(`No user named ${name}`);
        out(`Removed user ${name}`);
      });
    });

  program.command("agents")
    .description("List registered nodes and their status")
    .addOption(dbOption())
    .addOption(
      new Option("--heartbeat <seconds>", "heartbeat interval the agents use").env("NMS_HEARTBEAT")
        .argParser(integer(1, 86400)).default(DEFAULT_HEARTBEAT_SECONDS),
    )
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      await withStore(options.db, async (store) => {
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

  program.command("logs")
    .description("Print stored logs, newest last")
    .addOption(dbOption())
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
      };
      await withStore(options.db, async (store) => {
        const events = await store.queryEvents({ ...filter, limit: options.limit });
        events.reverse().forEach((e) => out(formatEvent(e)));
        if (!options.follow) return;
        let last = events.at(-1)?.id ?? (await store.queryEvents({ limit: 1 }))[0]?.id ?? 0;
        let running = true;
        const stop = () => running = false;
        Deno.addSignalListener("SIGINT", stop);
        Deno.addSignalListener("SIGTERM", stop);
        while (running) {
          const fresh = await store.queryEvents({ ...filter, afterId: last, limit: 1000 });
          for (const e of fresh) out(formatEvent(e));
          last = fresh.at(-1)?.id ?? last;
          if (fresh.length < 1000) await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
        }
      });
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
