/**
 * The pool worker's half of the byte path: decodes and validates the protocol
 * event lines that a connection forwarded as bytes.
 *
 * The whole batch is decoded with one `TextDecoder` call and split on its
 * line ends; a well-formed `EVENT <stream> <position> <message>` line is then
 * taken apart by {@linkcode readEventLine}, reusing the previous line's stream
 * key when it repeats (it almost always does). Any other line goes through
 * {@linkcode parseCommand}, which gives the exact failure reason.
 *
 * @module
 */

import { type EventLineParts, parseCommand, readEventLine } from "../../protocol/mod.ts";
import type { WireLines } from "./wire_lines.ts";
import { failureStatus } from "./line_status.ts";

/** Event lines of a wire batch, split into their parts. */
export interface DecodedWire {
  /** Log messages of the valid lines, in order. */
  readonly lines: string[];
  /** Origin stream per valid line, or null when none of them has one. */
  readonly streams: (string | null)[] | null;
  /** Origin position per valid line (-1 without stream), or null when none has one. */
  readonly positions: readonly number[] | null;
  /** Per wire line: 0 when valid, else its failure status; null when all are valid. */
  readonly rejected: Uint8Array | null;
}

const decoder = new TextDecoder();

/**
 * Each line of the batch as text (invalid UTF-8 becomes U+FFFD), and whether
 * any holds a NUL byte (such lines take the full parser, which rejects them).
 */
function decodeLines(wire: WireLines): { lines: string[]; nul: boolean } {
  const count = wire.ends.length;
  const text = decoder.decode(wire.bytes);
  const nul = text.includes("\0");
  const lines = text.split("\n");
  // One line per end, then the empty text after the last `\n`.
  if (lines.length === count + 1) return { lines, nul };
  // A line with a `\n` inside cannot come from a connection; decode line by line anyway.
  const each: string[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    each.push(decoder.decode(wire.bytes.subarray(start, wire.ends[i]!)));
    start = wire.ends[i]! + 1;
  }
  return { lines: each, nul };
}

/**
 * Decodes (invalid UTF-8 becomes U+FFFD) and parses each `EVENT` /
 * `BATCH_EVENT` line; a line that does not parse gets a failure status.
 *
 * @param wire The transferred lines.
 * @returns The valid lines' parts and each line's status.
 * @example
 * ```ts
 * const wire = new WireLinesBuilder();
 * wire.appendText("EVENT s1 10 hello");
 * decodeWireLines(wire.take()).lines; // ["hello"]
 * ```
 */
export function decodeWireLines(wire: WireLines): DecodedWire {
  const count = wire.ends.length;
  const { lines: text, nul } = decodeLines(wire);
  const lines: string[] = [];
  let streams: (string | null)[] | null = null;
  let positions: number[] | null = null;
  let rejected: Uint8Array | null = null;
  const fast: EventLineParts = { stream: "", position: 0, message: "" };
  let previous: string | null = null;
  for (let i = 0; i < count; i++) {
    const line = text[i]!;
    if (!nul && readEventLine(line, previous, fast)) {
      if (streams === null) {
        streams = new Array(lines.length).fill(null);
        positions = new Array(lines.length).fill(-1);
      }
      previous = fast.stream;
      streams.push(fast.stream);
      positions!.push(fast.position);
      lines.push(fast.message);
      continue;
    }
    const parsed = parseCommand(line);
    if (parsed.ok && parsed.command.type === "EVENT") {
      if (streams === null) {
        streams = new Array(lines.length).fill(null);
        positions = new Array(lines.length).fill(-1);
      }
      streams.push(parsed.command.stream);
      positions!.push(parsed.command.position);
      lines.push(parsed.command.message);
    } else if (parsed.ok && parsed.command.type === "BATCH_EVENT") {
      streams?.push(null);
      positions?.push(-1);
      lines.push(parsed.command.message);
    } else {
      rejected ??= new Uint8Array(count);
      rejected[i] = failureStatus(parsed.ok ? "Unknown command" : parsed.reason);
    }
  }
  return {
    lines,
    streams,
    positions,
    rejected,
  };
}
