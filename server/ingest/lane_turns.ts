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

/** What {@linkcode LaneTurns.takeRound} does with a lane: take its next item, pass it by, or end. */
export type RoundStep = "take" | "skip" | "stop";

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
  /** Lanes in turn order from {@linkcode #head}; the slots before it are spent. */
  #ring: Lane<T>[] = [];
  #head = 0;
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
    const [turn] = this.takeRound((lane, taken) =>
      taken > 0 ? "stop" : mayRun(lane) ? "take" : "skip"
    );
    return turn ?? null;
  }

  /**
   * One pass over the ring in turn order: `step` decides for each lane
   * whether its oldest item is taken, the lane is passed by, or the pass ends.
   * Lanes passed by keep their place; lanes taken from go to the back if they
   * have more, after every lane of this pass. Each lane is looked at once, so
   * taking many items costs one walk of the ring, however many lanes are
   * passed by.
   *
   * @param step Decides for a lane, given how many items were taken so far.
   * @returns The turns taken, in order.
   */
  takeRound(step: (lane: Lane<T>, taken: number) => RoundStep): Turn<T>[] {
    const ring = this.#ring;
    const taken: Turn<T>[] = [];
    const passed: Lane<T>[] = [];
    const again: Lane<T>[] = [];
    let i = this.#head;
    for (; i < ring.length; i++) {
      const lane = ring[i]!;
      const decision = step(lane, taken.length);
      if (decision === "stop") break;
      if (decision === "skip") {
        passed.push(lane);
        continue;
      }
      taken.push({ lane, item: lane.waiting.shift()! });
      this.#waiting--;
      if (lane.waiting.length > 0) again.push(lane);
      else lane.queued = false;
    }
    // The lanes passed by go back, in order, just before the first lane not looked at.
    this.#head = i - passed.length;
    for (let j = 0; j < passed.length; j++) ring[this.#head + j] = passed[j]!;
    for (const lane of again) ring.push(lane);
    if (this.#head > 0 && this.#head * 2 >= ring.length) {
      this.#ring = ring.slice(this.#head);
      this.#head = 0;
    }
    return taken;
  }

  /**
   * Empties every lane (the writer failed: nothing queued can be stored).
   *
   * @returns The items that were waiting.
   */
  clear(): T[] {
    const items: T[] = [];
    for (const lane of this.#ring.slice(this.#head)) {
      items.push(...lane.waiting.splice(0));
      lane.queued = false;
    }
    this.#ring = [];
    this.#head = 0;
    this.#waiting = 0;
    return items;
  }
}
