/**
 * The one batch type of the ingest path: the lines a source handed over at
 * once, tagged by where they came from. The main thread builds it (an agent
 * connection or a syslog listener), a pool worker parses it into the store's
 * `EventBatch` (`parse_lines.ts`), and the writer commits that.
 *
 * @module
 */

import type { SyslogTransport } from "../store/mod.ts";
import type { WireLines } from "./wire_lines.ts";

/** Protocol lines of an agent connection, still bytes: the pool worker decodes and checks them. */
export interface AgentLineBatch {
  readonly source: "agent";
  /** When the connection read the lines, ms since the epoch. */
  readonly receivedAt: number;
  /** The node that sent them (REGISTER), or null before it registered. */
  readonly agentId: number | null;
  /** Host recorded when a line names none: the registered hostname or the client's IP. */
  readonly defaultHost: string;
  /** The `EVENT` / `BATCH_EVENT` lines as received. */
  readonly wire: WireLines;
}

/** Messages from the syslog receiver (server/syslog/), framed and trimmed. */
export interface SyslogLineBatch {
  readonly source: "syslog";
  /** When the first message arrived, ms since the epoch. */
  readonly receivedAt: number;
  readonly lines: string[];
  /** Who sent each line: a line's sender is its host when it names none. */
  readonly origin: SyslogOrigin;
}

/** The senders of a syslog batch. */
export interface SyslogOrigin {
  readonly transport: SyslogTransport;
  /** Distinct sender IP addresses of the batch. */
  readonly addresses: string[];
  /** Index into `addresses` per line, or null when every line comes from `addresses[0]`. */
  readonly senders: Uint16Array | null;
  /** Indexes of the lines that were cut to the size limit (usually none). */
  readonly truncated: number[];
  /** Lines that were not UTF-8 and are escaped (flag `escaped`). */
  readonly escaped?: number[];
}

/** Lines on their way from a socket to a pool worker, tagged by their source. */
export type LineBatch = AgentLineBatch | SyslogLineBatch;

/**
 * Lines in a batch, each of which gets one status back.
 *
 * @param batch The batch.
 * @returns Its number of lines.
 */
export function lineCount(batch: LineBatch): number {
  return batch.source === "agent" ? batch.wire.ends.length : batch.lines.length;
}

/**
 * The buffers that move to the pool worker with a batch instead of being
 * copied; the sender must not use them afterwards.
 *
 * @param batch The batch about to be posted.
 * @returns The transfer list for `postMessage`.
 */
export function transferablesOf(batch: LineBatch): ArrayBuffer[] {
  return batch.source === "agent"
    ? [batch.wire.bytes.buffer as ArrayBuffer, batch.wire.ends.buffer as ArrayBuffer]
    : [];
}

/**
 * Prepares the batches of one message to a pool worker for the crossing. A
 * lone batch moves its own buffers. Several agent batches are copied into one
 * shared pair of buffers, each batch a view of its part: two buffers move
 * instead of two per batch, which is most of the cost of a message of many
 * tiny batches, and the copy is small since only tiny batches share a message.
 *
 * @param batches The batches of the message, in order.
 * @returns The batches to post (views of the shared buffers where merged) and
 *   the transfer list; the given batches' buffers must not be used afterwards.
 * @example
 * ```ts
 * const { batches: posted, transfer } = transferGroup(batches);
 * worker.postMessage({ kind: "parse", items: posted }, transfer);
 * ```
 */
export function transferGroup(
  batches: readonly LineBatch[],
): { batches: LineBatch[]; transfer: ArrayBuffer[] } {
  let agents = 0;
  let bytes = 0;
  let lines = 0;
  for (const batch of batches) {
    if (batch.source !== "agent") continue;
    agents++;
    bytes += batch.wire.bytes.length;
    lines += batch.wire.ends.length;
  }
  if (agents <= 1) {
    return { batches: [...batches], transfer: batches.flatMap(transferablesOf) };
  }
  const sharedBytes = new Uint8Array(bytes);
  const sharedEnds = new Uint32Array(lines);
  let byteAt = 0;
  let lineAt = 0;
  const posted = batches.map((batch): LineBatch => {
    if (batch.source !== "agent") return batch;
    const { bytes, ends } = batch.wire;
    sharedBytes.set(bytes, byteAt);
    sharedEnds.set(ends, lineAt);
    // Each end is an offset into its own batch's bytes: still true of its view.
    const wire = {
      bytes: sharedBytes.subarray(byteAt, byteAt + bytes.length),
      ends: sharedEnds.subarray(lineAt, lineAt + ends.length),
    };
    byteAt += bytes.length;
    lineAt += ends.length;
    return { ...batch, wire };
  });
  return { batches: posted, transfer: [sharedBytes.buffer, sharedEnds.buffer] };
}
