/**
 * `nms-server user add|passwd|list|remove`: the accounts that log in to the
 * console and the agent protocol. Every change is written to the audit trail.
 * (`user role` and the tokens are in security_commands.ts.)
 *
 * @module
 */

import { type Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { hashPassword } from "../auth/mod.ts";
import { isValidUserName, type Role, ROLES, USER_NAME_RULE } from "../store/mod.ts";
import {
  type CliContext,
  CommandError,
  dbOption,
  storeOf,
  storeOption,
  UsageError,
  withStore,
} from "./context.ts";
import { table } from "./format.ts";
import { readPassword } from "./read_password.ts";
import { audit } from "./security_commands.ts";

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${ROLES.join(", ")}`);
  }
  return value as Role;
}

/**
 * Adds `user` and its subcommands to the program.
 *
 * @param program The nms-server program.
 * @param context Output and who is acting.
 * @returns The `user` command, for more subcommands (`user role`).
 * @example
 * ```ts
 * const user = addUserCommands(program, context);
 * ```
 */
export function addUserCommands(program: Command, context: CliContext): Command {
  const { out, actor } = context;
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
      // The store's one rule (no leading "@": "@token" is the token variant of LOGIN).
      if (!isValidUserName(name)) {
        throw new UsageError(`Invalid user name ${JSON.stringify(name)}: use ${USER_NAME_RULE}`);
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
          actor,
          action: "user.add",
          target: name,
          detail: `role=${options.role}`,
        }, `User ${name} (${options.role}) created by ${actor}`);
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
        if (!await store.setPasswordHash(name, hash)) {
          throw new CommandError(`No user named ${name}`);
        }
        await audit(
          store,
          { at: Date.now(), actor, action: "user.passwd", target: name, detail: null },
          `Password of user ${name} changed by ${actor}`,
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
        if (!await store.removeUser(name)) throw new CommandError(`No user named ${name}`);
        await audit(
          store,
          { at: Date.now(), actor, action: "user.remove", target: name, detail: null },
          `User ${name} removed by ${actor}`,
        );
        out(`Removed user ${name}`);
      });
    });
  return user as unknown as Command;
}
