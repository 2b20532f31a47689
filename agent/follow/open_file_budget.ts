/**
 * The open-files budget (`--max-open-files`): how many followed files the
 * agent keeps open at once while they can be opened again by their path.
 * When a follower opens one more than the budget allows, the follower whose
 * file was used longest ago, and that is not reading right now, closes its
 * file; it opens it again by its path when it next has something to read,
 * and checks there that the path still names the same file (device, inode
 * and first bytes; file_follower.ts).
 *
 * Operations that may open a file take a turn first ({@linkcode OpenFileBudget.enter}):
 * at most the budget's number of followers open or read at once, so a storm
 * of changes to many files at the same moment queues instead of running out
 * of descriptors while every open file is busy.
 *
 * A file the path no longer names (rotated, renamed, deleted, or a copy read
 * after a truncation) cannot be opened again by path: its handle is how its
 * rest is read, so it stays open outside the budget.
 *
 * @module
 */

/**
 * Default of `--max-open-files`: below the common soft limit of 1,024 file
 * descriptors per process, with room left for rotated files (outside the
 * budget), the directory watcher, the connection and the state files.
 */
export const DEFAULT_MAX_OPEN_FILES = 512;

/** A holder of one reopenable handle, as the budget sees it. */
export interface BudgetHolder {
  /**
   * Closes the handle if the holder is not using it now.
   *
   * @returns Whether it was closed.
   */
  release(): boolean;
}

/**
 * Counts reopenable open files and closes the least recently used beyond the limit.
 *
 * @example
 * ```ts
 * const budget = new OpenFileBudget(512);
 * budget.opened(follower); // may ask the least recently used others to close
 * budget.used(follower); // after each read
 * budget.closed(follower); // when it closes its file itself
 * ```
 */
export class OpenFileBudget {
  /** Most reopenable files open at once (exceeded only while every one is busy). */
  readonly maxOpenFiles: number;
  /** Holders with an open file, least recently used first (a Map keeps insertion order). */
  readonly #open = new Map<BudgetHolder, true>();
  /** Files closed to stay within the budget, since the start. */
  #evictions = 0;
  /** Operations holding a turn now. */
  #active = 0;
  /** Operations waiting for a turn, first come first served. */
  readonly #waiting: (() => void)[] = [];

  /**
   * @param maxOpenFiles The budget, at least 1.
   */
  constructor(maxOpenFiles: number) {
    if (!Number.isInteger(maxOpenFiles) || maxOpenFiles < 1) {
      throw new RangeError(`Cannot use an open-files budget of ${maxOpenFiles}`);
    }
    this.maxOpenFiles = maxOpenFiles;
  }

  /** Reopenable files open now. */
  get open(): number {
    return this.#open.size;
  }

  /** Files closed to stay within the budget, since the start. */
  get evictions(): number {
    return this.#evictions;
  }

  /** Operations holding a turn now (at most the budget). */
  get active(): number {
    return this.#active;
  }

  /**
   * Waits for a turn to run an operation that may open or read a file; at
   * most {@linkcode OpenFileBudget.maxOpenFiles} hold one at once.
   *
   * @returns Resolves once the turn is taken; give it back with {@linkcode OpenFileBudget.leave}.
   */
  enter(): Promise<void> {
    if (this.#active < this.maxOpenFiles) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives back a turn taken with {@linkcode OpenFileBudget.enter}: the next waiter gets it. */
  leave(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#active--;
  }

  /**
   * Records that a holder opened its file, then closes the least recently
   * used other files while over the budget.
   *
   * @param holder The holder.
   */
  opened(holder: BudgetHolder): void {
    this.#open.delete(holder);
    this.#open.set(holder, true);
    this.#trim(holder);
  }

  /**
   * Records that a holder used its file (it becomes the most recently used),
   * and closes others while over the budget (those busy when the budget
   * was exceeded).
   *
   * @param holder The holder.
   */
  used(holder: BudgetHolder): void {
    if (!this.#open.has(holder)) return;
    this.#open.delete(holder);
    this.#open.set(holder, true);
    this.#trim(holder);
  }

  /** Closes the least recently used files but `keep` while over the budget; busy ones stay. */
  #trim(keep: BudgetHolder): void {
    if (this.#open.size <= this.maxOpenFiles) return;
    for (const other of this.#open.keys()) {
      if (this.#open.size <= this.maxOpenFiles) break;
      if (other === keep || !other.release()) continue;
      this.#open.delete(other);
      this.#evictions++;
    }
  }

  /**
   * Records that a holder closed its file, or that its file can no longer
   * be reopened by path (it left the budget).
   *
   * @param holder The holder.
   */
  closed(holder: BudgetHolder): void {
    this.#open.delete(holder);
  }
}
