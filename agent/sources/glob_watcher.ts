/**
 * Expands a `--path` glob into the files it matches now, and keeps watching
 * the directories involved so the agent learns at once when a matching file
 * appears: every directory a scan lists (the directories of the last
 * component, the ones a wildcard in the middle runs through, and every
 * directory under a `**`) is watched through the agent's
 * {@linkcode WatchHub}, non-recursively, so a new file or a new
 * sub-directory is reported and the next scan takes it in. A backstop rescan
 * covers for missed events, at an interval that grows with the number of
 * entries a scan lists, so its cost per second stays bounded.
 *
 * The watcher only says "look again" (`onChange`); the agent then calls
 * {@linkcode GlobWatcher.scan} and starts a follower for each new match.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { join } from "../_posix_path.ts";
import { type Clock, SYSTEM_CLOCK, type TimerId } from "../clock.ts";
import { type Logger, SILENT_LOGGER } from "../log.ts";
import { type DirSubscription, WatchHub } from "../watch/mod.ts";
import {
  compilePathGlob,
  ExcludeList,
  GLOBSTAR,
  type PathGlob,
  type PathGlobBranch,
} from "./path_glob.ts";

/** Least interval of the backstop rescan, in milliseconds. */
export const DEFAULT_GLOB_RESCAN_INTERVAL_MS = 1_000;
/**
 * Directory entries the backstop rescan lists per second at most: a pattern
 * whose scan lists more than this per `rescanIntervalMs` is rescanned less
 * often (every 4 s for 1,000 files, 40 s for 10,000), on top of every
 * change its directory watches report.
 */
export const GLOB_RESCAN_ENTRIES_PER_SECOND = 250;
/**
 * Most files one pattern expands to. Matches beyond it are ignored (and
 * logged once) so a pattern such as `/**` cannot follow a whole disk.
 */
export const MAX_GLOB_MATCHES = 20_000;
/**
 * Most directories one scan lists (wildcards in the middle of a pattern, and
 * `**`). Deeper or wider trees are cut there and logged once.
 */
export const MAX_GLOB_SCANNED_DIRS = 4_096;

/** Options of {@linkcode GlobWatcher}. */
export interface GlobWatcherOptions {
  /** Patterns whose matches are left out (`--exclude`). */
  exclude?: ExcludeList;
  /**
   * Least interval of the backstop rescan, in milliseconds.
   * @default {DEFAULT_GLOB_RESCAN_INTERVAL_MS} (1 s)
   */
  rescanIntervalMs?: number;
  /** Called when the set of matching files may have changed. */
  onChange?: () => void;
  /**
   * The directory watcher shared with the rest of the agent.
   * @default {a watcher of its own, closed with this one}
   */
  hub?: WatchHub;
  /**
   * Timers.
   * @default {SYSTEM_CLOCK}
   */
  clock?: Clock;
  /**
   * Where problems (unreadable directories, limits reached) are reported.
   * @default {SILENT_LOGGER}
   */
  logger?: Logger;
}

/**
 * Watches what one path pattern matches.
 *
 * @example
 * ```ts
 * const watcher = new GlobWatcher("/var/log/*.log", {
 *   exclude: new ExcludeList(["*.gz"]),
 *   onChange: () => console.log("look again"),
 * });
 * console.log(await watcher.scan()); // ["/var/log/auth.log", "/var/log/kern.log"]
 * watcher.start();
 * await watcher.close();
 * ```
 */
export class GlobWatcher {
  /** The pattern as given. */
  readonly pattern: string;
  readonly #glob: PathGlob;
  readonly #exclude: ExcludeList;
  readonly #options: GlobWatcherOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #hub: WatchHub;
  readonly #ownHub: boolean;
  readonly #subscriptions = new Map<string, DirSubscription>();
  #timer: TimerId | undefined;
  #closed = false;
  #started = false;
  /** Directories the last scan listed. */
  #listedDirs: readonly string[] = [];
  /** Entries the last scan listed, which sets the backstop's interval. */
  #listedEntries = 0;
  /** What the last scan matched. */
  #matches: readonly string[] = [];
  readonly #reported = new Set<string>();

  /**
   * @param pattern An absolute path with wildcards, e.g. `/var/log/*.log`.
   * @param options Excludes, callbacks and timers.
   * @throws {TypeError} When the pattern is not absolute, names no file, or cannot be used.
   */
  constructor(pattern: string, options: GlobWatcherOptions = {}) {
    this.pattern = pattern;
    this.#glob = compilePathGlob(pattern);
    this.#exclude = options.exclude ?? new ExcludeList();
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#ownHub = options.hub === undefined;
    this.#hub = options.hub ?? new WatchHub({ clock: this.#clock, logger: this.#log });
  }

  /** What the last {@linkcode GlobWatcher.scan} matched, sorted. */
  get matches(): readonly string[] {
    return this.#matches;
  }

