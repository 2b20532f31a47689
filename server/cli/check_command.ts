/**
 * `nms-server check [--quick] [--db FILE]`: looks for damage in the SQLite
 * database with `PRAGMA integrity_check` (or `quick_check`) on a read-only
 * connection, so it can run beside a running server. Prints `ok`, or SQLite's
 * findings and exits with code 1; recovery is in docs/PRODUCTION.md.
 *
 * @module
 */

import type { Command } from "@commander-js/extra-typings";
import { checkSqliteIntegrity, parseStoreUrl } from "../store/mod.ts";
import { dbOption, storeOption } from "./context.ts";
import { printable } from "./format.ts";

/** What the check command needs from program.ts. */
export interface CheckCommandContext {
  /** Writes one line to stdout. */
  readonly out: (text: string) => void;
}

/** The database is damaged, or cannot be checked: printed as one line, exit code 1. */
export class CheckCommandError extends Error {}

/**
 * Adds `check` to the program.
 *
 * @param program The nms-server program.
 * @param context Output.
 * @example
 * ```ts
 * addCheckCommand(program, { out });
 * ```
 */
export function addCheckCommand(program: Command, context: CheckCommandContext): void {
  program.command("check")
    .description(
      "Look for damage in the SQLite database (PRAGMA integrity_check); exit code 1 when damaged",
    )
    .option("--quick", "PRAGMA quick_check: about twice as fast, does not match indexes to tables")
    .addOption(dbOption())
    .addOption(storeOption())
    .action(async (options) => {
      const location = parseStoreUrl(options.store ?? options.db);
      if (location.kind !== "sqlite") {
        throw new CheckCommandError(
          "check reads SQLite databases: PostgreSQL checks its own pages (docs/PRODUCTION.md)",
        );
      }
      try {
        await Deno.stat(location.path);
      } catch {
        throw new CheckCommandError(`No database at ${location.path} (pass --db or --store)`);
      }
      const report = checkSqliteIntegrity(location.path, { quick: options.quick === true });
      const took = `${report.seconds.toFixed(1)} s`;
      if (report.ok) return context.out(`ok: ${location.path} (${took})`);
      for (const problem of report.problems) context.out(printable(problem));
      throw new CheckCommandError(
        `The database ${location.path} is damaged (${report.problems.length} problems found in ${took}): see 'Recovering a damaged database' in docs/PRODUCTION.md`,
      );
    });
}
