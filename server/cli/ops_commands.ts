/**
 * The operations side of the nms-server command line (docs/PRODUCTION.md):
 * `--config FILE` on every command that opens the store, `config check`,
 * `config keys` and `backup FILE`. program.ts calls {@linkcode addOpsCommands}
 * once its other commands are defined.
 *
 * @module
 */

import { Command, type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { formatByteSize } from "../../common/byte_size.ts";
import { formatDuration, type Progress, type StartProgress } from "../../common/progress.ts";
import {
  applyConfigValues,
  configKeys,
  effectiveConfig,
  formatConfigKeys,
  formatEffectiveConfig,
  loadConfigFile,
} from "../../common/mod.ts";
import { backupSqliteFile, parseStoreUrl } from "../store/mod.ts";
import { dbOption, UsageError } from "./context.ts";

/** Environment variable naming the configuration file when `--config` is absent. */
export const CONFIG_ENV = "NMS_CONFIG";

/** Keys a command other than `serve` takes from the file: where the store is. */
const STORE_ATTRIBUTES: ReadonlySet<string> = new Set(["db", "store"]);

/** What the operations commands need from program.ts. */
export interface OpsCommandContext {
  /** Writes one line to stdout. */
  readonly out: (text: string) => void;
  /** Writes one line to stderr. */
  readonly err: (text: string) => void;
  /** Builds a fresh program, so `config check` can parse `serve`'s flags without running it. */
  readonly rebuild: () => CommandUnknownOpts;
  /** Reads an environment variable. */
  readonly env: (name: string) => string | undefined;
  /** Shows the progress of long work (`backup`) on a terminal. */
  readonly progress: StartProgress;
}

/** A mistake on the command line of an operations command: one line, exit 2. */
export class OpsCommandError extends UsageError {}

function leafCommands(command: CommandUnknownOpts): CommandUnknownOpts[] {
  return command.commands.length === 0
    ? [command]
    : command.commands.flatMap((sub) => leafCommands(sub));
}

function serveOf(program: CommandUnknownOpts): CommandUnknownOpts {
  const serve = program.commands.find((c) => c.name() === "serve");
  if (!serve) throw new TypeError("Cannot find the serve command");
  return serve;
}

function configOption(): Option {
  return new Option("-c, --config <file>", "configuration file (YAML), see docs/PRODUCTION.md")
    .env(CONFIG_ENV);
}

/**
 * Adds `--config`, `config check`, `config keys` and `backup` to the program,
 * and the hook that applies the file before a command runs.
 *
 * @param program The nms-server program, with its other commands defined.
 * @param context Output, environment and a way to build a fresh program.
 * @example
 * ```ts
 * addOpsCommands(program, { out, err, rebuild: () => buildProgram(context), env: context.env });
 * ```
 */
export function addOpsCommands(program: CommandUnknownOpts, context: OpsCommandContext): void {
  const serve = serveOf(program);
  const config = program.command("config").description("Check or describe the configuration file");
  config.command("check")
    .description(
      "Print the effective configuration of serve (flag > env > file > default; secrets masked), or one error per bad key",
    )
    .usage("[--config FILE] [serve flags...]")
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption("-h, --help", "display help for command")
    .action(async function (this: Command) {
      await checkConfig(this.args, context);
    });
  config.command("keys")
    .description("List the keys of the configuration file: type, default, environment variable")
    .action(() => context.out(formatConfigKeys(configKeys(serve))));

  program.command("backup")
    .description("Copy the SQLite database to FILE while the server runs (VACUUM INTO)")
    .argument("<file>", "the copy; must not exist")
    .addOption(dbOption())
    .addOption(new Option("--store <url>", "store URL (sqlite:PATH or a path)").env("NMS_STORE"))
    .action(async (file, options) => {
      const location = parseStoreUrl(options.store ?? options.db);
      if (location.kind !== "sqlite") {
        throw new OpsCommandError(
          "backup copies SQLite databases: for PostgreSQL use pg_dump (docs/PRODUCTION.md)",
        );
      }
      const started = performance.now();
      let progress: Progress | undefined;
      let bytes: number;
      try {
        bytes = await backupSqliteFile(location.path, file, (done, expected) => {
          progress ??= context.progress(`Backing up ${location.path}`, "bytes", expected);
          progress.update(done);
        });
      } catch (error) {
        progress?.abandon();
        throw error;
      }
      progress ??= context.progress(`Backing up ${location.path}`, "bytes");
      progress.finish(bytes);
      context.out(
        `Backed up ${location.path} to ${file} (${formatByteSize(bytes)} in ${
          formatDuration((performance.now() - started) / 1000)
        })`,
      );
    });

  // --config on serve and on every command that opens the store.
  for (const command of leafCommands(program)) {
    const named = (name: string) => command.options.some((o) => o.long === name);
    if (command === serve || named("--db")) command.addOption(configOption());
  }
  program.hook("preAction", async (_program, action) => {
    const path = action.getOptionValue("config");
    if (typeof path !== "string") return;
    const values = await loadConfigFile(path, configKeys(serve), context.err);
    applyConfigValues(action, values, action === serve ? undefined : STORE_ATTRIBUTES);
  });
}

/**
 * `config check [--config FILE] [serve flags...]`: parses `serve` exactly as it
 * would run, then prints instead of serving.
 */
async function checkConfig(args: readonly string[], context: OpsCommandContext): Promise<void> {
  const fresh = context.rebuild();
  const override = (command: CommandUnknownOpts) => {
    command.exitOverride();
    for (const sub of command.commands) override(sub);
  };
  override(fresh);
  const serve = serveOf(fresh);
  serve.action(() => {
    const file = serve.getOptionValue("config");
    const keys = configKeys(serve);
    context.out(
      "# nms-server serve: effective configuration (flag > environment > file > default)",
    );
    context.out(`# configuration file: ${typeof file === "string" ? file : "none"}`);
    context.out(formatEffectiveConfig(effectiveConfig(serve, keys)));
    const admin = context.env("NMS_ADMIN_PASSWORD");
    context.out(
      `# admin password (NMS_ADMIN_PASSWORD): ${
        admin === undefined ? "not set (generated on first start)" : "set, ********"
      }`,
    );
  });
  await fresh.parseAsync(["serve", ...args], { from: "user" });
}
