/**
 * `COPY … FROM STDIN (FORMAT binary)` through the `postgres` driver: an
 * encoder of PostgreSQL's binary copy format, and the one function that
 * streams its chunks into a COPY. Binary rather than text: nothing to escape
 * on our side and no number parsing on the server's, which measured about
 * 10% less server CPU per row (docs/decisions/0013-postgres-ingest.md).
 * Private to server/store/.
 *
 * @module
 */

import { once } from "node:events";
import type { Writable } from "node:stream";
import type { PendingQuery, Row } from "postgres";

/**
 * Bytes encoded before a chunk is handed to the COPY. PostgreSQL starts
 * inserting the first chunk while the next one is encoded; the bound also
 * keeps the encoded copy of a group from growing with it.
 */
export const COPY_CHUNK_BYTES = 256 * 1024;

/** `PGCOPY\n\377\r\n\0`, flags 0, header extension length 0. */
const HEADER = [
  0x50,
  0x47,
  0x43,
  0x4f,
  0x50,
  0x59,
  0x0a,
  0xff,
  0x0d,
  0x0a,
  0x00,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
];

const TWO_TO_32 = 4_294_967_296;

/** Texts up to this many characters are encoded in JavaScript rather than by `encodeInto`. */
const SHORT_TEXT = 24;

const encoder = new TextEncoder();

/**
 * Encodes rows in PostgreSQL's binary COPY format. Call {@linkcode row} with
 * the number of fields, then one method per field in the COPY's column order;
 * {@linkcode take} hands over what is encoded so far.
 *
 * @example
 * ```ts
 * const rows = new BinaryCopyEncoder();
 * rows.row(2);
 * rows.int64(1);
 * rows.text("hello");
 * rows.end();
 * const bytes = rows.take();
 * ```
 */
export class BinaryCopyEncoder {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;
  /** Byte range of the last text field, for {@linkcode tailOfLastText}. */
  #lastTextStart = 0;
  #lastTextEnd = 0;

  /** @param capacity Bytes to allocate at first; grows as needed. */
  constructor(capacity: number = COPY_CHUNK_BYTES + 64 * 1024) {
    this.#bytes = new Uint8Array(capacity);
    this.#view = new DataView(this.#bytes.buffer);
    this.#bytes.set(HEADER);
    this.#length = HEADER.length;
  }

  /** Bytes encoded and not taken yet. */
  get length(): number {
    return this.#length;
  }

