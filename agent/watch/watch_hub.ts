/**
 * One `Deno.watchFs` for every directory the agent watches, with each event
 * handed to the listeners of its directory and name only. Deno 2.9 runs all
 * of a process's watchers on one inotify instance, but every watcher costs
 * the process on its own, idle or not, and a watcher per follower hears every
 * event of its directory (decisions/0014). So the hub keeps one watcher over
 * the set of directories its listeners asked for, and remakes it when that
 * set changes, starting the new one before closing the old, so no event
 * falls between them.
 *
 * Deno counts the watchers of a path: while one still holds a directory that
 * was removed, a new watcher of the re-created directory reports nothing.
 * A directory seen removed or renamed is therefore watched anew by a watcher
 * of its own, made after the old one is closed (the others stay watched
 * throughout), and merged into one watcher at the next change of the set.
 *
 * A directory that does not exist yet is not watched; it is looked for again
 * every `retryIntervalMs` (a cost in proportion to the missing directories
 * only), and its listeners hear "look again" once it is watched. Directories
 * beyond {@linkcode MAX_WATCHED_DIRS} are not watched at all: their
 * followers poll them (follow/_path_watch.ts) and the globs rescan them.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { basename, dirname } from "../_posix_path.ts";
import { type Clock, SYSTEM_CLOCK, type TimerId } from "../clock.ts";
import { type Logger, SILENT_LOGGER } from "../log.ts";

/**
 * Most directories the hub watches. Each costs one inotify watch (about
 * 1 KiB of kernel memory, at most `fs.inotify.max_user_watches` per user,
 * 8,192 on older kernels). Directories asked for beyond it are not watched
 * (logged once): their files are polled and the globs rescan them, so lines
 * there arrive up to a poll interval late.
 */
export const MAX_WATCHED_DIRS = 4_096;

/**
 * Delay between a change of the watched set and the remaking of the
 * watcher, in milliseconds: directories added together (a glob's matches at
 * start-up) cost one remake, not one each.
 */
export const WATCH_REBUILD_DELAY_MS = 20;

/** Interval at which missing directories are looked for again, in milliseconds. */
export const DEFAULT_WATCH_RETRY_INTERVAL_MS = 1_000;

/** What happened in a watched directory. */
export interface DirChange {
  /**
   * The entry's name, or undefined when anything in the directory may have
   * changed (events were lost, or the directory itself came or went).
   */
  readonly name: string | undefined;
  /**
   * `modify`: the entry's content changed (an append). `entry`: the name may
   * now point at another file or none (created, removed, renamed).
   */
  readonly kind: "modify" | "entry";
}

/** Receives the changes of one directory. */
export type DirListener = (change: DirChange) => void;

/** A listener's registration; closing it stops its events. */
export interface DirSubscription {
  /** Stops the listener's events; the directory is unwatched with its last listener. */
  close(): void;
}

/** Options of {@linkcode WatchHub}. */
export interface WatchHubOptions {
  /**
   * Interval at which missing directories are looked for again, in milliseconds.
   * @default {DEFAULT_WATCH_RETRY_INTERVAL_MS} (1 s)
   */
  readonly retryIntervalMs?: number;
  /**
   * Most directories watched.
   * @default {MAX_WATCHED_DIRS}
   */
  readonly maxWatchedDirs?: number;
  /**
   * Timers.
   * @default {SYSTEM_CLOCK}
   */
  readonly clock?: Clock;
  /**
   * Where a directory that cannot be watched is reported (once).
   * @default {SILENT_LOGGER}
   */
  readonly logger?: Logger;
}

/** The listeners of one directory. */
interface DirListeners {
  /** Listeners of every change. */
  readonly any: Set<DirListener>;
  /** Listeners of one entry's changes, by name. */
  readonly byName: Map<string, Set<DirListener>>;
  /** Listeners in all. */
  count: number;
}

/**
 * Watches many directories with one `Deno.watchFs`.
 *
 * @example
 * ```ts
 * const hub = new WatchHub();
 * const subscription = hub.watch("/var/log", (change) => console.log(change.name, change.kind));
 * subscription.close();
 * await hub.close();
 * ```
 */
export class WatchHub {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #retryIntervalMs: number;
  readonly #maxDirs: number;
  /** Listeners by directory, in the order the directories were first asked for. */
  readonly #listeners = new Map<string, DirListeners>();
  /** Directories the current watchers cover. */
  #watched = new Set<string>();
  /** Directories found missing; looked for again by the retry timer. */
  readonly #missing = new Set<string>();
  /** Watched directories removed or replaced since: the next remake watches them anew. */
  readonly #stale = new Set<string>();
  /**
   * The watchers running now (one, or two right after a directory was
   * watched anew), each with the loop reading its events.
   */
  #watchers = new Map<Deno.FsWatcher, Promise<void>>();
  #rebuildTimer: TimerId | undefined;
  #rebuilding = false;
  #retryTimer: TimerId | undefined;
  #retrying = false;
  #closed = false;
  #reportedFull = false;
  #lastProblem = "";

