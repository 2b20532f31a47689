/**
 * Tells a follower when to look at its path: the directory watch of the
 * agent's {@linkcode WatchHub} (changes of the followed name, as they
 * happen), the agent's backstop {@linkcode Sweep} (a stat now and then, in
 * case an event was missed), and, only while the follower holds rotated
 * files, a poll every `pollIntervalMs` (a rotated file's new name is not
 * watched, and it is closed once idle). The directory is watched rather than
 * the file, because a watch on the file follows its inode: after a rename it
 * reports the old file's writes and never the new file.
 *
 * When the directory cannot be watched (it does not exist yet, the watch
 * limit is reached, or no watcher can be made), the sweep's stat is made
 * every `pollIntervalMs` instead, as long as that lasts: lines are then late
 * by up to that interval, and the cost grows with the files so affected.
 *
 * @module
 */

import { basename, dirname } from "../_posix_path.ts";
import type { Clock, TimerId } from "../clock.ts";
import type { DirSubscription, Sweep, WatchHub } from "../watch/mod.ts";

/** What a {@linkcode PathWatch} reports. */
export interface PathWatchEvents {
  /**
   * The directory reported a change of the followed name, or that anything
   * in it may have changed.
   *
   * @param pathChanged The name may now point at another file (anything but
   *   a plain `modify`): the path must be checked.
   */
  changed(pathChanged: boolean): void;
  /** The sweep's turn: a cheap look at the path (a stat), without opening the file. */
  sweep(): void;
  /** The poll interval passed while polling is on: the path and the files should be checked again. */
  poll(): void;
}

/** Options of {@linkcode PathWatch}. */
export interface PathWatchOptions {
  /** Interval of the poll while the follower holds rotated files, in milliseconds. */
  readonly pollIntervalMs: number;
  /** The agent's directory watcher. */
  readonly hub: WatchHub;
  /** The agent's backstop sweep. */
  readonly sweep: Sweep;
  /** Timers. */
  readonly clock: Clock;
}

/**
 * Watches one path through the hub, takes part in the sweep, and polls on demand.
 *
 * @example
 * ```ts
 * const watch = new PathWatch("/var/log/syslog", { pollIntervalMs: 1_000, hub, sweep, clock }, {
 *   changed: (pathChanged) => console.log("look again", pathChanged),
 *   sweep: () => console.log("stat the path"),
 *   poll: () => console.log("poll"),
 * });
 * watch.start();
 * watch.close();
 * ```
 */
export class PathWatch {
  readonly #dir: string;
  readonly #name: string;
  readonly #options: PathWatchOptions;
  readonly #events: PathWatchEvents;
  #subscription: DirSubscription | undefined;
  #leaveSweep: (() => void) | undefined;
  #pollTimer: TimerId | undefined;
  #polling = false;
  /** Timer of the stat made every `pollIntervalMs` while the directory is not watched. */
  #unwatchedTimer: TimerId | undefined;
  #closed = false;

  /**
   * @param path The followed path, absolute.
   * @param options Poll interval, hub, sweep and clock.
   * @param events Receives the changes.
   */
  constructor(path: string, options: PathWatchOptions, events: PathWatchEvents) {
    this.#dir = dirname(path);
    this.#name = basename(path);
    this.#options = options;
    this.#events = events;
  }

  /** Starts watching and sweeping. Does nothing once closed. */
  start(): void {
    if (this.#closed || this.#subscription !== undefined) return;
    this.#subscription = this.#options.hub.watch(this.#dir, (change) => {
      this.#events.changed(change.name === undefined || change.kind === "entry");
    }, this.#name);
    this.#leaveSweep = this.#options.sweep.add({
      check: () => {
        this.#events.sweep();
        this.#pollWhileUnwatched();
      },
    });
  }

  /**
   * Turns the poll on or off.
   *
   * @param on Whether to poll every `pollIntervalMs`.
   */
  setPolling(on: boolean): void {
    if (on === this.#polling) return;
    this.#polling = on;
    if (on) {
      this.#schedulePoll();
    } else if (this.#pollTimer !== undefined) {
      this.#options.clock.clearTimeout(this.#pollTimer);
      this.#pollTimer = undefined;
    }
  }

  /** Stops watching, sweeping and polling. Idempotent. */
  close(): void {
    this.#closed = true;
    this.setPolling(false);
    if (this.#unwatchedTimer !== undefined) this.#options.clock.clearTimeout(this.#unwatchedTimer);
    this.#unwatchedTimer = undefined;
    this.#subscription?.close();
    this.#subscription = undefined;
    this.#leaveSweep?.();
    this.#leaveSweep = undefined;
  }

  /** Stats the path every `pollIntervalMs` until its directory is watched. */
  #pollWhileUnwatched(): void {
    if (this.#closed || this.#unwatchedTimer !== undefined) return;
    if (this.#options.hub.isWatched(this.#dir)) return;
    this.#unwatchedTimer = this.#options.clock.setTimeout(() => {
      this.#unwatchedTimer = undefined;
      if (this.#closed || this.#options.hub.isWatched(this.#dir)) return;
      this.#events.sweep();
      this.#pollWhileUnwatched();
    }, this.#options.pollIntervalMs);
  }

  #schedulePoll(): void {
    if (this.#closed || !this.#polling || this.#pollTimer !== undefined) return;
    this.#pollTimer = this.#options.clock.setTimeout(() => {
      this.#pollTimer = undefined;
      if (this.#closed || !this.#polling) return;
      this.#events.poll();
      this.#schedulePoll();
    }, this.#options.pollIntervalMs);
  }
}
