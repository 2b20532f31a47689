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
  const { host, program, message, stream, messageStart: _, ...rest } = batch;
  const count = batch.count;
  const messageStart = messageStartsOf(batch);
  const otherMessages: string[] = [];
  for (let i = 0; i < count; i++) if (messageStart[i]! < 0) otherMessages.push(message[i]!);
  const packed: PackedBatch = {
    rest,
    host: packColumn(host, count),
    program: packColumn(program, count),
    stream: packColumn(stream, count),
    messageStart,
    otherMessages,
  };
  // Columns may share a buffer (`column_arena.ts`): each is listed once.
  const transfer = new Set([
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
  ].map((column) => column.buffer as ArrayBuffer));
  return { packed, transfer: [...transfer] };
}

/** What the writer needs of one batch of a {@linkcode PackedGroup} besides its rows. */
export interface BatchPart {
  readonly count: number;
  readonly receivedAt: number;
  readonly agentId: number | null;
  /** The batch's optional columns (its rows of the group's), when it had them. */
  readonly msgid?: true;
  readonly structuredData?: true;
  readonly sources?: EventBatch["sources"];
}

/**
 * The batches of one message to the writer, their rows packed together as
 * one batch: one dictionary per repeated column, one buffer per numeric column
 * and one object graph to clone, whatever the number of batches.
 */
export interface PackedGroup {
  readonly packed: PackedBatch;
  /** Each batch's share of the rows, in order. */
  readonly parts: readonly BatchPart[];
}

/** A typed array column, of any of the element types a batch has. */
type Column = Float64Array | Int32Array | Int8Array | Uint8Array;

/**
 * One column of every batch, end to end in one array: a view spanning them
 * when they already lie end to end in one buffer (`column_arena.ts`), else a copy.
 */
function concatColumn<T extends Column>(columns: readonly T[], make: (length: number) => T): T {
  let total = 0;
  let adjacent = true;
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    total += column.length;
    const previous = columns[i - 1];
    if (
      previous &&
      (column.buffer !== previous.buffer ||
        column.byteOffset !== previous.byteOffset + previous.byteLength)
    ) {
      adjacent = false;
    }
  }
  const first = columns[0]!;
  if (adjacent) {
    const Type = first.constructor as new (
      buffer: ArrayBufferLike,
      offset: number,
      length: number,
    ) => T;
    return new Type(first.buffer, first.byteOffset, total);
  }
  const joined = make(total);
  let at = 0;
  for (const column of columns) {
    (joined as Uint8Array).set(column as ArrayLike<number>, at);
    at += column.length;
  }
  return joined;
}

/**
 * Where each message starts in its raw line (-1 when it is not its end):
 * known for parsed lines, found by comparing the two for NMS's own events.
 */
function messageStartsOf(batch: EventBatch): Int32Array {
  if (batch.messageStart) return batch.messageStart;
  const starts = new Int32Array(batch.count);
  for (let i = 0; i < batch.count; i++) {
    const raw = batch.raw[i]!;
    const text = batch.message[i]!;
    starts[i] = raw.endsWith(text) ? raw.length - text.length : -1;
  }
  return starts;
}

/** An optional string column over every batch, null where a batch has none. */
function concatOptional(
  batches: readonly EventBatch[],
  pick: (batch: EventBatch) => readonly (string | null)[] | undefined,
): (string | null)[] | undefined {
  if (!batches.some((batch) => pick(batch) !== undefined)) return undefined;
  return batches.flatMap((batch) => pick(batch) ?? new Array<null>(batch.count).fill(null));
}

/** The parts of a group, as {@linkcode unpackGroup} splits it again. */
function partOf(batch: EventBatch): BatchPart {
  return {
    count: batch.count,
    receivedAt: batch.receivedAt,
    agentId: batch.agentId,
    ...(batch.msgid ? { msgid: true } : {}),
    ...(batch.structuredData ? { structuredData: true } : {}),
    ...(batch.sources ? { sources: batch.sources } : {}),
  } as BatchPart;
}

