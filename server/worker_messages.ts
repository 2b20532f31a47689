/**
 * The contract at the thread boundary: every message exchanged between the
 * main thread, the pool workers and the writer worker. Plain structured-clone
 * data; events always travel as batches, never one message per line.
 *
 * @module
 */

import type { AgentRegistration, EventBatch, HeartbeatRecord, Role } from "./store/store.ts";
import type { SyncMode } from "./store/sqlite_store.ts";

/** How a worker opens its own connection to the store. */
export interface StoreLocation {
  readonly dbPath: string;
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
}

/** Messages from the main thread to a pool worker. */
export type PoolRequest =
  | { readonly kind: "init"; readonly store: StoreLocation; readonly writer: MessagePort }
  | EventsJob
  | LoginJob;

/** Messages from a pool worker to the main thread. */
export type PoolReply =
  | { readonly kind: "ready" }
  | { readonly kind: "init-failed"; readonly message: string }
  | {
    readonly kind: "login";
    readonly jobId: number;
    readonly ok: boolean;
    readonly userId: number | null;
    readonly role: Role | null;
  }
  | { readonly kind: "failed"; readonly jobId: number; readonly message: string };

/** A job id for writes whose completion nobody awaits (security events). */
export const NO_REPLY = -1;

/** Messages to the writer worker, from the main thread or a pool worker's port. */
export type WriterRequest =
  | { readonly kind: "init"; readonly store: StoreLocation }
  | { readonly kind: "events"; readonly jobId: number; readonly batch: EventBatch }
  | { readonly kind: "register"; readonly jobId: number; readonly registration: AgentRegistration }
  | { readonly kind: "heartbeat"; readonly jobId: number; readonly heartbeat: HeartbeatRecord }
  | { readonly kind: "bye"; readonly jobId: number; readonly agentId: number; readonly at: number }
  | { readonly kind: "shutdown" };

/** The outcome of one job handled by the writer. */
export interface JobResult {
  readonly jobId: number;
  /** Per-event APPEND_STATUS for events jobs. */
  readonly statuses?: Uint8Array;
  /** Agent id for register jobs. */
  readonly agentId?: number;
  /** Set when the job failed; the text is for the server log, never for clients. */
  readonly error?: string;
}

/** Messages from the writer worker to the main thread. */
export type WriterReply =
  | { readonly kind: "ready" }
  | { readonly kind: "init-failed"; readonly message: string }
  | { readonly kind: "done"; readonly results: JobResult[] }
  | { readonly kind: "closed" };
