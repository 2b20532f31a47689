/**
 * Expands a `--path` glob into the files it matches now, and keeps watching
 * the directories involved so the agent learns at once when a matching file
 * appears: `Deno.watchFs` on each directory whose entries the last component
 * matches (non-recursive: a directory watch reports the files created,
 * renamed and removed in it), plus a periodic rescan for missed events and
 * for new directories matched by a wildcard in the middle of the pattern.
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
import { compilePathGlob, ExcludeList, type PathGlob } from "./path_glob.ts";

/** Interval of the fallback rescan, in milliseconds: the longest a missed event delays a new file. */
export const DEFAULT_GLOB_RESCAN_INTERVAL_MS = 1_000;
/**
 * Most files one pattern expands to. Matches beyond it are ignored (and
 * logged once) so a pattern such as `/*` cannot open thousands of files.
 */
export const MAX_GLOB_MATCHES = 1_000;
/**
 * Most directories one scan lists (for wildcards in the middle of a pattern).
 * Deeper or wider trees are cut there and logged once.
 */
export const MAX_GLOB_SCANNED_DIRS = 1_000;
/**
 * Most directories watched per pattern. Inotify instances are a scarce
 * per-user resource (128 by default on Linux); beyond this the rescan
 * interval alone finds new files.
 */
export const MAX_GLOB_WATCHED_DIRS = 32;

/** Options of {@linkcode GlobWatcher}. */
export interface GlobWatcherOptions {
  /** Patterns whose matches are left out (`--exclude`). */
  exclude?: ExcludeList;
  /**
   * Interval of the fallback rescan, in milliseconds.
   * @default {DEFAULT_GLOB_RESCAN_INTERVAL_MS} (1 s)
   */
  rescanIntervalMs?: number;
  /** Called when the set of matching files may have changed. */
  onChange?: () => void;
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
  readonly #watchers = new Map<string, { watcher: Deno.FsWatcher; loop: Promise<void> }>();
  #timer: TimerId | undefined;
  #closed = false;
  #started = false;
  /** Directories the last scan listed for the last component. */
  #leafDirs: readonly string[] = [];
  readonly #reported = new Set<string>();

  /**
   * @param pattern An absolute path with wildcards, e.g. `/var/log/*.log`.
   * @param options Excludes, callbacks and timers.
   * @throws {TypeError} When the pattern is not absolute or names no file.
   */
  constructor(pattern: string, options: GlobWatcherOptions = {}) {
    this.pattern = pattern;
    this.#glob = compilePathGlob(pattern);
    this.#exclude = options.exclude ?? new ExcludeList();
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#log = options.logger ?? SILENT_LOGGER;
  }

  /**
   * Lists the regular files the pattern matches now (symbolic links to files
   * included), minus the excluded ones, and watches the directories they
   * are in once {@linkcode GlobWatcher.start} ran. Never throws: unreadable
   * directories are skipped (and logged once).
   *
   * @returns Absolute paths, sorted.
   */
  async scan(): Promise<string[]> {
    const parts = this.#glob.parts;
    let dirs = [this.#glob.base];
    let listed = 0;
    for (let k = 0; k < parts.length - 1 && dirs.length > 0; k++) {
      const next: string[] = [];
      for (const dir of dirs) {
        if (++listed > MAX_GLOB_SCANNED_DIRS) {
          this.#reportOnce("dirs", "pattern spans too many directories, some are not scanned", {
            pattern: this.pattern,
            maxDirs: MAX_GLOB_SCANNED_DIRS,
          });
          break;
        }
        for (const entry of await this.#list(dir)) {
          if (!parts[k]!.test(entry.name)) continue;
          const path = join(dir, entry.name);
          if (entry.isDirectory || (entry.isSymlink && (await statQuietly(path))?.isDirectory)) {
            next.push(path);
          }
        }
      }
      dirs = next;
    }
    const last = parts.at(-1)!;
    const files: string[] = [];
    outer: for (const dir of dirs) {
      for (const entry of await this.#list(dir)) {
        if (!last.test(entry.name)) continue;
        const path = join(dir, entry.name);
        if (this.#exclude.excludes(path)) continue;
        if (!entry.isFile && !(entry.isSymlink && (await statQuietly(path))?.isFile)) continue;
        if (files.length >= MAX_GLOB_MATCHES) {
          this.#reportOnce("files", "pattern matches too many files, following the first ones", {
            pattern: this.pattern,
            maxFiles: MAX_GLOB_MATCHES,
          });
          break outer;
        }
        files.push(path);
      }
    }
    this.#leafDirs = dirs;
    if (this.#started) this.#watch(dirs);
    return files.sort();
  }

  /** Starts watching the directories found by the last scan, and the rescan timer. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#watch(this.#leafDirs);
    this.#schedule();
  }

  /** Stops watching. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const loops = [...this.#watchers.values()];
    this.#watchers.clear();
    for (const { watcher } of loops) closeWatcher(watcher);
    await Promise.all(loops.map((l) => l.loop));
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

  /** Watches exactly the given directories (up to the limit), dropping the others. */
  #watch(dirs: readonly string[]): void {
    if (this.#closed) return;
    const wanted = new Set(dirs.slice(0, MAX_GLOB_WATCHED_DIRS));
    for (const [dir, { watcher }] of this.#watchers) {
      if (!wanted.has(dir)) {
        this.#watchers.delete(dir);
        closeWatcher(watcher);
      }
    }
    for (const dir of wanted) {
      if (this.#watchers.has(dir)) continue;
      let watcher: Deno.FsWatcher;
      try {
        watcher = Deno.watchFs(dir, { recursive: false });
      } catch (error) {
        // The rescan covers for a directory that cannot be watched.
        this.#reportOnce(`watch:${dir}`, "cannot watch a directory, rescanning instead", {
          dir,
          reason: errorMessage(error),
        });
        continue;
      }
      this.#watchers.set(dir, { watcher, loop: this.#run(dir, watcher) });
    }
  }

  async #run(dir: string, watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        // Appends to followed files (`modify`, `access`) say nothing about new files.
        if (event.kind === "modify" || event.kind === "access") continue;
        this.#options.onChange?.();
      }
    } catch {
      // A vanished directory ends its watch; the rescan finds it again if it comes back.
    } finally {
      if (this.#watchers.get(dir)?.watcher === watcher) this.#watchers.delete(dir);
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#options.onChange?.();
      this.#schedule();
    }, this.#options.rescanIntervalMs ?? DEFAULT_GLOB_RESCAN_INTERVAL_MS);
  }

  #reportOnce(key: string, message: string, fields: Record<string, string | number>): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#log.warn(message, fields);
  }
}

async function statQuietly(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch {
    return undefined;
  }
}

function closeWatcher(watcher: Deno.FsWatcher): void {
  try {
    watcher.close();
  } catch {
    // Already closed.
  }
}
