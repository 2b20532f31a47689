/**
 * The process's file-descriptor limit and the agent connections it allows.
 * Every agent connection is one descriptor, so the default connection limit
 * follows from the soft limit (`RLIMIT_NOFILE`), less a reserve for the
 * database, its write-ahead log, the web console, syslog and the workers.
 * Deno cannot raise the soft limit itself (no `setrlimit` without FFI): the
 * systemd unit (`LimitNOFILE`) and the compose file (`ulimits`) set it, and a
 * start-up warning says when it is below what the configuration asks.
 *
 * @module
 */

/**
 * Descriptors kept for everything but agent connections: database files, the
 * web console's HTTP connections, syslog, workers, TLS files, backups.
 */
export const FD_RESERVE = 256;
/**
 * Largest default connection limit, however high the descriptor limit: an
 * operator who wants more says so with `--max-connections`.
 */
export const MAX_DEFAULT_CONNECTIONS = 65_536;
/** Least default connection limit, even under a tiny descriptor limit. */
export const MIN_DEFAULT_CONNECTIONS = 16;

/** The soft and hard `RLIMIT_NOFILE` of a process; `Infinity` for unlimited. */
export interface FdLimit {
  /** The soft limit: what the process may open now. */
  readonly soft: number;
  /** The hard limit: how far the soft limit may be raised. */
  readonly hard: number;
}

import { DEFAULT_MAX_CONNECTIONS } from "./connection_limits.ts";

const OPEN_FILES = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)\s/m;

/**
 * Parses the "Max open files" row of `/proc/<pid>/limits`.
 *
 * @param text The file's contents.
 * @returns The limits, or null when the row is missing or malformed.
 * @example
 * ```ts
 * parseFdLimit("Max open files            1024     524288     files\n"); // { soft: 1024, hard: 524288 }
 * ```
 */
export function parseFdLimit(text: string): FdLimit | null {
  const match = OPEN_FILES.exec(text);
  if (!match) return null;
  const value = (field: string) => field === "unlimited" ? Infinity : Number(field);
  return { soft: value(match[1]!), hard: value(match[2]!) };
}

/**
 * Reads this process's descriptor limit from `/proc/self/limits`.
 *
 * @returns The limits, or null where there is no such file (not Linux) or it cannot be read.
 * @example
 * ```ts
 * const limit = readFdLimit(); // { soft: 65536, hard: 65536 } under the systemd unit
 * ```
 */
export function readFdLimit(): FdLimit | null {
  try {
    return parseFdLimit(Deno.readTextFileSync("/proc/self/limits"));
  } catch {
    return null;
  }
}

/**
 * The default `--max-connections` for a descriptor limit: the soft limit less
 * {@linkcode FD_RESERVE}, within {@linkcode MIN_DEFAULT_CONNECTIONS} and
 * {@linkcode MAX_DEFAULT_CONNECTIONS}.
 *
 * @param limit The process's limit, or null when unknown.
 * @returns Connections to allow by default ({@linkcode DEFAULT_MAX_CONNECTIONS} when unknown).
 * @example
 * ```ts
 * defaultMaxConnections({ soft: 65536, hard: 65536 }); // 65280
 * defaultMaxConnections(null); // 1024
 * ```
 */
export function defaultMaxConnections(limit: FdLimit | null): number {
  if (limit === null) return DEFAULT_MAX_CONNECTIONS;
  const available = limit.soft - FD_RESERVE;
  return Math.max(MIN_DEFAULT_CONNECTIONS, Math.min(MAX_DEFAULT_CONNECTIONS, available));
}

/**
 * The start-up warning for a connection limit the descriptor limit cannot
 * hold, or null when it can (or the limit is unknown).
 *
 * @param maxConnections The connection limit in force (`Infinity` for none).
 * @param limit The process's limit, or null when unknown.
 * @returns One line for the log, with the figures and the fix, or null.
 * @example
 * ```ts
 * fdLimitWarning(20_000, { soft: 1024, hard: 4096 });
 * // "File-descriptor limit 1024 holds 768 agent connections, not the 20000 of --max-connections: ..."
 * ```
 */
export function fdLimitWarning(maxConnections: number, limit: FdLimit | null): string | null {
  if (limit === null || maxConnections + FD_RESERVE <= limit.soft) return null;
  const holds = Math.max(0, limit.soft - FD_RESERVE);
  const asked = maxConnections === Infinity ? "unlimited" : String(maxConnections);
  const hard = limit.hard === Infinity ? "unlimited" : String(limit.hard);
  return `File-descriptor limit ${limit.soft} holds ${holds} agent connections, ` +
    `not the ${asked} of --max-connections (${FD_RESERVE} kept for files): raise it ` +
    `(hard limit ${hard}) with LimitNOFILE= in the systemd unit, ulimits nofile in compose, ` +
    `or ulimit -n`;
}

/**
 * The start-up note when the descriptor limit cannot be read and no
 * `--max-connections` was given. Deno lets a program read `/proc/self` only
 * with `--allow-all`, which the binaries do not have: the systemd unit and the
 * compose file pass `NMS_MAX_CONNECTIONS` beside the limit they set.
 *
 * @param explicit Whether `--max-connections` (or its variable or key) was given.
 * @param limit The process's limit, or null when unknown.
 * @returns One line for the log, or null.
 * @example
 * ```ts
 * fdLimitUnknownNote(false, null); // "Cannot read the file-descriptor limit ..."
 * ```
 */
export function fdLimitUnknownNote(explicit: boolean, limit: FdLimit | null): string | null {
  if (explicit || limit !== null) return null;
  return `Cannot read the file-descriptor limit (Deno reads /proc/self only with --allow-all): ` +
    `at most ${DEFAULT_MAX_CONNECTIONS} agent connections; for a larger fleet set ` +
    `--max-connections (NMS_MAX_CONNECTIONS) to the ulimit -n less ${FD_RESERVE}`;
}
