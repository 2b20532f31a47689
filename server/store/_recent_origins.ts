/**
 * The origins (stream id and position) of the events the SQLite store stored
 * above `deferred_indexed_upto`, which `logs_by_origin` does not hold yet
 * (sqlite_deferred_indexes.ts). With that index they answer, without a scan,
 * whether a resent line is already stored.
 *
 * The store's one appending connection keeps them: it adds each origin it
 * stores, forgets those of a transaction that rolled back, and drops a
 * commit's origins once a step of the index has passed the commit's last row.
 *
 * @module
 */

/** Origins of one committed transaction, in pairs, and its highest row id. */
interface Commit {
  readonly lastId: number;
  readonly origins: number[];
}

/** Origins stored above the index of origins; see the module documentation. */
export class RecentOrigins {
  readonly #byStream = new Map<number, Set<number>>();
  readonly #commits: Commit[] = [];
  /** Origins added by the transaction in progress, in pairs. */
  #open: number[] = [];
  #count = 0;

  /** Origins held: about the events above the index, at most a step or two of them. */
  get size(): number {
    return this.#count;
  }

  /**
   * Whether the origin was stored (committed, or earlier in the open transaction).
   *
   * @param stream Stream row id.
   * @param position Position in the stream.
   * @returns Whether it is held.
   */
  has(stream: number, position: number): boolean {
    return this.#byStream.get(stream)?.has(position) ?? false;
  }

  /**
   * Highest position held for a stream.
   *
   * @param stream Stream row id.
   * @returns The highest position, or -1 when none is held.
   */
  highest(stream: number): number {
    let highest = -1;
    for (const position of this.#byStream.get(stream) ?? []) {
      if (position > highest) highest = position;
    }
    return highest;
  }

  /**
   * Adds an origin stored by the open transaction.
   *
   * @param stream Stream row id.
   * @param position Position in the stream.
   */
  add(stream: number, position: number): void {
    let positions = this.#byStream.get(stream);
    if (positions === undefined) this.#byStream.set(stream, positions = new Set());
    positions.add(position);
    this.#open.push(stream, position);
    this.#count++;
  }

  /**
   * The open transaction committed: its origins stay until the index passes `lastId`.
   *
   * @param lastId The highest row id when it committed.
   */
  commit(lastId: number): void {
    if (this.#open.length === 0) return;
    this.#commits.push({ lastId, origins: this.#open });
    this.#open = [];
  }

  /** The open transaction rolled back: its origins were never stored. */
  rollback(): void {
    this.#remove(this.#open);
    this.#open = [];
  }

  /**
   * The index now holds every row up to `upto`: drops the origins of the
   * commits it has passed.
   *
   * @param upto The new `deferred_indexed_upto`.
   */
  indexedUpTo(upto: number): void {
    let passed = 0;
    while (passed < this.#commits.length && this.#commits[passed]!.lastId <= upto) {
      this.#remove(this.#commits[passed]!.origins);
      passed++;
    }
    this.#commits.splice(0, passed);
  }

  #remove(origins: readonly number[]): void {
    for (let i = 0; i < origins.length; i += 2) {
      const positions = this.#byStream.get(origins[i]!);
      if (positions?.delete(origins[i + 1]!)) this.#count--;
      if (positions?.size === 0) this.#byStream.delete(origins[i]!);
    }
  }
}
