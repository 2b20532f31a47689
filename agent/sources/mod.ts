/**
 * What the agent reads lines from: the followed files (literal paths and glob
 * matches) and the systemd journal, read in turn while the session's window
 * has room, with the line filter between them and the client.
 *
 * @example
 * ```ts
 * import { Sources } from "./mod.ts";
 * const sources = new Sources({ pollIntervalMs: 1_000, startAtEnd: true, exclude: [],
 *   filter: undefined, onChange: () => wake.notify(), signal, clock, logger });
 * ```
 *
 * @module
 */

export {
  type FileLag,
  type JournalSettings,
  Sources,
  type SourcesOptions,
  type SourcesStats,
} from "./sources.ts";
export { LineFilter, type LineFilterOptions } from "./line_filter.ts";
export { lineSeverity, parseSeverityName, readPri } from "./severity.ts";
export { GlobWatcher, type GlobWatcherOptions } from "./glob_watcher.ts";
export {
  compileGlob,
  compilePathGlob,
  ExcludeList,
  expandBraces,
  type GlobMatcher,
  globProblem,
  GLOBSTAR,
  hasGlobMagic,
  MAX_BRACE_EXPANSIONS,
} from "./path_glob.ts";
