/**
 * The ingest path behind the sockets: the pool of parsing workers, the single
 * writer worker that group-commits their batches, and what only they use
 * (decoding, packing, checkpoints, full-text index lag).
 *
 * ```
 * main (sockets) --batch--> pool worker i --parsed batch--> writer --results--> main (ACKs)
 * ```
 *
 * @module
 */

export {
  CPUS_RESERVED_FOR_WRITER,
  DEFAULT_TEXT_INDEX_MAX_LAG,
  defaultWorkerCount,
  type LoginOutcome,
  type LoginSecurity,
  MAX_BATCHES_IN_FLIGHT,
  WorkerPool,
  type WorkerPoolOptions,
} from "./worker_pool.ts";
export {
  type AgentLineBatch,
  type LineBatch,
  lineCount,
  type SyslogLineBatch,
  type SyslogOrigin,
} from "./line_batch.ts";
export { failureReason, failureStatus, mergeStatuses } from "./line_status.ts";
export { MAX_TEXT_INDEX_CATCHUP_SECONDS } from "./text_index_lag.ts";
export { type WireLines, WireLinesBuilder } from "./wire_lines.ts";
export {
  type LoginToken,
  type RetentionOutcome,
  type RetentionPass,
  type StoreLocation,
} from "./worker_messages.ts";
