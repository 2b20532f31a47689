/**
 * What the agent saves to resume exactly after a restart: the state file
 * (acknowledged offsets of every incarnation of every followed file) with
 * its change file, and the journal cursor file, all durable in the state
 * directory, and the coalescing of their saves after ACKs.
 *
 * @example
 * ```ts
 * import { Checkpoints } from "./mod.ts";
 * const checkpoints = new Checkpoints({ stateDir: "/var/lib/nms-agent", clock, logger }, content);
 * const saved = await checkpoints.loadState();
 * ```
 *
 * @module
 */

export {
  type CheckpointContent,
  Checkpoints,
  type CheckpointsOptions,
  DEFAULT_STATE_SAVE_INTERVAL_MS,
  type LoadedState,
} from "./checkpoints.ts";
export {
  type FileState,
  type IncarnationState,
  STATE_CHANGES_FILE_NAME,
  STATE_FILE_NAME,
  STATE_FILE_VERSION,
  StateFile,
  type StateFileStats,
} from "./state_file.ts";
export { JOURNAL_CURSOR_FILE_NAME, JournalCursorFile } from "./journal_cursor_file.ts";
