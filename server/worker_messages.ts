/**
 * The contract at the thread boundary: every message exchanged between the
 * main thread, the pool workers and the writer worker. Plain structured-clone
 * data; events always travel as batches, never one message per line.
 *
 * @module
 */

import type {
  AgentRegistration,
  EventBatch,
  HeartbeatRecord,
  Role,
  SyslogTransport,
} from "./store/store.ts";
import type { SyncMode } from "./store/sqlite_store.ts";
import type { LoginFailurePolicy } from "./store/security_store.ts";
import type { PrunePolicy } from "./store/store.ts";
import { FAIL, type FailReason } from "../protocol/mod.ts";
import type { WireLines } from "./wire_batch.ts";
import type { PackedBatch } from "./packed_batch.ts";
import type { TextIndexLagLimits } from "./text_index_lag.ts";
import type { BatchMatches } from "./rules/engine.ts";
import type { RuleSet } from "./rules/rule.ts";
import type { AlertNotice } from "./rules/alert_feed.ts";

/** How a worker opens its own connection to the store. */
export interface StoreLocation {
  /** Store URL for `openStore()`: `postgres://…`, `sqlite:PATH` or a SQLite file path. */
  readonly url: string;
  /** Commit durability (SQLite `synchronous`, PostgreSQL `synchronous_commit`). */
  readonly sync: SyncMode;
}

/** A batch of raw event lines from one connection, to be parsed and stored. */
export interface EventsJob {
  readonly kind: "events";
  readonly jobId: number;
  readonly receivedAt: number;
  readonly agentId: number | null;
  /** Host recorded when a line names none: the registered hostname or the client's IP. */
  readonly defaultHost: string;
  readonly lines: string[];
  /** Origin stream per line (`EVENT`), or null for `BATCH_EVENT`; null when no line has one. */
  readonly streams: (string | null)[] | null;
  /** Origin position per line, -1 without a stream; null when no line has one. */
  readonly positions: Float64Array | null;
  /** Set for lines from the syslog receiver (server/syslog/): who sent each line. */
  readonly syslog?: SyslogOrigin;
  /**
   * Protocol lines (`EVENT …` / `BATCH_EVENT …`) as bytes, for the worker to
   * decode and validate; used instead of `lines` by agent connections.
   */
  readonly wire?: WireLines;
}

/** The senders of a syslog batch. */
export interface SyslogOrigin {
  readonly transport: SyslogTransport;
  /** Distinct sender IP addresses of the batch. */
  readonly addresses: string[];
  /** Index into `addresses` per line, or null when every line comes from `addresses[0]`. */
  readonly senders: Uint16Array | null;
  /** Indexes of the lines that were cut to the size limit (usually none). */
  readonly truncated: number[];
  /** Lines that were not UTF-8 and are escaped (flag `escaped`). */
  readonly escaped?: number[];
}

/** A LOGIN to verify against the stored hash. */
export interface LoginJob {
  readonly kind: "login";
  readonly jobId: number;
  readonly username: string;
  readonly password: string;
  /** Client address, for the security event. */
  readonly address: string;
  readonly at: number;
  // --- Security (server/auth/lockout.ts, issue 5) ---
  /** Client IP without port: the lockout's address key. */
  readonly ip: string;
  /** Lockout policy, or null when the lockout is off. */
  readonly lockout: LoginFailurePolicy | null;
}

/** Messages from the main thread to a pool worker. */
export type PoolRequest =
  | {
    readonly kind: "init";
    readonly store: StoreLocation;
    readonly writer: MessagePort;
    /** Password verifications the worker runs at once (`loginConcurrency()`, worker_pool.ts). */
    readonly logins: number;
  }
  | EventsJob
  | LoginJob
  /** Detection rules to match with from now on (null: none); sent at start and on SIGHUP. */
  | { readonly kind: "rules"; readonly rules: RuleSet | null };

/** Messages from a pool worker to the main thread. */
export type PoolReply =
  /** The module has loaded and listens: start-up now times the store's opening. */
  | { readonly kind: "loaded" }
  | { readonly kind: "ready" }
  | { readonly kind: "init-failed"; readonly message: string }
  | {
    readonly kind: "login";
    readonly jobId: number;
    readonly ok: boolean;
    readonly userId: number | null;
    readonly role: Role | null;
    /** Refused without checking the password: the user or address is locked out. */
    readonly locked?: boolean;
    /** The agent token logged in with (`LOGIN @token …`), or null. */
    readonly token?: LoginToken | null;
  }
  | { readonly kind: "failed"; readonly jobId: number; readonly message: string };

/** What a connection keeps of the token it logged in with. */
export interface LoginToken {
  readonly id: string;
  readonly name: string;
  /** REGISTER must use this hostname when set. */
  readonly boundHostname: string | null;
}

