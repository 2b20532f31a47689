/**
 * The security subcommands of nms-server (docs/SECURITY.md):
 * `token create|list|revoke`, `user role`, `audit` and `import-paper-db`.
 * program.ts adds them to the program and passes in how to open the store and
 * who is acting; every change they make is written to the audit trail and
 * stored as an NMS security event, so it shows in the logs and the console.
 *
 * @module
 */

import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { DatabaseSync } from "node:sqlite";
import { generateToken, hashPassword, TOKEN_NAME_PATTERN } from "../auth/mod.ts";
import { securityEvent } from "../security_event.ts";
import {
  type AuditEntry,
  isValidUserName,
  type Role,
  ROLES,
  type Store,
  StoreError,
} from "../store/mod.ts";
import { printable, table } from "./format.ts";
import { formatDuration, type StartProgress } from "../../common/progress.ts";

/** What the security commands need from program.ts. */
export interface SecurityCommandContext {
  /** Adds the store options (`--db`, `--store`) to a command. */
  readonly storeOptions: <C>(command: C) => C;
  /** Runs `work` with the store selected by a command's options. */
  readonly withStore: <T>(
    options: { db: string; store?: string | undefined },
    work: (store: Store) => Promise<T>,
  ) => Promise<T>;
  /** Who is acting, e.g. `cli:root`, for the audit trail. */
  readonly actor: string;
  /** Writes one line to stdout. */
  readonly out: (text: string) => void;
  /** Shows the progress of long work on stderr when it is a terminal (common/progress.ts). */
  readonly progress: StartProgress;
}

/** A mistake of the user, printed as one line. */
export class SecurityCommandError extends Error {}

/**
 * Records a change in the audit trail and as a security event.
 *
 * @param store The store.
 * @param entry The change.
 * @param message The security event's text.
 * @example
 * ```ts
 * await audit(store, { at: Date.now(), actor: "cli:root", action: "user.add", target: "bob", detail: "role=viewer" }, "User bob (viewer) created by cli:root");
 * ```
 */
