/**
 * The typed columns of the batches of one pool message, taken from one buffer
 * per column: each batch's column is a view of the next rows of it. A view
 * costs a tenth of a new typed array, and the batches' columns lie end to end,
 * so packing them together for the writer (`packed_batch.ts`) needs no copy.
 *
 * @module
 */

/** The typed columns of an `EventBatch` that an arena holds. */
export interface ArenaColumns {
  ts: Float64Array;
  pid: Int32Array;
  severity: Int8Array;
  facility: Int8Array;
  messageStart: Int32Array;
  flags: Uint8Array;
  position: Float64Array;
}

/**
 * Rows for the batches of one message: {@linkcode ColumnArena.take} hands out
 * the next `count` rows of every column, until the capacity is used; then
 * (a batch larger than announced) new arrays of their own.
 *
 * @example
 * ```ts
 * const arena = new ColumnArena(3);
 * const first = arena.take(2);
 * const second = arena.take(1);
 * second.ts.buffer === first.ts.buffer; // true: end to end in one buffer
 * ```
 */
export class ColumnArena {
  readonly #columns: ArenaColumns;
  #at = 0;

  /** @param rows How many rows the message's batches hold at most. */
  constructor(rows: number) {
    this.#columns = emptyColumns(rows);
  }

  /**
   * The next `count` rows of each column, zeroed (`position` filled with -1).
   *
   * @param count Rows of one batch.
   * @returns Views of the arena, or arrays of their own when it is used up.
   */
  take(count: number): ArenaColumns {
    const from = this.#at;
    const to = from + count;
    if (to > this.#columns.ts.length) return emptyColumns(count);
    this.#at = to;
    const c = this.#columns;
    return {
      ts: c.ts.subarray(from, to),
      pid: c.pid.subarray(from, to),
      severity: c.severity.subarray(from, to),
      facility: c.facility.subarray(from, to),
      messageStart: c.messageStart.subarray(from, to),
      flags: c.flags.subarray(from, to),
      position: c.position.subarray(from, to),
    };
  }
}

function emptyColumns(rows: number): ArenaColumns {
  return {
    ts: new Float64Array(rows),
    pid: new Int32Array(rows),
    severity: new Int8Array(rows),
    facility: new Int8Array(rows),
    messageStart: new Int32Array(rows),
    flags: new Uint8Array(rows),
    position: new Float64Array(rows).fill(-1),
  };
}
