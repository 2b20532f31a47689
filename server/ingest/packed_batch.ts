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

/** A typed array column, of any of the element types a packed batch has. */
type Column = Float64Array | Int32Array | Int8Array | Uint8Array | Uint32Array;

/**
 * Copies one column of every batch into one buffer and returns a view of it
 * per batch, in order.
 */
function shareColumn<T extends Column>(columns: T[], make: (length: number) => T): T[] {
  let total = 0;
  for (const column of columns) total += column.length;
  const shared = make(total);
  let at = 0;
  return columns.map((column) => {
    (shared as Uint8Array).set(column as ArrayLike<number>, at);
    const view = shared.subarray(at, at + column.length) as T;
    at += column.length;
    return view;
  });
}

/**
 * Packs the batches of one message to the writer. A lone batch moves its own
 * typed arrays; several share one buffer per column, each batch a view of its
 * part, so ten buffers move instead of ten per batch: most of the cost of a
 * message of many tiny batches.
 *
 * @param batches Parsed batches, in order.
 * @returns The packed batches and their transferable buffers.
 * @example
 * ```ts
 * const { packed, transfer } = packBatches([first, second]);
 * port.postMessage(packed.map((p, i) => ({ jobId: ids[i], packed: p })), transfer);
 * ```
 */
export function packBatches(
  batches: readonly EventBatch[],
): { packed: PackedBatch[]; transfer: ArrayBuffer[] } {
  if (batches.length === 1) {
    const { packed, transfer } = packBatch(batches[0]!);
    return { packed: [packed], transfer };
  }
  const each = batches.map((batch) => packBatch(batch).packed);
  const ts = shareColumn(each.map((p) => p.rest.ts), (n) => new Float64Array(n));
  const pid = shareColumn(each.map((p) => p.rest.pid), (n) => new Int32Array(n));
  const severity = shareColumn(each.map((p) => p.rest.severity), (n) => new Int8Array(n));
  const facility = shareColumn(each.map((p) => p.rest.facility), (n) => new Int8Array(n));
  const flags = shareColumn(each.map((p) => p.rest.flags), (n) => new Uint8Array(n));
  const position = shareColumn(each.map((p) => p.rest.position), (n) => new Float64Array(n));
  const host = shareColumn(each.map((p) => p.host.index), (n) => new Uint32Array(n));
  const program = shareColumn(each.map((p) => p.program.index), (n) => new Uint32Array(n));
  const stream = shareColumn(each.map((p) => p.stream.index), (n) => new Uint32Array(n));
  const starts = shareColumn(each.map((p) => p.messageStart), (n) => new Int32Array(n));
  const packed = each.map((p, i): PackedBatch => ({
    rest: {
      ...p.rest,
      ts: ts[i]!,
      pid: pid[i]!,
      severity: severity[i]!,
      facility: facility[i]!,
      flags: flags[i]!,
      position: position[i]!,
    },
    host: { values: p.host.values, index: host[i]! },
    program: { values: p.program.values, index: program[i]! },
    stream: { values: p.stream.values, index: stream[i]! },
    messageStart: starts[i]!,
    otherMessages: p.otherMessages,
  }));
  const transfer = [ts, pid, severity, facility, flags, position, host, program, stream, starts]
    .filter((views) => views.length > 0)
    .map((views) => views[0]!.buffer as ArrayBuffer);
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