/**
 * Packs the batches of one message to the writer as one: their rows end to
 * end, packed once. A lone batch is packed as it is, its typed arrays moving
 * with it; several are copied into new columns (only tiny batches share a
 * message, so the copy is small), which saves the dictionaries, buffers and
 * objects of one packed batch each: most of the cost of a message of a fleet's
 * one-line batches.
 *
 * @param batches Parsed batches, in order.
 * @returns The group and its transferable buffers; the batches must not be used afterwards.
 * @example
 * ```ts
 * const { group, transfer } = packGroup([first, second]);
 * port.postMessage({ group, jobs }, transfer);
 * ```
 */
export function packGroup(
  batches: readonly EventBatch[],
): { group: PackedGroup; transfer: ArrayBuffer[] } {
  if (batches.length === 1) {
    // Its own columns, optional ones included, travel in the packed batch.
    const { packed, transfer } = packBatch(batches[0]!);
    const { count, receivedAt, agentId } = batches[0]!;
    return { group: { packed, parts: [{ count, receivedAt, agentId }] }, transfer };
  }
  const parts = batches.map(partOf);
  const first = batches[0]!;
  const msgid = concatOptional(batches, (batch) => batch.msgid);
  const structuredData = concatOptional(batches, (batch) => batch.structuredData);
  const joined: EventBatch = {
    count: batches.reduce((sum, batch) => sum + batch.count, 0),
    receivedAt: first.receivedAt,
    agentId: first.agentId,
    ts: concatColumn(batches.map((b) => b.ts), (n) => new Float64Array(n)),
    host: batches.flatMap((b) => b.host),
    program: batches.flatMap((b) => b.program),
    pid: concatColumn(batches.map((b) => b.pid), (n) => new Int32Array(n)),
    severity: concatColumn(batches.map((b) => b.severity), (n) => new Int8Array(n)),
    facility: concatColumn(batches.map((b) => b.facility), (n) => new Int8Array(n)),
    message: batches.flatMap((b) => b.message),
    raw: batches.flatMap((b) => b.raw),
    flags: concatColumn(batches.map((b) => b.flags), (n) => new Uint8Array(n)),
    stream: batches.flatMap((b) => b.stream),
    position: concatColumn(batches.map((b) => b.position), (n) => new Float64Array(n)),
    messageStart: concatColumn(batches.map(messageStartsOf), (n) => new Int32Array(n)),
    ...(msgid ? { msgid } : {}),
    ...(structuredData ? { structuredData } : {}),
  };
  const { packed, transfer } = packBatch(joined);
  return { group: { packed, parts }, transfer };
}

/**
 * Rebuilds the batches of a group on the writer's side: one unpacked batch,
 * then each part's rows as views and slices of it.
 *
 * @param group What {@linkcode packGroup} produced.
 * @returns The batches, equal field by field to those packed.
 * @example
 * ```ts
 * const batches = unpackGroup(message.group);
 * ```
 */
export function unpackGroup(group: PackedGroup): EventBatch[] {
  const all = unpackBatch(group.packed);
  if (group.parts.length === 1) return [all];
  let at = 0;
  return group.parts.map((part): EventBatch => {
    const from = at;
    const to = at += part.count;
    return {
      count: part.count,
      receivedAt: part.receivedAt,
      agentId: part.agentId,
      ts: all.ts.subarray(from, to),
      host: all.host.slice(from, to),
      program: all.program.slice(from, to),
      pid: all.pid.subarray(from, to),
      severity: all.severity.subarray(from, to),
      facility: all.facility.subarray(from, to),
      message: all.message.slice(from, to),
      raw: all.raw.slice(from, to),
      flags: all.flags.subarray(from, to),
      stream: all.stream.slice(from, to),
      position: all.position.subarray(from, to),
      messageStart: all.messageStart!.subarray(from, to),
      ...(part.msgid ? { msgid: all.msgid!.slice(from, to) } : {}),
      ...(part.structuredData ? { structuredData: all.structuredData!.slice(from, to) } : {}),
      ...(part.sources ? { sources: part.sources } : {}),
    };
  });
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
