/**
 * What every command of the nms-server command line shares: where output
 * goes, the environment and who is acting (given by main.ts, the only module
 * that reads them), the user error that is printed as one line, and the
 * options and helper that open the store.
 *
 * @module
 */

import { Option } from "@commander-js/extra-typings";
import { SERVE_OPTIONS } from "../config.ts";
import { openStore, parseStoreUrl, type Store } from "../store/mod.ts";

/** What the commands need from the process around them. */
export interface CliContext {
  /** Writes one line to stdout. */
  readonly out: (text: string) => void;
  /** Writes text to stderr as is. */
  readonly writeErr: (text: string) => void;
  /** Reads an environment variable. */
  readonly env: (name: string) => string | undefined;
  /** Who runs the command, for the audit trail: `cli:<OS user>`. */
  readonly actor: string;
  /** Whether stderr is a person's terminal (not journald, `docker logs` or a file). */
  readonly stderrIsTerminal: boolean;
  /** Standard input, for commands that read lines from it (`rules test`). */
  readonly stdin: ReadableStream<Uint8Array>;
}

/** Exit code of a command that did what it was asked. */
export const EXIT_OK = 0;
/** Exit code of a valid command that could not be done (no database, no such user, port in use). */
export const EXIT_FAILURE = 1;
/**
 * Exit code of a usage error: an unknown command or flag, a bad or missing
 * value (from a flag, an environment variable or the configuration file),
 * flags that do not go together, a file a flag names that cannot be read.
 */
export const EXIT_USAGE = 2;

/** A mistake on the command line (or in its environment or configuration file): one line, exit 2. */
export class UsageError extends Error {}

/** A valid command that could not be done: one line, exit 1. */
export class CommandError extends Error {}

/**
 * `--db`, as `serve` has it.
 *
 * @returns A new option.
 */
export function dbOption(): Option<"--db <path>", undefined, "./data/nms.db"> {
  const { flags, help, env, default: path } = SERVE_OPTIONS.db;
  return new Option(flags, help).env(env).default(path);
}

/**
 * `--store`, as `serve` has it.
 *
 * @returns A new option.
 */
export function storeOption(): Option<"--store <url>"> {
  const { flags, help, env } = SERVE_OPTIONS.store;
  return new Option(flags, help).env(env);
}

/**
 * The store a command uses: `--store` when given, else the SQLite file of `--db`.
 *
 * @param options The command's parsed options.
 * @returns A store URL or path.
 */
export function storeOf(options: { db: string; store?: string | undefined }): string {
  return options.store ?? options.db;
}

/**
 * Opens the store, runs `work` with it and closes it.
 *
 * @param url A store URL or SQLite path.
 * @param work What to do.
 * @returns What `work` returns.
 * @throws {CommandError} When there is no SQLite database at the path.
 */
export async function withStore<T>(url: string, work: (store: Store) => Promise<T>): Promise<T> {
  const location = parseStoreUrl(url);
  if (location.kind === "sqlite") {
    try {
      await Deno.stat(location.path);
    } catch {
      throw new CommandError(
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
