/**
 * The pool worker's work on a {@linkcode LineBatch}: agent lines are decoded
 * and validated as protocol lines (`decode_wire.ts`), then every log line is
 * parsed into fields (`server/log_formats/`) and laid out as the store's
 * column-wise `EventBatch`.
 *
 * @module
 */

import { isGapEvent } from "../../protocol/mod.ts";
import { parseLogLine } from "../log_formats/mod.ts";
import { EVENT_FLAGS, type EventBatch } from "../store/mod.ts";
import { ColumnArena } from "./column_arena.ts";
import { decodeWireLines } from "./decode_wire.ts";
import { markGap } from "./gap_event.ts";
import type { LineBatch } from "./line_batch.ts";
import { SourceTally } from "./source_tally.ts";

/** A parsed {@linkcode LineBatch}. */
export interface ParsedLines {
  /** The accepted lines, parsed, in order. */
  readonly events: EventBatch;
  /**
   * Per line of the batch: 0 when it is in `events`, else the failure status
   * it is answered with (`line_status.ts`); null when every line is in `events`.
   */
  readonly rejected: Uint8Array | null;
}

/**
 * Decodes, validates and parses a batch.
 *
 * @param batch Lines from an agent connection or the syslog receiver.
 * @param arena Where the typed columns are taken from: the pool worker shares
 *   one among the batches of a message.
 * @returns The parsed events and the lines rejected on the way.
 * @example
 * ```ts
 * const { events, rejected } = parseLines(batch);
 * ```
 */
export function parseLines(
  batch: LineBatch,
  arena: ColumnArena = new ColumnArena(0),
): ParsedLines {
  if (batch.source === "syslog") {
    // A line's sender is its host when it names none; senders are tallied.
    const tally = new SourceTally(batch.origin, batch.receivedAt);
    const events = parseColumns({
      receivedAt: batch.receivedAt,
      agentId: null,
      lines: batch.lines,
      streams: null,
      positions: null,
      defaultHost: "",
      tally,
      truncated: batch.origin.truncated,
      escaped: batch.origin.escaped ?? [],
    }, arena);
    return { events, rejected: null };
  }
  const decoded = decodeWireLines(batch.wire);
  const events = parseColumns({
    receivedAt: batch.receivedAt,
    agentId: batch.agentId,
    lines: decoded.lines,
    streams: decoded.streams,
    positions: decoded.positions,
    defaultHost: batch.defaultHost,
    tally: null,
    truncated: [],
    escaped: [],
  }, arena);
  return { events, rejected: decoded.rejected };
}

/** The log lines of a batch and what is known of their origin. */
interface Lines {
  readonly receivedAt: number;
  readonly agentId: number | null;
  readonly lines: string[];
  /** Origin stream per line, or null when no line has one. */
  readonly streams: (string | null)[] | null;
  /** Origin position per line (-1 without a stream), or null when no line has one. */
  readonly positions: readonly number[] | null;
  /** Host of a line that names none, unless `tally` knows its sender. */
  readonly defaultHost: string;
  /** Syslog senders, counted as the lines are parsed; null for agent lines. */
  readonly tally: SourceTally | null;
  /** Indexes of lines cut to the size limit. */
  readonly truncated: readonly number[];
  /** Indexes of lines that were not UTF-8 and are stored escaped. */
  readonly escaped: readonly number[];
}

/** Parses every line into columns. */
function parseColumns(input: Lines, arena: ColumnArena): EventBatch {
  const { receivedAt, lines, tally } = input;
  const count = lines.length;
  const columns = arena.take(count);
  // Copied into the arena's column: the decoded positions are a plain array.
  if (input.positions) columns.position.set(input.positions);
  const batch: EventBatch = {
    count,
    receivedAt,
    agentId: input.agentId,
    ...columns,
    host: new Array(count),
    program: new Array(count),
    message: new Array(count),
    raw: lines,
    stream: input.streams ?? new Array(count).fill(null),
  };
  let msgid: (string | null)[] | undefined;
  let structuredData: (string | null)[] | undefined;
  for (let i = 0; i < count; i++) {
    const parsed = parseLogLine(lines[i]!, receivedAt);
    batch.ts[i] = parsed.ts ?? receivedAt;
    batch.host[i] = parsed.host ?? (tally ? tally.senderOf(i) : input.defaultHost);
    batch.program[i] = parsed.program;
    batch.pid[i] = parsed.pid ?? -1;
    batch.severity[i] = parsed.severity ?? -1;
    batch.facility[i] = parsed.facility ?? -1;
    batch.message[i] = parsed.message;
    batch.messageStart![i] = parsed.messageStart;
    if (parsed.format === "raw") batch.flags[i] = EVENT_FLAGS.unparsed;
    // Gap events: an agent reports bytes it could not deliver (docs/DELIVERY.md).
    if (isGapEvent(batch.stream[i] ?? null, lines[i]!)) markGap(batch, i);
    const extra = parsed.extra;
    if (extra?.msgid !== undefined) (msgid ??= new Array(count).fill(null))[i] = extra.msgid;
    if (extra?.structuredData !== undefined) {
      (structuredData ??= new Array(count).fill(null))[i] = extra.structuredData;
    }
    tally?.add(i, parsed.host, parsed.format === "raw");
  }
  for (const line of input.truncated) {
    batch.flags[line] = batch.flags[line]! | EVENT_FLAGS.truncated;
  }
  for (const line of input.escaped) {
    batch.flags[line] = batch.flags[line]! | EVENT_FLAGS.escaped;
  }
  if (!tally && !msgid && !structuredData) return batch;
  return {
    ...batch,
    ...(msgid ? { msgid } : {}),
    ...(structuredData ? { structuredData } : {}),
    ...(tally ? { sources: tally.updates() } : {}),
  };
}
