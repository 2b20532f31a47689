/**
 * The pool worker's half of the byte path: decodes and validates the protocol
 * event lines that a connection forwarded as bytes.
 *
 * @module
 */

import { parseCommand } from "../protocol/mod.ts";
import type { WireLines } from "./wire_batch.ts";
import { failureStatus } from "./worker_messages.ts";

/** Event lines of a wire batch, split into their parts. */
export interface DecodedWire {
  /** Log messages of the valid lines, in order. */
  readonly lines: string[];
  /** Origin stream per valid line, or null when none of them has one. */
  readonly streams: (string | null)[] | null;
  /** Origin position per valid line (-1 without stream), or null when none has one. */
  readonly positions: Float64Array | null;
  /** Per wire line: 0 when valid, else its failure status; null when all are valid. */
  readonly failures: Uint8Array | null;
}

const decoder = new TextDecoder();

/**
 * Decodes (invalid UTF-8 becomes U+FFFD) and parses each `EVENT` /
 * `BATCH_EVENT` line; a line that does not parse gets a failure status.
 *
 * @param wire The transferred lines.
 * @returns The valid lines' parts and each line's status.
 * @example
 * ```ts
 * const batch = new WireBatch();
 * batch.appendText("EVENT s1 10 hello");
 * decodeWireLines(batch.take()).lines; // ["hello"]
 * ```
 */
export function decodeWireLines(wire: WireLines): DecodedWire {
  const count = wire.ends.length;
  const lines: string[] = [];
  let streams: (string | null)[] | null = null;
  let positions: number[] | null = null;
  let failures: Uint8Array | null = null;
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = wire.ends[i]!;
    const parsed = parseCommand(decoder.decode(wire.bytes.subarray(start, end)));
    start = end;
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
      failures ??= new Uint8Array(count);
      failures[i] = failureStatus(parsed.ok ? "Unknown command" : parsed.reason);
    }
  }
  return {
    lines,
    streams,
    positions: positions === null ? null : Float64Array.from(positions),
    failures,
  };
}
