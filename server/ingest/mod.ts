/**
 * The ingest path behind the sockets: the pool of workers that parse batches
 * of lines (`worker_pool.ts`, `pool_worker.ts`, `parse_lines.ts`), the single
 * writer that group-commits them (`writer.ts`, `writer_worker.ts`,
 * `group_commit.ts`), and what only they use.
 *
 * ```
 * main (sockets) --LineBatch--> pool worker i --EventBatch--> writer --commit--> main (ACKs)
 * ```
 *
 * @module
 */

export { type AgentLineBatch, type LineBatch, type SyslogLineBatch } from "./line_batch.ts";
export { failureReason } from "./line_status.ts";
export { MAX_TEXT_INDEX_CATCHUP_SECONDS } from "./text_index_lag.ts";
export { type TextIndexCatchup, watchTextIndexCatchup } from "./text_index_catchup.ts";
export {
  BATCH_BUFFERS,
  SMALL_BATCH_BUFFERS,
  type WireLines,
  WireLinesBuilder,
} from "./wire_lines.ts";
export {
  type LoginOutcome,
  type LoginToken,
  type RetentionOutcome,
  type RetentionPass,
  type StoreLocation,
} from "./worker_messages.ts";
export {
  batchCredits,
  CPUS_RESERVED_FOR_WRITER,
  defaultWorkerCount,
  type IngestLane,
  type LoginSecurity,
  MAX_BATCHES_PER_WORKER,
  MAX_CREDITS_IN_FLIGHT,
  WorkerPool,
  type WorkerPoolOptions,
} from "./worker_pool.ts";
export {
  type CommitListener,
  DEFAULT_TEXT_INDEX_MAX_LAG,
  Writer,
  type WriterOptions,
} from "./writer.ts";
