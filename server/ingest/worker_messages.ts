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
  LoginFailurePolicy,
  PrunePolicy,
  Role,
  SyncMode,
} from "../store/mod.ts";
import type { LoginEvent } from "../auth/mod.ts";
import type { AlertNotice, BatchMatches, RuleSet } from "../rules/mod.ts";
import type { LineBatch } from "./line_batch.ts";
import type { PackedGroup } from "./packed_batch.ts";
import type { TextIndexLagLimits } from "./text_index_lag.ts";

/** How a worker opens its own connection to the store. */
export interface StoreLocation {
  /** Store URL for `openStore()`: `postgres://…`, `sqlite:PATH` or a SQLite file path. */
  readonly url: string;
  /** Commit durability (SQLite `synchronous`, PostgreSQL `synchronous_commit`). */
  readonly sync: SyncMode;
}

/** A job id for writes whose completion nobody awaits (NMS's own events). */
export const NO_REPLY = -1;

// --- main thread ⇄ pool worker ---

/** A batch of lines for a pool worker to parse and hand to the writer. */
export interface ParseItem {
  readonly jobId: number;
  readonly batch: LineBatch;
}

/**
 * Batches of several senders for one pool worker, in the order they are
 * parsed and handed to the writer: one message for many small batches.
 */
export interface ParseJob {
  readonly kind: "parse";
  readonly items: readonly ParseItem[];
}

/**
 * How a pool worker dealt with one batch of a {@linkcode ParseJob}.
 * `rejected`: the lines the worker rejected, per line 0 when it went to the
 * writer, else its failure status (`line_status.ts`); null when none was,
 * since the writer's statuses then answer every line. `error`: the batch could
 * not be parsed at all.
 */
export interface ParsedItem {
  readonly jobId: number;
  readonly rejected: Uint8Array | null;
  readonly error?: string;
}

/** A LOGIN to verify against the stored hash or token. */
export interface LoginJob {
  readonly kind: "login";
  readonly jobId: number;
  readonly username: string;
  readonly password: string;
  /** Client address, for the security event. */
  readonly address: string;
  readonly at: number;
  /** Client IP without port: the lockout's address key. */
  readonly ip: string;
  /** Lockout policy (server/auth/lockout.ts), or null when the lockout is off. */
  readonly lockout: LoginFailurePolicy | null;
}

/** Messages from the main thread to a pool worker. */
export type PoolRequest =
  | {
    readonly kind: "init";
    readonly store: StoreLocation;
    /** The pool worker's end of its channel to the writer. */
    readonly writer: MessagePort;
    /** Password verifications the worker runs at once (`loginConcurrency()`, worker_pool.ts). */
    readonly logins: number;
  }
  | ParseJob
  | LoginJob
  /** Detection rules to match with from now on (null: none); sent at start and on SIGHUP. */
  | { readonly kind: "rules"; readonly rules: RuleSet | null };

/** What a connection keeps of the token it logged in with. */
export interface LoginToken {
  readonly id: string;
  readonly name: string;
  /** REGISTER must use this hostname when set. */
  readonly boundHostname: string | null;
}

/** Result of a LOGIN verified by a pool worker: the reply's body and what `WorkerPool.login` resolves to. */
export interface LoginOutcome {
  readonly ok: boolean;
  readonly userId: number | null;
  readonly role: Role | null;
  /** Refused without checking the password: the user or address is locked out. */
  readonly locked?: boolean;
  /** The agent token logged in with (`LOGIN @token …`), or null. */
  readonly token?: LoginToken | null;
  /** Whether a password was checked with scrypt (for `nms_password_checks_total`). */
  readonly checked?: boolean;
  /** Security events of the attempt, stored by the main thread through a `LoginEventGate` within their budget. */
  readonly events?: readonly LoginEvent[];
  /** Version of the user's credential at login (`credentialStamp()`); null for a token. */
  readonly credential?: string | null;
}

/** Messages from a pool worker to the main thread. */
export type PoolReply =
  /** The module has loaded and listens: start-up now times the store's opening. */
  | { readonly kind: "loaded" }
  | { readonly kind: "ready" }
  | { readonly kind: "init-failed"; readonly message: string }
  | { readonly kind: "login"; readonly jobId: number } & LoginOutcome
  /**
   * The batches of a {@linkcode ParseJob} are parsed (the worker can take
   * another message), and their lines are on their way to the writer.
   * `items`: only the batches with a line rejected or that failed; the
   * writer's statuses answer every line of the others.
   */
  | { readonly kind: "parsed"; readonly items: readonly ParsedItem[] }
  | { readonly kind: "failed"; readonly jobId: number; readonly message: string };

