/**
 * One followed file: the follower reads a path by byte offsets, through
 * rotation and truncation, as a chain of incarnations (one inode, one stream
 * id each), found again after a restart by device, inode and fingerprint.
 *
 * @example
 * ```ts
 * import { FileFollower } from "./mod.ts";
 * const follower = new FileFollower("/var/log/syslog", { onChange: () => wake() });
 * await follower.start();
 * ```
 *
 * @module
 */

export {
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_READ_BUFFER_BYTES,
  DEFAULT_ROTATED_IDLE_MS,
  FileFollower,
  type FileFollowerOptions,
  type FollowerStats,
  GAP_REASON_ROTATED_WHILE_CLOSED,
  type LineConsumer as FollowerConsumer,
  lineStartBefore,
} from "./file_follower.ts";
export {
  type FileIdentity,
  FINGERPRINT_BYTES,
  fingerprintOf,
  readFileIdentity,
  sameFile,
} from "./file_identity.ts";
export { Incarnation, IncarnationFactory, type IncarnationStart } from "./incarnation.ts";
export { newStreamId, STREAM_ID_BYTES } from "./stream_id.ts";
export { type BudgetHolder, DEFAULT_MAX_OPEN_FILES, OpenFileBudget } from "./open_file_budget.ts";
export { MAX_POOLED_READ_BUFFERS, ReadBufferPool } from "./read_buffers.ts";
