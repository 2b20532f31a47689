/**
 * Retention: deletes events older than `--retention-days` and the oldest ones
 * while the database is larger than `--max-db-size`. The main thread only
 * schedules: each pass runs in the writer worker as small steps between group
 * commits (server/ingest/group_commit.ts, `Store.pruneEvents`), so a large
 * delete never blocks the sockets and ingest waits for one step at most.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import type { RetentionOutcome, RetentionPass } from "./ingest/mod.ts";

/** Milliseconds in a day. */
const DAY_MS = 86_400_000;

/**
 * Events deleted per step: bounds the longest an incoming batch waits for
 * retention, since deleting their full-text entries dominates a step
 * (docs/PRODUCTION.md).
 */
export const RETENTION_STEP_ROWS = 1_000;

/** Free space returned to the file system per step, in bytes (8 MiB). */
export const RETENTION_RECLAIM_BYTES = 8 * 1024 * 1024;

/**
 * Longest pass, in ms. Bounds how long shutdown waits for retention; when a
 * pass ends with work left, the next one starts after {@linkcode RETENTION_BUSY_PAUSE_MS}.
 */
export const RETENTION_PASS_MS = 1_000;

/** Pause between passes while there is work left, in ms. */
export const RETENTION_BUSY_PAUSE_MS = 50;

/** Default pause between passes once nothing is left to delete, in ms. */
export const DEFAULT_RETENTION_INTERVAL_MS = 60_000;

/** Largest `--retention-days` (100 years). */
export const MAX_RETENTION_DAYS = 36_500;

/** The writer side of retention: `Writer.retention` (server/ingest/writer.ts). */
export interface RetentionTarget {
  retention(pass: RetentionPass): Promise<RetentionOutcome>;
}

/** Options of {@linkcode startRetention}. */
export interface RetentionOptions {
  /**
   * Keep events received in the last this many days (fractions allowed).
   * @default {undefined (no age limit)}
   */
  retentionDays?: number | undefined;
  /**
   * Delete the oldest events while the data takes more than this, in bytes.
   * @default {undefined (no size limit)}
   */
  maxDbBytes?: number | undefined;
  /**
   * Pause between passes once nothing is left, in ms.
   * @default {60000}
   */
  intervalMs?: number;
  /** Where passes that deleted something, and failures, are reported. */
  log: Logger;
  /**
   * The clock, ms since the epoch.
   * @default {Date.now}
   */
  now?: () => number;
}

/** Counters of the retention task, for `/metrics`. */
export interface RetentionStats {
  /** Events deleted since start. */
  readonly deletedEvents: number;
  /** Bytes the database file shrank by since start. */
  readonly reclaimedBytes: number;
  /** Passes run. */
  readonly passes: number;
  /** Passes that failed. */
  readonly failures: number;
  /** End of the last pass, ms since the epoch, or null. */
  readonly lastPassAt: number | null;
}

/** The running retention task. */
export interface Retention {
  /** Whether a limit is configured (else the task does nothing). */
  readonly enabled: boolean;
  /** A snapshot of the counters. */
  stats(): RetentionStats;
  /** Runs a pass now (tests, `SIGHUP`) instead of waiting for the interval. */
  wake(): void;
  /** Stops after the current pass. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Checks `--retention-days`.
 *
 * @param days The value.
 * @returns The value.
 * @throws {RangeError} When not a number from 0 (exclusive) to {@linkcode MAX_RETENTION_DAYS}.
 * @example
 * ```ts
 * checkRetentionDays(30);
 * ```
 */
export function checkRetentionDays(days: number): number {
  if (!Number.isFinite(days) || days <= 0 || days > MAX_RETENTION_DAYS) {
    throw new RangeError(
      `Invalid retention of ${days} days: expected a number above 0 and at most ${MAX_RETENTION_DAYS}`,
    );
  }
  return days;
}

/**
 * Starts the retention task. Does nothing (and `enabled` is false) when
 * neither limit is given.
 *
 * @param target The writer.
 * @param options Limits, interval, logger.
 * @returns The task; stop it before closing the writer.
 * @example
 * ```ts
 * const retention = startRetention(writer, { retentionDays: 30, log });
 * await retention.stop();
 * ```
 */
export function startRetention(target: RetentionTarget, options: RetentionOptions): Retention {
  const { retentionDays, maxDbBytes, log } = options;
  if (retentionDays !== undefined) checkRetentionDays(retentionDays);
  if (maxDbBytes !== undefined && !(maxDbBytes > 0)) {
    throw new RangeError(`Invalid maximum database size of ${maxDbBytes} bytes`);
  }
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS;
  const enabled = retentionDays !== undefined || maxDbBytes !== undefined;
  const counters = {
    deletedEvents: 0,
    reclaimedBytes: 0,
    passes: 0,
    failures: 0,
    lastPassAt: null as number | null,
  };
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wakeUp: (() => void) | undefined;
  // Totals of a run of passes, logged once when the run ends.
  let runDeleted = 0;
  let runReclaimed = 0;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      wakeUp = () => {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      };
      timer = setTimeout(() => wakeUp?.(), ms);
    });

  const pass = async (): Promise<boolean> => {
    const policy = {
      ...(retentionDays === undefined ? {} : { receivedBeforeMs: now() - retentionDays * DAY_MS }),
      ...(maxDbBytes === undefined ? {} : { maxBytes: maxDbBytes }),
      maxRows: RETENTION_STEP_ROWS,
      reclaimBytes: RETENTION_RECLAIM_BYTES,
    };
    try {
      const outcome = await target.retention({ policy, maxPassMs: RETENTION_PASS_MS });
      counters.passes++;
      counters.deletedEvents += outcome.deleted;
      counters.reclaimedBytes += outcome.reclaimedBytes;
      counters.lastPassAt = now();
      runDeleted += outcome.deleted;
      runReclaimed += outcome.reclaimedBytes;
      if (!outcome.more && (runDeleted > 0 || runReclaimed > 0)) {
        log.info("Retention deleted old events", {
          events: runDeleted,
          reclaimedBytes: runReclaimed,
        });
        runDeleted = 0;
        runReclaimed = 0;
      }
      return outcome.more;
    } catch (error) {
      counters.failures++;
      log.warn("Retention pass failed", { error: (error as Error).message });
      return false;
    }
  };

  const running = enabled
    ? (async () => {
      while (!stopped) {
        const more = await pass();
        if (stopped) break;
        await pause(more ? RETENTION_BUSY_PAUSE_MS : intervalMs);
      }
    })()
    : Promise.resolve();

  return {
    enabled,
    stats: () => ({ ...counters }),
    wake: () => wakeUp?.(),
    stop: async () => {
      stopped = true;
      wakeUp?.();
      await running;
    },
  };
}