// --- pool worker → writer, on the pool worker's own port ---

/**
 * The parsed events of one {@linkcode ParseJob}'s batches, packed together
 * for the crossing (`packed_batch.ts`): a pool worker posts one per job to the
 * writer, which unpacks it as it arrives.
 */
export interface ParsedGroup {
  readonly group: PackedGroup;
  /** Per batch of the group, in order. */
  readonly jobs: readonly ParsedJob[];
}

/** The job of one batch of a {@linkcode ParsedGroup}. */
export interface ParsedJob {
  /** The pool's job id, or {@linkcode NO_REPLY}. */
  readonly jobId: number;
  /**
   * Rules the events matched (server/rules/): null when none did; absent when
   * not matched yet (NMS's own events), then the writer matches them.
   */
  readonly matches?: BatchMatches | null;
}

// --- main thread ⇄ writer worker ---

/** A node's change, applied by the writer after the events of its group. */
export type AgentWrite =
  | { readonly kind: "register"; readonly jobId: number; readonly registration: AgentRegistration }
  | { readonly kind: "heartbeat"; readonly jobId: number; readonly heartbeat: HeartbeatRecord }
  | { readonly kind: "bye"; readonly jobId: number; readonly agentId: number; readonly at: number }
  /** Its last connection closed without BYE (`lastContact`: see `AgentChange`); nobody awaits it. */
  | {
    readonly kind: "disconnect";
    readonly jobId: number;
    readonly agentId: number;
    readonly at: number;
    readonly lastContact: number;
  };

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

/** Messages from the main thread to the writer worker. */
export type WriterRequest =
  | {
    readonly kind: "init";
    readonly store: StoreLocation;
    /** See `WriterOptions.textIndexMaxLag` and `textIndexMaxCatchupSeconds` (writer.ts). */
    readonly textIndexLag: TextIndexLagLimits;
  }
  /** A pool worker's channel, on which its {@linkcode PackedEvents} arrive. */
  | { readonly kind: "port"; readonly port: MessagePort }
  /** Events NMS produced itself: stored with the next group, nobody awaits them. */
  | { readonly kind: "record"; readonly batch: EventBatch }
  /** Detection rules to correlate with from now on (null: none). */
  | { readonly kind: "rules"; readonly rules: RuleSet | null }
  | AgentWrite
  /** Lost connections of several nodes at once (`server/liveness/agent_liveness.ts`); nobody awaits them. */
  | { readonly kind: "disconnects"; readonly writes: readonly AgentWrite[] }
  /** One time-bounded pass of prune steps (server/retention.ts). */
  | { readonly kind: "retention"; readonly jobId: number; readonly pass: RetentionPass }
  | { readonly kind: "shutdown" };

/** How a pool batch's group commit went. */
export type BatchCommit =
  /** One `APPEND_STATUS` per event the writer was given, in order. */
  | { readonly jobId: number; readonly statuses: Uint8Array }
  /** Nothing was stored; the text is for the server log, never for clients. */
  | { readonly jobId: number; readonly error: string };

/** How one of the writer's own jobs went. */
export interface WriteResult {
  readonly jobId: number;
  /** Agent id for register jobs. */
  readonly agentId?: number;
  /** Outcome of retention jobs. */
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
  /**
   * Pool batches of the last group commit, with the seconds the group took in
   * the writer (its transaction and node changes), for `/metrics`.
   */
  | { readonly kind: "committed"; readonly results: BatchCommit[]; readonly seconds?: number }
  /**
   * The writer's own jobs; `seconds` as for `committed` when they end a group
   * commit that had no pool batch (node changes only).
   */
  | { readonly kind: "done"; readonly results: WriteResult[]; readonly seconds?: number }
  /** Alerts raised or folded by the last group commit (server/rules/). */
  | { readonly kind: "alerts"; readonly notices: AlertNotice[] }
  /** Something the server should log, e.g. alerts that could not be stored. */
  | { readonly kind: "warning"; readonly message: string }
  | { readonly kind: "closed" };