export async function audit(store: Store, entry: AuditEntry, message: string): Promise<void> {
  await store.security.appendAudit(entry);
  await store.appendEvents([securityEvent({ at: entry.at, severity: 5, message })]);
}

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${ROLES.join(", ")}`);
  }
  return value as Role;
}

function tokenName(value: string): string {
  if (!TOKEN_NAME_PATTERN.test(value)) {
    throw new InvalidArgumentError("use 1-64 letters, digits, _ . : -");
  }
  return value;
}

function limit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) {
    throw new InvalidArgumentError("expected an integer from 1 to 10000");
  }
  return n;
}

const time = (t: number | null) => (t === null ? "-" : new Date(t).toISOString());

/**
 * Adds `token`, `user role`, `audit` and `import-paper-db` to the program.
 *
 * @param program The nms-server program.
 * @param user Its `user` command.
 * @param ctx Store access, actor and output.
 * @example
 * ```ts
 * addSecurityCommands(program, user, { storeOptions, withStore, actor: "cli:root", out });
 * ```
 */
export function addSecurityCommands(
  program: Command,
  user: Command,
  ctx: SecurityCommandContext,
): void {
  const token = program.command("token").description(
    "Manage agent enrollment tokens (agents log in with --token-file)",
  );
  ctx.storeOptions(
    token.command("create")
      .description("Create a token and print it once; only its hash is stored")
      .requiredOption("--name <name>", "label, e.g. the agent's host", tokenName)
      .option("--bind-hostname", "its agent may only REGISTER with the hostname --name")
      .option("--output <file>", "write the token to this file (mode 0600) instead of stdout"),
  ).action(async (options) => {
    const opts = options as typeof options & { db: string; store?: string };
    const generated = await generateToken(opts.name, {
      createdBy: ctx.actor,
      boundHostname: opts.bindHostname ? opts.name : null,
    });
    await ctx.withStore(opts, async (store) => {
      await store.security.createToken(generated.record);
      const id = generated.record.id;
      await audit(
        store,
        {
          at: generated.record.createdAt,
          actor: ctx.actor,
          action: "token.create",
          target: id,
          detail: `name=${opts.name}${opts.bindHostname ? " bound" : ""}`,
        },
        `Agent token ${opts.name} (id ${id}) created by ${ctx.actor}`,
      );
    });
    if (opts.output !== undefined) {
      await Deno.writeTextFile(opts.output, generated.token + "\n", { mode: 0o600 });
      await Deno.chmod(opts.output, 0o600);
      ctx.out(`Created token ${generated.record.id} (${opts.name}) in ${opts.output}`);
    } else {
      ctx.out(generated.token);
    }
  });
  ctx.storeOptions(
    token.command("list")
      .description("List tokens (never their secrets)")
      .option("--json", "print JSON instead of a table"),
  ).action(async (options) => {
    const opts = options as typeof options & { db: string; store?: string };
    await ctx.withStore(opts, async (store) => {
      const tokens = (await store.security.listTokens()).map(({ secretHash: _, ...t }) => t);
      if (opts.json) return ctx.out(JSON.stringify(tokens, null, 2));
      ctx.out(table(
        ["ID", "NAME", "STATUS", "BOUND", "CREATED", "BY", "LAST USED"],
        tokens.map((t) => [
          t.id,
          printable(t.name),
          t.revokedAt === null ? "active" : `revoked ${time(t.revokedAt)}`,
          t.boundHostname === null ? "-" : "hostname",
          time(t.createdAt),
          printable(t.createdBy),
          time(t.lastUsedAt),
        ]),
      ));
    });
  });
  ctx.storeOptions(
    token.command("revoke")
      .description(
        "Revoke a token by id, or every active token with that name; agents using it are disconnected",
      )
      .argument("<id-or-name>", "token id (from token list) or name"),
  ).action(async (which, options) => {
    const opts = options as typeof options & { db: string; store?: string };
    await ctx.withStore(opts, async (store) => {
      const tokens = await store.security.listTokens();
      const byId = tokens.filter((t) => t.id === which);
      const targets = byId.length > 0
        ? byId
        : tokens.filter((t) => t.name === which && t.revokedAt === null);
      if (targets.length === 0) {
        throw new SecurityCommandError(`No active token with id or name ${which}`);
      }
      const at = Date.now();
      for (const t of targets) {
        if (!await store.security.revokeToken(t.id, at)) {
          throw new SecurityCommandError(`Token ${t.id} is already revoked`);
        }
        await audit(
          store,
          { at, actor: ctx.actor, action: "token.revoke", target: t.id, detail: `name=${t.name}` },
          `Agent token ${t.name} (id ${t.id}) revoked by ${ctx.actor}`,
        );
        ctx.out(`Revoked token ${t.id} (${printable(t.name)})`);
      }
    });
  });

  ctx.storeOptions(
    user.command("role")
      .description("Change a user's role")
      .argument("<name>", "user name")
      .argument("<role>", "admin, viewer or agent", role),
  ).action(async (name, newRole, options) => {
    const opts = options as typeof options & { db: string; store?: string };
    await ctx.withStore(opts, async (store) => {
      const found = await store.findUser(name);
      if (!found) throw new SecurityCommandError(`No user named ${name}`);
      if (found.role === newRole) return ctx.out(`User ${name} already has role ${newRole}`);
      if (found.role === "admin") {
        const admins = (await store.listUsers()).filter((u) => u.role === "admin").length;
        if (admins <= 1) throw new SecurityCommandError("Cannot demote the last admin");
      }
      await store.setUserRole(name, newRole);
      await audit(
        store,
        {
          at: Date.now(),
          actor: ctx.actor,
          action: "user.role",
          target: name,
          detail: `${found.role}->${newRole}`,
        },
        `Role of user ${name} changed from ${found.role} to ${newRole} by ${ctx.actor}`,
      );
      ctx.out(`Changed the role of ${name} from ${found.role} to ${newRole}`);
    });
  });

  ctx.storeOptions(
    program.command("audit")
      .description("Show the audit trail of user, role and token changes, newest first")
      .addOption(new Option("-n, --limit <n>", "most entries").argParser(limit).default(50))
      .option("--json", "print JSON instead of a table"),
  ).action(async (options) => {
    const opts = options as typeof options & { db: string; store?: string };
    await ctx.withStore(opts, async (store) => {
      const entries = await store.security.listAudit({ limit: opts.limit });
      if (opts.json) return ctx.out(JSON.stringify(entries, null, 2));
      ctx.out(table(
        ["TIME", "ACTOR", "ACTION", "TARGET", "DETAIL"],
        entries.map((e) => [
          time(e.at),
          printable(e.actor),
          printable(e.action),
          printable(e.target),
          printable(e.detail ?? ""),
        ]),
      ));
    });
  });

  ctx.storeOptions(
    program.command("import-paper-db")
      .description(
        "Import the users of the original paper's SQLite database (table Utilizatori, plaintext passwords), hashing each password",
      )
      .argument("<file>", "the paper's database, e.g. nms_romania.db")
      .addOption(
        new Option("-r, --role <role>", "role of the imported users").argParser(role).default(
          "viewer" as Role,
        ),
      ),
  ).action(async (file, options) => {
    const opts = options as typeof options & { db: string; store?: string };
    const users = readPaperUsers(file);
    await ctx.withStore(opts, async (store) => {
      let imported = 0;
      // Each password costs a scrypt hash (about 0.1 s): show the progress.
      const progress = ctx.progress(`Importing users from ${file}`, "users", users.length);
      // Said after the progress line, which they would break.
      const skipped: string[] = [];
      for (const [i, { username, password }] of users.entries()) {
        progress.update(i);
        if (!isValidUserName(username) || password.length === 0) {
          skipped.push(
            `Skipped ${JSON.stringify(printable(username))}: invalid user name or empty password`,
          );
          continue;
        }
        try {
          await store.createUser(username, await hashPassword(password), opts.role);
        } catch (error) {
          if (error instanceof StoreError && error.code === "conflict") {
            skipped.push(`Skipped ${username}: a user with that name exists`);
            continue;
          }
          progress.abandon();
          throw error;
        }
        imported++;
        await audit(
          store,
          {
            at: Date.now(),
            actor: ctx.actor,
            action: "user.import",
            target: username,
            detail: `role=${opts.role} from=${file}`,
          },
          `User ${username} (${opts.role}) imported from the paper's database by ${ctx.actor}`,
        );
      }
      progress.finish(users.length);
      for (const line of skipped) ctx.out(line);
      ctx.out(
        `Imported ${imported} of ${users.length} users in ${
          formatDuration(progress.elapsedSeconds)
        }; their passwords are now scrypt hashes`,
      );
    });
  });
}

/**
 * Reads the paper's `Utilizatori (nume_utilizator, parola)` table, read-only.
 *
 * @param file Path of the paper's SQLite database.
 * @returns The users with their plaintext passwords.
 * @throws {SecurityCommandError} When the file or the table cannot be read.
 */
function readPaperUsers(file: string): { username: string; password: string }[] {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { readOnly: true });
  } catch (error) {
    throw new SecurityCommandError(`Cannot open ${file}: ${(error as Error).message}`);
  }
  try {
    const rows = db.prepare("SELECT nume_utilizator AS u, parola AS p FROM Utilizatori ORDER BY id")
      .all() as { u: unknown; p: unknown }[];
    return rows.map((row) => ({ username: String(row.u ?? ""), password: String(row.p ?? "") }));
  } catch (error) {
    throw new SecurityCommandError(
      `Cannot read table Utilizatori of ${file}: ${(error as Error).message}`,
    );
  } finally {
    db.close();
  }
}