  #ensure(bytes: number): void {
    if (this.#length + bytes <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + bytes));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  /** Starts a row of `fields` fields. */
  row(fields: number): void {
    this.#ensure(2);
    this.#view.setInt16(this.#length, fields);
    this.#length += 2;
  }

  /** A NULL field. */
  null(): void {
    this.#ensure(4);
    this.#view.setInt32(this.#length, -1);
    this.#length += 4;
  }

  /** A `bigint` field from a whole number of magnitude below 2^53. */
  int64(value: number): void {
    this.#ensure(12);
    const view = this.#view;
    view.setInt32(this.#length, 8);
    view.setInt32(this.#length + 4, Math.floor(value / TWO_TO_32));
    view.setUint32(this.#length + 8, value >>> 0);
    this.#length += 12;
  }

  /** An `integer` field. */
  int32(value: number): void {
    this.#ensure(8);
    this.#view.setInt32(this.#length, 4);
    this.#view.setInt32(this.#length + 4, value);
    this.#length += 8;
  }

  /** A `smallint` field. */
  int16(value: number): void {
    this.#ensure(6);
    this.#view.setInt32(this.#length, 2);
    this.#view.setInt16(this.#length + 4, value);
    this.#length += 6;
  }

  /**
   * A `text` field, UTF-8 encoded (a lone surrogate becomes U+FFFD). The
   * caller makes sure it holds no NUL, which PostgreSQL text cannot store.
   *
   * @returns Whether the text was all ASCII (one byte per character).
   */
  text(value: string): boolean {
    this.#ensure(4 + value.length * 3);
    const start = this.#length + 4;
    const bytes = this.#bytes;
    let written = 0;
    if (value.length <= SHORT_TEXT) {
      // Short ASCII text (hosts, programs) is copied char by char: a call to
      // encodeInto costs more than that.
      const n = value.length;
      while (written < n) {
        const c = value.charCodeAt(written);
        if (c > 0x7f) break;
        bytes[start + written++] = c;
      }
      if (written < n) written = encoder.encodeInto(value, bytes.subarray(start)).written;
    } else {
      written = encoder.encodeInto(value, bytes.subarray(start)).written;
    }
    this.#view.setInt32(this.#length, written);
    this.#length = start + written;
    this.#lastTextStart = start;
    this.#lastTextEnd = this.#length;
    return written === value.length;
  }

  /**
   * A `text` field equal to the last text field from its byte `from` on:
   * a message that is the end of its raw line costs a copy, not a second
   * encoding. Only valid when that field was all ASCII, so that `from`, a
   * character offset, is also its byte offset.
   */
  tailOfLastText(from: number): void {
    const start = this.#lastTextStart + from;
    const end = this.#lastTextEnd;
    this.#ensure(4 + end - start);
    this.#view.setInt32(this.#length, end - start);
    this.#bytes.copyWithin(this.#length + 4, start, end);
    this.#length += 4 + end - start;
  }

  /** Ends the data: the trailer after the last row. */
  end(): void {
    this.#ensure(2);
    this.#view.setInt16(this.#length, -1);
    this.#length += 2;
  }

  /**
   * Hands over the bytes encoded so far (the buffer's ownership goes with
   * them) and starts an empty one.
   */
  take(): Uint8Array {
    const taken = this.#bytes.subarray(0, this.#length);
    this.#bytes = new Uint8Array(this.#bytes.length);
    this.#view = new DataView(this.#bytes.buffer);
    this.#length = 0;
    return taken;
  }
}

/**
 * Runs a `COPY … FROM STDIN`, writes it the chunks `chunks` yields as they
 * come (a full socket buffer is waited out), then runs `confirm`, a statement
 * of the same transaction, and resolves when it succeeds. When the COPY
 * failed, `confirm` fails too, and the COPY's own error is thrown.
 *
 * The driver never settles a COPY that the server rejects after its end
 * (porsager/postgres#1173), so the COPY's completion is never awaited:
 * the statement after it is, and the COPY's error is caught on its way to
 * the query object, which the driver has already settled.
 *
 * @param statement The `COPY … FROM STDIN` statement, not yet run.
 * @param chunks The data, in order.
 * @param confirm A cheap statement of the same transaction, not yet run.
 * @example
 * ```ts
 * await copyIn(tx`COPY t (a) FROM STDIN (FORMAT binary)`, [bytes], tx`SELECT 1`);
 * ```
 */
export async function copyIn(
  statement: PendingQuery<Row[]>,
  chunks: Iterable<Uint8Array>,
  confirm: PendingQuery<Row[]>,
): Promise<void> {
  let failure: unknown;
  const query = statement as unknown as { reject(error: unknown): void };
  const reject = query.reject;
  query.reject = (error) => {
    failure = error;
    reject.call(query, error);
  };
  const stream = await statement.writable() as Writable & {
    _final(callback: (error?: Error | null) => void): void;
  };
  const sent = new Promise<void>((resolve, reject) => {
    // The driver's _final sends CopyDone; from then on the connection takes the next statement.
    const final = stream._final;
    stream._final = (callback) => {
      final.call(stream, callback);
      resolve();
    };
    stream.once("error", reject);
    stream.once("close", () => reject(new Error("The COPY ended before its data was sent")));
  });
  sent.catch(() => {});
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await Promise.race([once(stream, "drain"), sent]);
  }
  stream.end();
  await sent;
  try {
    await confirm;
  } catch (error) {
    throw failure ?? error;
  }
}
