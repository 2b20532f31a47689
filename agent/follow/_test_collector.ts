/**
 * The line consumer the FileFollower tests read into.
 *
 * @module
 */

import type { Incarnation } from "./incarnation.ts";
import type { LineConsumer } from "./file_follower.ts";

const decoder = new TextDecoder();

/** A line as the consumer received it. */
export interface Line {
  /** The stream it is sent on (`<stream>.gap` for gap events). */
  stream: string;
  /** The line, decoded. */
  text: string;
  /** Offset just after its newline. */
  end: number;
}

/**
 * A consumer that acknowledges every line at once, with a switchable window.
 *
 * @example
 * ```ts
 * const collector = new Collector();
 * await follower.read(collector);
 * collector.texts(); // ["a 1", "a 2"]
 * ```
 */
export class Collector implements LineConsumer {
  /** Every line received, in order. */
  lines: Line[] = [];
  /** Every over-long line reported to {@linkcode Collector.overflow}. */
  overflows: { bytes: number; end: number }[] = [];
  /** Whether more lines may be handed out now. */
  room = true;
  hasRoom(): boolean {
    return this.room;
  }
  line(inc: Incarnation, bytes: Uint8Array, end: number, _size: number, stream?: Uint8Array): void {
    const wire = stream === undefined ? inc.stream : decoder.decode(stream);
    this.lines.push({ stream: wire, text: decoder.decode(bytes), end });
    inc.inFlight++;
    inc.acknowledge(end);
  }
  /** Records an over-long line and skips past it, as the agent's consumer does. */
  overflow(inc: Incarnation, bytes: number, end: number): void {
    this.overflows.push({ bytes, end });
    inc.skip(end);
  }
  /** The texts of the lines received. */
  texts(): string[] {
    return this.lines.map((l) => l.text);
  }
}
