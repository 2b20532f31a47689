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
 * Encoded ACK texts kept for reuse: a fleet's connections answer mostly the
 * same few lines (one event stored, a heartbeat), so each write need not
 * encode, nor allocate, its bytes. Only short texts, and only so many.
 */
const MAX_ENCODED_TEXTS = 64;
/** Longest ACK text whose bytes are kept for reuse, in characters. */
const MAX_ENCODED_TEXT_CHARS = 256;
const encoded = new Map<string, Uint8Array>();

/** The bytes of an ACK text, shared between connections when it is a common one. */
function encodeAck(text: string): Uint8Array {
  if (text.length > MAX_ENCODED_TEXT_CHARS) return encoder.encode(text);
  let bytes = encoded.get(text);
  if (bytes === undefined) {
    bytes = encoder.encode(text);
    if (encoded.size < MAX_ENCODED_TEXTS) encoded.set(text, bytes);
  }
  return bytes;
}

/**
 * Most bytes of ACK text sent in one socket write. Larger runs are split, so
 * one huge write does not hold a big buffer.
 */
const MAX_WRITE_CHARS = 256 * 1024;

/**
 * Written slots a busy queue keeps at its front before dropping them (an
 * emptied queue drops them at once): bounds the work of each `splice`.
 */
const MAX_WRITTEN_SLOTS_KEPT = 1024;

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

  /**
   * @param write Writes all bytes to the socket; rejects when the peer is
   *   gone. The bytes may be shared with other queues: it must not change them.
   */
  constructor(write: (bytes: Uint8Array) => Promise<void>) {
    this.#write = write;
  }

  /** Slots not yet written (pending or resolved). */
  get backlog(): number {
    return this.#slots.length - this.#head;
  }

  /** Slots the queue holds, written ones at its front included. */
  get heldSlots(): number {
    return this.#slots.length;
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

  /** Starts writing when the next slot in order is ready and no write is under way. */
  #pump(): void {
    if (this.#writing || this.#broken) return;
    const next = this.#slots[this.#head];
    if (next === undefined || next.text === null) return;
    void this.#drain();
  }

  async #drain(): Promise<void> {
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
        if (this.#head === this.#slots.length) {
          // Every slot written: an idle connection holds none of them.
          this.#slots.length = 0;
          this.#head = 0;
        } else if (this.#head > MAX_WRITTEN_SLOTS_KEPT && this.#head * 2 > this.#slots.length) {
          this.#slots.splice(0, this.#head);
          this.#head = 0;
        }
        await this.#write(encodeAck(text));
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