/** A job id for writes whose completion nobody awaits (security events). */
export const NO_REPLY = -1;

/** Messages to the writer worker, from the main thread or a pool worker's port. */
export type WriterRequest =
  | {
    readonly kind: "init";
    readonly store: StoreLocation;
    /** See `WorkerPoolOptions.textIndexMaxLag` and `textIndexMaxCatchupSeconds` (worker_pool.ts). */
    readonly textIndexLag: TextIndexLagLimits;
  }
  | {
    readonly kind: "events";
    readonly jobId: number;
    readonly batch: EventBatch;
    /**
     * Per line of the job: 0 when the line is in `batch` (in order), else the
     * failure status from {@linkcode failureStatus}. Absent when all are in it.
     */
    readonly failures?: Uint8Array;
    /**
     * Rules the events matched (server/rules/): null when none did; absent when
     * not matched yet (NMS's own events), then the writer matches them.
     */
    readonly matches?: BatchMatches | null;
  }
  /**
   * The same as `events`, from a pool worker: the batch packed for transfer
   * (server/packed_batch.ts).
   */
  | {
    readonly kind: "packed-events";
    readonly jobId: number;
    readonly packed: PackedBatch;
    readonly failures?: Uint8Array;
    readonly matches?: BatchMatches | null;
  }
  /** Detection rules to correlate with from now on (null: none). */
  | { readonly kind: "rules"; readonly rules: RuleSet | null }
  | { readonly kind: "register"; readonly jobId: number; readonly registration: AgentRegistration }
  | { readonly kind: "heartbeat"; readonly jobId: number; readonly heartbeat: HeartbeatRecord }
  | { readonly kind: "bye"; readonly jobId: number; readonly agentId: number; readonly at: number }
  /** Retention (issue 10, server/retention.ts): one time-bounded pass of prune steps. */
  | { readonly kind: "retention"; readonly jobId: number; readonly pass: RetentionPass }
  | { readonly kind: "shutdown" };

/** One retention pass: prune steps between group commits until done or out of time. */
export interface RetentionPass {
  /** Limits and bounds of each step (`Store.pruneEvents`). */
  readonly policy: PrunePolicy;
  /** The pass stops after the step that ends past this many ms; the next pass goes on. */
  readonly maxPassMs: number;
}

/** What a retention pass did. */
export interface RetentionOutcome {
  readonly deleted: number;
  readonly reclaimedBytes: number;
  readonly steps: number;
  /** Whether another pass has work left. */
  readonly more: boolean;
}

/** The outcome of one job handled by the writer. */
export interface JobResult {
  readonly jobId: number;
  /** Per-event APPEND_STATUS for events jobs. */
  readonly statuses?: Uint8Array;
  /** Agent id for register jobs. */
  readonly agentId?: number;
  /** Outcome of retention jobs (issue 10). */
  readonly retention?: RetentionOutcome;
  /** Set when the job failed; the text is for the server log, never for clients. */
  readonly error?: string;
}

/** Messages from the writer worker to the main thread. */
export type WriterReply =
  /** The module has loaded and listens: start-up now times the store's opening. */
  | { readonly kind: "loaded" }
  | { readonly kind: "ready" }
  | { readonly kind: "init-failed"; readonly message: string }
  | { readonly kind: "done"; readonly results: JobResult[] }
  /** Alerts raised or folded by the last group commit (server/rules/). */
  | { readonly kind: "alerts"; readonly notices: AlertNotice[] }
  /** Something the server should log, e.g. alerts that could not be stored. */
  | { readonly kind: "warning"; readonly message: string }
  | { readonly kind: "closed" };

/** Every ACK FAIL reason, indexed for {@linkcode failureStatus}. */
const FAIL_REASONS: readonly FailReason[] = Object.values(FAIL);

/** Statuses from this value up mean the line was rejected (below: APPEND_STATUS). */
const FIRST_FAILURE_STATUS = 2;

/**
 * Encodes a rejected line's reason as a per-line status byte, so one status
 * array answers a whole batch.
 *
 * @param reason The ACK FAIL reason.
 * @returns A status of at least 2.
 * @example
 * ```ts
 * failureReason(failureStatus(FAIL.usageEvent)); // FAIL.usageEvent
 * ```
 */
export function failureStatus(reason: FailReason): number {
  return FIRST_FAILURE_STATUS + FAIL_REASONS.indexOf(reason);
}

/**
 * Decodes a per-line status byte.
 *
 * @param status A status from a job result.
 * @returns The ACK FAIL reason, or null when the line was stored or a duplicate.
 * @example
 * ```ts
 * failureReason(0); // null
 * ```
 */
export function failureReason(status: number): FailReason | null {
  return status < FIRST_FAILURE_STATUS ? null : FAIL_REASONS[status - FIRST_FAILURE_STATUS] ?? null;
}