  /** Milliseconds between two backstop rescans now. */
  get rescanIntervalMs(): number {
    const least = this.#options.rescanIntervalMs ?? DEFAULT_GLOB_RESCAN_INTERVAL_MS;
    return Math.max(least, this.#listedEntries * 1000 / GLOB_RESCAN_ENTRIES_PER_SECOND);
  }

  /**
   * Lists the regular files the pattern matches now (symbolic links to files
   * included), minus the excluded ones, and watches the directories listed
   * once {@linkcode GlobWatcher.start} ran. Never throws: unreadable
   * directories are skipped (and logged once).
   *
   * @returns Absolute paths, sorted.
   */
  async scan(): Promise<string[]> {
    const files = new Set<string>();
    const listed = new Map<string, Deno.DirEntry[]>();
    let entries = 0;
    const list = async (dir: string): Promise<Deno.DirEntry[] | undefined> => {
      const known = listed.get(dir);
      if (known !== undefined) return known;
      if (listed.size >= MAX_GLOB_SCANNED_DIRS) {
        this.#reportOnce("dirs", "pattern spans too many directories, some are not scanned", {
          pattern: this.pattern,
          maxDirs: MAX_GLOB_SCANNED_DIRS,
        });
        return undefined;
      }
      const found = await this.#list(dir);
      listed.set(dir, found);
      entries += found.length;
      return found;
    };
    let full = false;
    for (const branch of this.#glob.branches) {
      full = await this.#scanBranch(branch, list, files) || full;
      if (full) break;
    }
    this.#listedDirs = [...listed.keys()];
    this.#listedEntries = entries;
    if (this.#started) this.#watch(this.#listedDirs);
    this.#matches = [...files].sort();
    return [...this.#matches];
  }

  /**
   * Walks one branch: (directory, part) pairs, each visited once; a `**`
   * part stays on the directory (zero directories) and descends into every
   * sub-directory not starting with a dot (one more).
   *
   * @returns True when the match limit was reached.
   */
  async #scanBranch(
    branch: PathGlobBranch,
    list: (dir: string) => Promise<Deno.DirEntry[] | undefined>,
    files: Set<string>,
  ): Promise<boolean> {
    const parts = branch.parts;
    if (parts.length === 0) return false;
    const queue: [string, number][] = [[branch.base, 0]];
    const visited = new Set<string>();
    for (let q = 0; q < queue.length; q++) {
      const [dir, k] = queue[q]!;
      const key = `${k}\0${dir}`;
      if (visited.has(key)) continue;
      visited.add(key);
      const part = parts[k]!;
      const last = k === parts.length - 1;
      if (part === GLOBSTAR && !last) queue.push([dir, k + 1]);
      const entries = await list(dir);
      if (entries === undefined) continue;
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (part === GLOBSTAR) {
          if (entry.name.startsWith(".")) continue;
          // `**` does not follow symbolic links to directories, as in bash.
          if (entry.isDirectory) queue.push([path, k]);
          else if (last && this.#addFile(files, path, await isFileEntry(path, entry))) {
            return true;
          }
          continue;
        }
        if (!part.test(entry.name)) continue;
        if (last) {
          if (this.#addFile(files, path, await isFileEntry(path, entry))) return true;
        } else if (
          entry.isDirectory || (entry.isSymlink && (await statQuietly(path))?.isDirectory)
        ) {
          queue.push([path, k + 1]);
        }
      }
    }
    return false;
  }

  /**
   * Adds a matching file unless excluded.
   *
   * @returns True when the match limit is reached (the file is not added).
   */
  #addFile(files: Set<string>, path: string, isFile: boolean): boolean {
    if (!isFile || this.#exclude.excludes(path) || files.has(path)) return false;
    if (files.size >= MAX_GLOB_MATCHES) {
      this.#reportOnce("files", "pattern matches too many files, following the first ones", {
        pattern: this.pattern,
        maxFiles: MAX_GLOB_MATCHES,
      });
      return true;
    }
    files.add(path);
    return false;
  }

  /** Starts watching the directories found by the last scan, and the rescan timer. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#watch(this.#listedDirs);
    this.#schedule();
  }

  /** Stops watching. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const subscription of this.#subscriptions.values()) subscription.close();
    this.#subscriptions.clear();
    if (this.#ownHub) await this.#hub.close();
  }

  /** Same as {@linkcode GlobWatcher.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #list(dir: string): Promise<Deno.DirEntry[]> {
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) entries.push(entry);
    } catch (error) {
      if (
        !(error instanceof Deno.errors.NotFound) && !(error instanceof Deno.errors.NotADirectory)
      ) {
        this.#reportOnce(`list:${dir}`, "cannot list a directory of a path pattern", {
          pattern: this.pattern,
          dir,
          reason: errorMessage(error),
        });
      }
    }
    return entries;
  }

  /** Watches exactly the given directories, dropping the others. */
  #watch(dirs: readonly string[]): void {
    if (this.#closed) return;
    const wanted = new Set(dirs);
    for (const [dir, subscription] of this.#subscriptions) {
      if (wanted.has(dir)) continue;
      this.#subscriptions.delete(dir);
      subscription.close();
    }
    for (const dir of wanted) {
      if (this.#subscriptions.has(dir)) continue;
      this.#subscriptions.set(
        dir,
        this.#hub.watch(dir, (change) => {
          // Appends to files say nothing about which files exist.
          if (change.kind === "entry") this.#options.onChange?.();
        }),
      );
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#options.onChange?.();
      this.#schedule();
    }, this.rescanIntervalMs);
  }

  #reportOnce(key: string, message: string, fields: Record<string, string | number>): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#log.warn(message, fields);
  }
}

/** Whether a directory entry is a regular file, or a symbolic link to one. */
async function isFileEntry(path: string, entry: Deno.DirEntry): Promise<boolean> {
  return entry.isFile || (entry.isSymlink && (await statQuietly(path))?.isFile === true);
}

async function statQuietly(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch {
    return undefined;
  }
}