  /**
   * @param options Retry interval, limit, clock and logger.
   */
  constructor(options: WatchHubOptions = {}) {
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#retryIntervalMs = options.retryIntervalMs ?? DEFAULT_WATCH_RETRY_INTERVAL_MS;
    this.#maxDirs = options.maxWatchedDirs ?? MAX_WATCHED_DIRS;
  }

  /** Directories watched now. */
  get watchedDirs(): number {
    return this.#watched.size;
  }

  /**
   * Whether a directory is watched now (its changes are reported as they happen).
   *
   * @param dir An absolute directory path.
   * @returns True while a watcher covers it.
   */
  isWatched(dir: string): boolean {
    return this.#watched.has(dir);
  }

  /**
   * Reports the changes in a directory to a listener, from the next remake
   * of the watcher on (within {@linkcode WATCH_REBUILD_DELAY_MS}); the
   * listener then hears `{ name: undefined }` once, to look at what it cares
   * about again.
   *
   * @param dir An absolute directory path.
   * @param listener Receives the changes.
   * @param name Only changes of this entry (and `{ name: undefined }`), found
   *   without looking at the directory's other listeners; absent: every change.
   * @returns The subscription.
   */
  watch(dir: string, listener: DirListener, name?: string): DirSubscription {
    let listeners = this.#listeners.get(dir);
    if (listeners === undefined) {
      listeners = { any: new Set(), byName: new Map(), count: 0 };
      this.#listeners.set(dir, listeners);
      this.#scheduleRebuild();
    }
    if (name === undefined) {
      listeners.any.add(listener);
    } else {
      let named = listeners.byName.get(name);
      if (named === undefined) listeners.byName.set(name, named = new Set());
      named.add(listener);
    }
    listeners.count++;
    let open = true;
    return {
      close: () => {
        const current = this.#listeners.get(dir);
        if (!open || current !== listeners) return;
        open = false;
        if (name === undefined) {
          current.any.delete(listener);
        } else {
          const named = current.byName.get(name);
          named?.delete(listener);
          if (named?.size === 0) current.byName.delete(name);
        }
        if (--current.count > 0) return;
        this.#listeners.delete(dir);
        this.#missing.delete(dir);
        this.#scheduleRebuild();
      },
    };
  }

