/**
 * The integrity check of a SQLite database: `PRAGMA quick_check` (every page
 * and b-tree, without matching indexes to tables) or `PRAGMA integrity_check`
 * (that too). At start the server runs the quick check behind start-up, in a
 * worker of its own, because it reads the whole file: about 1 s for a million
 * events and 30 s for ten million on our 2-core machines (docs/PRODUCTION.md).
 * `nms-server check` runs either on demand.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/** Most problems a check reports (SQLite stops counting there). */
export const MAX_INTEGRITY_PROBLEMS = 20;

/** What a check found. */
export interface IntegrityReport {
  /** True when SQLite found nothing wrong. */
  readonly ok: boolean;
  /** SQLite's findings, at most {@linkcode MAX_INTEGRITY_PROBLEMS}; empty when ok. */
  readonly problems: readonly string[];
  /** How long the check took. */
  readonly seconds: number;
}

/** What the server knows of its database's integrity, for `/healthz`. */
export type IntegrityState =
  /** The check runs behind start-up. */
  | { readonly status: "checking" }
  /** Not a SQLite store (PostgreSQL checks its own pages). */
  | { readonly status: "skipped" }
  | { readonly status: "ok"; readonly seconds: number }
  | { readonly status: "corrupt"; readonly problems: readonly string[]; readonly seconds: number };

/** Options of {@linkcode checkSqliteIntegrity}. */
export interface IntegrityOptions {
  /**
   * `PRAGMA quick_check` instead of the full `PRAGMA integrity_check`.
   * @default {false}
   */
  readonly quick?: boolean;
}

/**
 * Checks a database file on a read-only connection of its own (the server
 * may keep running). Synchronous: call it from a worker or the CLI.
 *
 * @param path The SQLite database file.
 * @param options Quick or full.
 * @returns The findings; a file SQLite cannot even open is reported as a problem.
 * @example
 * ```ts
 * const report = checkSqliteIntegrity("./data/nms.db", { quick: true });
 * if (!report.ok) console.error(report.problems.join("\n"));
 * ```
 */
export function checkSqliteIntegrity(
  path: string,
  options: IntegrityOptions = {},
): IntegrityReport {
  const started = performance.now();
  const pragma = options.quick ? "quick_check" : "integrity_check";
  let problems: string[];
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    db.exec("PRAGMA busy_timeout = 5000");
    const rows = db.prepare(`PRAGMA ${pragma}(${MAX_INTEGRITY_PROBLEMS})`).all();
    problems = rows.map((row) => String(Object.values(row)[0]));
    if (problems.length === 1 && problems[0] === "ok") problems = [];
  } catch (error) {
    problems = [(error as Error).message];
  } finally {
    db?.close();
  }
  return {
    ok: problems.length === 0,
    problems,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A check running in its worker. */
export interface BackgroundIntegrityCheck {
  /** The findings; never rejects (a failure of the worker is a problem found). */
  readonly result: Promise<IntegrityReport>;
  /** Ends the worker, e.g. at shutdown before the check finished. Idempotent. */
  stop(): void;
}

/**
 * Runs the quick check in a worker (server/store/integrity_worker.ts), so the
 * server serves meanwhile.
 *
 * @param path The SQLite database file.
 * @returns The running check.
 * @example
 * ```ts
 * const check = startIntegrityCheck("./data/nms.db");
 * const report = await check.result;
 * ```
 */
export function startIntegrityCheck(path: string): BackgroundIntegrityCheck {
  const worker = new Worker(new URL("./integrity_worker.ts", import.meta.url).href, {
    type: "module",
    name: "integrity_worker",
  });
  let settle!: (report: IntegrityReport) => void;
  const result = new Promise<IntegrityReport>((resolve) => settle = resolve);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    worker.terminate();
  };
  worker.onmessage = (event: MessageEvent<IntegrityReport>) => {
    stop();
    settle(event.data);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    stop();
    settle({ ok: false, problems: [`Integrity check failed: ${event.message}`], seconds: 0 });
  };
  worker.postMessage({ path, quick: true });
  return { result, stop };
}
