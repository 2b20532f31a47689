/**
 * In-order acknowledgements for one connection. Every line gets a slot when it
 * is read; slots are filled as their work completes, in any order, and are
 * written to the socket strictly in the order the lines arrived.
 *
 * @module
 */

/** A place in the ACK order; `text` is null until its work completes. */
export interface AckSlot {
  text: string | null;
}

const encoder = new TextEncoder();

/**
 * Most bytes of ACK text sent in one socket write. Larger runs are split, so
 * one huge write does not hold a big buffer.
 */
const MAX_WRITE_CHARS = 256 * 1024;

/**
 * Queue of ACK slots that writes resolved ones in order.
 *
 * @example
 * ```ts
 * const acks = new AckQueue((bytes) => writeAll(conn, bytes));
 * const slot = acks.reserve();
 * acks.pushText("ACK FAIL Unknown command\n"); // waits behind `slot`
 * acks.fill(slot, "ACK OK Event received\n");  // now both are written, in order
 * ```
 */
export class AckQueue {
  readonly #slots: AckSlot[] = [];
  #head = 0;
  #writing = false;
  #broken = false;
  readonly #write: (bytes: Uint8Array) => Promise<void>;
  #waiters: { below: number; resolve: () => void }[] = [];

  /** @param write Writes all bytes to the socket; rejects when the peer is gone. */
  constructor(write: (bytes: Uint8Array) => Promise<void>) {
    this.#write = write;
  }

  /** Slots not yet written (pending or resolved). */
  get backlog(): number {
    return this.#slots.length - this.#head;
  }

  /** True once a write failed: nothing more will be written. */
  get broken(): boolean {
    return this.#broken;
  }

  /** Reserves the next slot in order, to be filled later with {@linkcode fill}. */
  reserve(): AckSlot {
    const slot: AckSlot = { text: null };
    this.#slots.push(slot);
    return slot;
  }

  /** Fills a reserved slot and writes whatever is now ready. */
  fill(slot: AckSlot, text: string): void {
    slot.text = text;
    this.#pump();
  }

  /** Appends text that is ready now; it is still written after every earlier slot. */
  pushText(text: string): void {
    const tail = this.#slots[this.#slots.length - 1];
    if (this.#slots.length > this.#head && tail && tail.text !== null && !this.#writing) {
      tail.text += text;
    } else {
      this.#slots.push({ text });
    }
    this.#pump();
  }

  /** Resolves once fewer than `count` slots are unwritten (or the socket broke). */
  waitBelow(count: number): Promise<void> {
    if (this.backlog < count || this.#broken) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ below: count, resolve }));
  }

  /** Resolves once every slot has been written (or the socket broke). */
  drained(): Promise<void> {
    return this.waitBelow(1);
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const backlog = this.backlog;
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#broken || backlog < w.below) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  async #pump(): Promise<void> {
    if (this.#writing || this.#broken) return;
    this.#writing = true;
    try {
      while (this.#head < this.#slots.length && this.#slots[this.#head]!.text !== null) {
        let text = "";
        while (
          this.#head < this.#slots.length && this.#slots[this.#head]!.text !== null &&
          text.length < MAX_WRITE_CHARS
        ) {
          text += this.#slots[this.#head]!.text;
          this.#head++;
        }
        if (this.#head > 1024 && this.#head * 2 > this.#slots.length) {
          this.#slots.splice(0, this.#head);
          this.#head = 0;
        }
        await this.#write(encoder.encode(text));
        this.#wake();
      }
    } catch {
      this.#broken = true;
      this.#slots.length = 0;
      this.#head = 0;
      this.#wake();
    } finally {
      this.#writing = false;
    }
  }
}
