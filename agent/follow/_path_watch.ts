/**
 * Tells a follower when to look at its path: `Deno.watchFs` on the path's
 * parent directory, plus a slow poll for missed events, rotated files and a
 * directory that does not exist yet. The directory is watched rather than
 * the file, because a watch on the file follows its inode: after a rename it
 * reports the old file's writes and never the new file.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { basename, dirname } from "../_posix_path.ts";
import type { Clock, TimerId } from "../clock.ts";

/** What a {@linkcode PathWatch} reports. */
export interface PathWatchEvents {
  /**
   * The directory reported a change of the followed name, or that it lost
   * events.
   *
   * @param pathChanged The name may now point at another file (anything but
   *   a plain `modify`): the path must be checked.
   */
  changed(pathChanged: boolean): void;
  /** The poll interval passed: the path and the file's first bytes should be checked again. */
  poll(): void;
  /**
   * Something to warn about (the directory cannot be watched).
   *
   * @param message One sentence naming the directory.
   */
  problem(message: string): void;
}

/** Options of {@linkcode PathWatch}. */
export interface PathWatchOptions {
  /** Interval of the fallback poll, in milliseconds. */
  readonly pollIntervalMs: number;
  /** Timers. */
  readonly clock: Clock;
}

/**
 * Watches one path's directory and polls.
 *
 * @example
 * ```ts
 * const watch = new PathWatch("/var/log/syslog", { pollIntervalMs: 1_000, clock: SYSTEM_CLOCK }, {
 *   changed: (pathChanged) => console.log("look again", pathChanged),
 *   poll: () => console.log("poll"),
 *   problem: (message) => console.warn(message),
 * });
 * watch.start();
 * await watch.close();
 * ```
 */
export class PathWatch {
  readonly #dir: string;
  readonly #name: string;
  readonly #options: PathWatchOptions;
  readonly #events: PathWatchEvents;
  #watcher: Deno.FsWatcher | undefined;
  #watchLoop: Promise<void> | undefined;
  #pollTimer: TimerId | undefined;
  #closed = false;

  /**
   * @param path The followed path, absolute.
   * @param options Poll interval and clock.
   * @param events Receives the changes.
   */
  constructor(path: string, options: PathWatchOptions, events: PathWatchEvents) {
    this.#dir = dirname(path);
    this.#name = basename(path);
    this.#options = options;
    this.#events = events;
  }

  /** Starts watching (if the directory exists) and polling. Does nothing once closed. */
  start(): void {
    this.#startWatching();
    this.#schedulePoll();
  }

  /** Stops watching and polling. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#pollTimer !== undefined) this.#options.clock.clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#stopWatching();
    await this.#watchLoop;
  }

  #startWatching(): void {
    if (this.#closed || this.#watcher !== undefined) return;
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(this.#dir, { recursive: false });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#events.problem(`Cannot watch ${this.#dir}: ${errorMessage(error)}`);
      }
      return; // The poll retries, and covers for the watcher meanwhile.
    }
    this.#watcher = watcher;
    this.#watchLoop = this.#runWatcher(watcher);
  }

  #stopWatching(): void {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    if (watcher === undefined) return;
    try {
      watcher.close();
    } catch {
      // Already closed.
    }
  }

  async #runWatcher(watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        if (event.flag === "rescan") {
          this.#events.changed(true);
          continue;
        }
        if (!event.paths.some((path) => basename(path) === this.#name)) continue;
        // Writers that close after each write add an `access` event: nothing new.
        if (event.kind === "access") continue;
        this.#events.changed(event.kind !== "modify");
      }
    } catch (error) {
      if (!this.#closed) {
        this.#events.problem(`Watching ${this.#dir} failed: ${errorMessage(error)}`);
      }
    } finally {
      if (this.#watcher === watcher) this.#stopWatching();
    }
  }

  #schedulePoll(): void {
    if (this.#closed) return;
    this.#pollTimer = this.#options.clock.setTimeout(() => {
      this.#pollTimer = undefined;
      if (this.#closed) return;
      if (this.#watcher === undefined) this.#startWatching();
      this.#events.poll();
      this.#schedulePoll();
    }, this.#options.pollIntervalMs);
  }
}
