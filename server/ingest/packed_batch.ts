/**
 * The form in which a parsed batch crosses from a pool worker to the writer.
 *
 * Structured clone copies every string of a message one by one, on both
 * threads. In a batch, hosts, programs and stream keys repeat (a few distinct
 * values for thousands of lines) and the message is almost always the end of
 * the raw line, so they travel as small dictionaries plus index columns and
 * message offsets, in typed arrays that are transferred, not copied. Only the
 * raw lines travel as strings. See docs/decisions/0003-ingest-hot-path.md.
 *
 * @module
 */

import type { EventBatch } from "../store/mod.ts";

/** A column of repeated strings: its distinct values and, per row, an index into them. */
export interface PackedColumn {
  readonly values: (string | null)[];
  readonly index: Uint32Array;
}

/** An {@linkcode EventBatch} with its repetitive columns packed for transfer. */
export interface PackedBatch {
  /** Every field of the batch except the four packed below. */
  readonly rest: Omit<EventBatch, "host" | "program" | "message" | "stream">;
  readonly host: PackedColumn;
  readonly program: PackedColumn;
  readonly stream: PackedColumn;
  /** Where the message starts in the raw line, or -1 when it is not the raw line's end. */
  readonly messageStart: Int32Array;
  /** Messages that are not the end of their raw line, in row order (rows with start -1). */
  readonly otherMessages: string[];
}

function packColumn(column: readonly (string | null)[], count: number): PackedColumn {
  const values: (string | null)[] = [];
  const index = new Uint32Array(count);
  const seen = new Map<string | null, number>();
  let previous: string | null | undefined;
  let previousIndex = 0;
  for (let i = 0; i < count; i++) {
    const value = column[i] ?? null;
    if (value !== previous) {
      let found = seen.get(value);
      if (found === undefined) {
        found = values.length;
        values.push(value);
        seen.set(value, found);
      }
      previous = value;
      previousIndex = found;
    }
    index[i] = previousIndex;
  }
  return { values, index };
}

function unpackColumn(column: PackedColumn, count: number): (string | null)[] {
  const out = new Array<string | null>(count);
  for (let i = 0; i < count; i++) out[i] = column.values[column.index[i]!]!;
  return out;
}

/**
 * Packs a batch and lists the buffers to transfer with it (the batch's typed
 * arrays included: the sender must not use the batch afterwards).
 *
 * @param batch A parsed batch.
 * @returns The packed batch and its transferable buffers.
 * @example
 * ```ts
 * const { packed, transfer } = packBatch(batch);
 * port.postMessage({ jobId, packed }, transfer);
 * ```
 */
export function packBatch(batch: EventBatch): { packed: PackedBatch; transfer: ArrayBuffer[] } {
  const { host, program, message, stream, messageStart: known, ...rest } = batch;
  const count = batch.count;
  const otherMessages: string[] = [];
  let messageStart = known;
  if (messageStart) {
    for (let i = 0; i < count; i++) if (messageStart[i]! < 0) otherMessages.push(message[i]!);
  } else {
    // Not parsed from the lines (NMS's own events): compare each message with its line.
    messageStart = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const raw = batch.raw[i]!;
      const text = message[i]!;
      if (raw.endsWith(text)) {
        messageStart[i] = raw.length - text.length;
      } else {
        messageStart[i] = -1;
        otherMessages.push(text);
      }
    }
  }
  const packed: PackedBatch = {
    rest,
    host: packColumn(host, count),
    program: packColumn(program, count),
    stream: packColumn(stream, count),
    messageStart,
    otherMessages,
  };
  const transfer = [
    batch.ts,
    batch.pid,
    batch.severity,
    batch.facility,
    batch.flags,
    batch.position,
    packed.host.index,
    packed.program.index,
    packed.stream.index,
    messageStart,
  ].map((column) => column.buffer as ArrayBuffer);
  return { packed, transfer };
}

/**
 * Rebuilds the batch on the writer's side. Repeated values become the same
 * string objects, and a message that is the end of its raw line is a slice of
 * it, so no text is copied.
 *
 * @param packed What {@linkcode packBatch} produced.
 * @returns The batch, equal field by field to the one packed.
 * @example
 * ```ts
 * const batch = unpackBatch(message.packed);
 * ```
 */
export function unpackBatch(packed: PackedBatch): EventBatch {
  const count = packed.rest.count;
  const message = new Array<string>(count);
  let other = 0;
  for (let i = 0; i < count; i++) {
    const start = packed.messageStart[i]!;
    message[i] = start < 0 ? packed.otherMessages[other++]! : packed.rest.raw[i]!.slice(start);
  }
  return {
    ...packed.rest,
    host: unpackColumn(packed.host, count),
    program: unpackColumn(packed.program, count),
    stream: unpackColumn(packed.stream, count),
    message,
    messageStart: packed.messageStart,
  };
}