  /** Stops watching. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#rebuildTimer !== undefined) this.#clock.clearTimeout(this.#rebuildTimer);
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#rebuildTimer = this.#retryTimer = undefined;
    const watchers = this.#watchers;
    this.#watchers = new Map();
    for (const watcher of watchers.keys()) closeWatcher(watcher);
    await Promise.all(watchers.values());
  }

  /** Same as {@linkcode WatchHub.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #scheduleRebuild(): void {
    if (this.#closed || this.#rebuildTimer !== undefined) return;
    this.#rebuildTimer = this.#clock.setTimeout(() => {
      this.#rebuildTimer = undefined;
      void this.#rebuild();
    }, WATCH_REBUILD_DELAY_MS);
  }

  /** Watches the wanted directories that exist, then drops the old watchers. */
  async #rebuild(): Promise<void> {
    if (this.#closed) return;
    if (this.#rebuilding) {
      this.#scheduleRebuild();
      return;
    }
    this.#rebuilding = true;
    try {
      const wanted = this.#wanted();
      const stale = wanted.filter((dir) => this.#stale.has(dir));
      this.#stale.clear();
      if (
        stale.length === 0 && this.#watchers.size === 1 && sameMembers(wanted, this.#watched)
      ) {
        return;
      }
      const before = this.#watched;
      const staleSet = new Set(stale);
      // 1. Everything but the stale directories, before the old watchers
      // close: their watches never lapse.
      const kept = await this.#make(wanted.filter((dir) => !staleSet.has(dir)));
      const old = this.#watchers;
      this.#watchers = new Map();
      // 2. The old watchers go, and with them the dead watches of the stale
      // directories: Deno lets go of a path once the loops have ended.
      for (const watcher of old.keys()) closeWatcher(watcher);
      if (stale.length > 0) await Promise.all(old.values());
      // 3. The stale directories anew, if they exist again.
      const renewed = stale.length > 0 ? await this.#make(stale) : undefined;
      if (this.#closed) {
        for (const made of [kept, renewed]) if (made !== undefined) closeWatcher(made.watcher);
        return;
      }
      const watched = new Set<string>();
      for (const made of [kept, renewed]) {
        if (made === undefined) continue;
        this.#watchers.set(made.watcher, this.#run(made.watcher));
        for (const dir of made.dirs) watched.add(dir);
      }
      this.#watched = watched;
      // A directory removed, or watched for the first time: its listeners
      // look again, since changes before the watch began were not reported.
      for (const dir of watched) {
        if (!before.has(dir) || staleSet.has(dir)) {
          this.#notify(dir, { name: undefined, kind: "entry" });
        }
      }
    } finally {
      this.#rebuilding = false;
      this.#scheduleRetry();
    }
  }

  /** The directories to watch: those asked for, less the missing ones, up to the limit. */
  #wanted(): string[] {
    const wanted: string[] = [];
    for (const dir of this.#listeners.keys()) {
      if (this.#missing.has(dir)) continue;
      if (wanted.length >= this.#maxDirs) {
        if (!this.#reportedFull) {
          this.#reportedFull = true;
          this.#log.warn("too many directories to watch, the others are polled", {
            maxDirs: this.#maxDirs,
          });
        }
        break;
      }
      wanted.push(dir);
    }
    return wanted;
  }

  /**
   * A watcher over the directories that exist among `dirs`; the missing
   * ones are left to the retry timer.
   */
  async #make(dirs: string[]): Promise<{ watcher: Deno.FsWatcher; dirs: string[] } | undefined> {
    for (let attempt = 0; attempt < 3 && dirs.length > 0; attempt++) {
      try {
        return { watcher: Deno.watchFs(dirs, { recursive: false }), dirs };
      } catch (error) {
        if (
          !(error instanceof Deno.errors.NotFound) && !(error instanceof Deno.errors.NotADirectory)
        ) {
          this.#problem(`Cannot watch directories: ${errorMessage(error)}`);
          return undefined;
        }
        // One of them is gone: find which, and leave them to the retry timer.
        const present: string[] = [];
        for (const dir of dirs) {
          if (await isDirectory(dir)) present.push(dir);
          else this.#missing.add(dir);
        }
        dirs = present;
      }
    }
    return undefined;
  }

  async #run(watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        if (event.flag === "rescan") {
          // The kernel's queue overflowed: anything may have changed.
          for (const dir of this.#watched) this.#notify(dir, { name: undefined, kind: "entry" });
          continue;
        }
        // Writers that close after each write add an `access` event: nothing new.
        if (event.kind === "access") continue;
        const kind = event.kind === "modify" ? "modify" : "entry";
        for (const path of event.paths) {
          if (kind === "entry" && this.#listeners.has(path)) {
            // A watched directory itself was removed, renamed or created:
            // its watch (if any) is gone, so it is watched anew.
            this.#stale.add(path);
            this.#missing.delete(path);
            this.#scheduleRebuild();
            this.#notify(path, { name: undefined, kind });
          }
          this.#notify(dirname(path), { name: basename(path), kind });
        }
      }
    } catch (error) {
      if (!this.#closed && this.#watchers.has(watcher)) {
        this.#problem(`Watching directories failed: ${errorMessage(error)}`);
      }
    }
    if (!this.#closed && this.#watchers.delete(watcher)) {
      // The watcher ended on its own: make the set again.
      this.#watched = new Set();
      for (const other of this.#watchers.keys()) closeWatcher(other);
      this.#watchers = new Map();
      this.#scheduleRebuild();
    }
  }

  #notify(dir: string, change: DirChange): void {
    const listeners = this.#listeners.get(dir);
    if (listeners === undefined) return;
    for (const listener of listeners.any) listener(change);
    if (change.name !== undefined) {
      const named = listeners.byName.get(change.name);
      if (named !== undefined) { for (const listener of named) listener(change); }
    } else {
      for (const named of listeners.byName.values()) for (const listener of named) listener(change);
    }
  }

  /** Looks for missing directories again while there are any, or while nothing could be watched. */
  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    if (this.#missing.size === 0 && !this.#unwatched()) return;
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#retry();
    }, this.#retryIntervalMs);
  }

  async #retry(): Promise<void> {
    if (this.#retrying || this.#closed) return;
    this.#retrying = true;
    try {
      let found = false;
      for (const dir of [...this.#missing]) {
        if (await isDirectory(dir)) {
          this.#missing.delete(dir);
          found = true;
        }
      }
      if (found || this.#unwatched()) this.#scheduleRebuild();
      else this.#scheduleRetry();
    } finally {
      this.#retrying = false;
    }
  }

  /** Whether directories that exist are wanted but no watcher runs (it could not be made). */
  #unwatched(): boolean {
    return this.#watchers.size === 0 && this.#listeners.size > this.#missing.size;
  }

  #problem(message: string): void {
    if (message === this.#lastProblem) return;
    this.#lastProblem = message;
    this.#log.warn(message);
  }
}

function sameMembers(list: readonly string[], set: ReadonlySet<string>): boolean {
  if (list.length !== set.size) return false;
  for (const item of list) if (!set.has(item)) return false;
  return true;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

function closeWatcher(watcher: Deno.FsWatcher): void {
  try {
    watcher.close();
  } catch {
    // Already closed.
  }
}
