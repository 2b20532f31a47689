/**
 * Fair turns between the senders of batches. Each sender (an agent
 * connection, a syslog stream) queues its batches in a lane of its own, and
 * the pool takes them lane by lane, round-robin: a lane that has had its turn
 * goes to the back, so a flooding sender gets one batch through for each
 * batch of every other sender with one waiting, however many it has queued.
 *
 * @module
 */

/**
 * One sender's batches waiting for a pool worker, oldest first, and where its
 * batches in progress are. The pool sets {@linkcode worker} and
 * {@linkcode dispatched}; its batches stay on one worker while any is in
 * progress, which keeps them in order on their way to the writer.
 */
export class Lane<T> {
  /** Batches not handed to a worker yet, oldest first. */
  readonly waiting: T[] = [];
  /** The pool worker of the batches in progress (meaningful while {@linkcode dispatched} > 0). */
  worker = 0;
  /** Batches handed to a worker and not answered yet. */
  dispatched = 0;
  /** Whether the lane is in the ring of {@linkcode LaneTurns}. */
  queued = false;
}

/** A lane's turn: the lane and the item it gave up. */
export interface Turn<T> {
  readonly lane: Lane<T>;
  readonly item: T;
}

/**
 * The ring of lanes with a batch waiting, in turn order.
 *
 * @example
 * ```ts
 * const turns = new LaneTurns<string>();
 * const flood = turns.open();
 * const quiet = turns.open();
 * for (let i = 0; i < 30; i++) turns.push(flood, `flood ${i}`);
 * turns.push(quiet, "quiet");
 * turns.take(() => true)?.item; // "flood 0"
 * turns.take(() => true)?.item; // "quiet": one turn later, not thirty
 * ```
 */
export class LaneTurns<T> {
  readonly #ring: Lane<T>[] = [];
  #waiting = 0;

  /**
   * A new lane, for one sender.
   *
   * @returns An empty lane.
   */
  open(): Lane<T> {
    return new Lane<T>();
  }

  /** Batches waiting in all lanes. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Queues an item at the end of its lane; a lane that had none joins the
   * back of the ring.
   *
   * @param lane The sender's lane.
   * @param item The batch.
   */
  push(lane: Lane<T>, item: T): void {
    lane.waiting.push(item);
    this.#waiting++;
    if (!lane.queued) {
      lane.queued = true;
      this.#ring.push(lane);
    }
  }

  /**
   * Takes the oldest item of the first lane in turn that may run now. That
   * lane goes to the back of the ring if it has more; a lane that may not run
   * (its worker is full) keeps its place.
   *
   * @param mayRun Whether a lane's next item can be handed to a worker now.
   * @returns The lane and its item, or null when no lane may run.
   */
  take(mayRun: (lane: Lane<T>) => boolean): Turn<T> | null {
    for (let i = 0; i < this.#ring.length; i++) {
      const lane = this.#ring[i]!;
      if (!mayRun(lane)) continue;
      this.#ring.splice(i, 1);
      const item = lane.waiting.shift()!;
      this.#waiting--;
      if (lane.waiting.length > 0) this.#ring.push(lane);
      else lane.queued = false;
      return { lane, item };
    }
    return null;
  }

  /**
   * Empties every lane (the writer failed: nothing queued can be stored).
   *
   * @returns The items that were waiting.
   */
  clear(): T[] {
    const items: T[] = [];
    for (const lane of this.#ring.splice(0)) {
      items.push(...lane.waiting.splice(0));
      lane.queued = false;
    }
    this.#waiting = 0;
    return items;
  }
}
