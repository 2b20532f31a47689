/**
 * What the agent saves to resume exactly after a restart: the state file
 * (acknowledged offsets of every incarnation of every followed file) and the
 * journal cursor file, both written atomically in the state directory, and
 * the coalescing of their saves after ACKs.
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
  STATE_FILE_NAME,
  STATE_FILE_VERSION,
  StateFile,
} from "./state_file.ts";
export { JOURNAL_CURSOR_FILE_NAME, JournalCursorFile } from "./journal_cursor_file.ts";
