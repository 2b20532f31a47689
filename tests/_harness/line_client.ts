/**
 * A raw TCP line client for byte-exact conversations with the server, like `nc`.
 *
 * @module
 */

import { LineSplitter } from "../../protocol/mod.ts";
import { writeAll } from "./write_all.ts";

const encoder = new TextEncoder();

/**
 * A connected client that reads the server's lines in order.
 *
 * @example
 * ```ts
 * await using client = await LineClient.connect(port);
 * await client.send("LOGIN admin admin");
 * await client.readLine(); // "ACK OK Login successful"
 * ```
 */
export class LineClient {
  readonly #conn: Deno.Conn;
  readonly #splitter = new LineSplitter({ maxLineBytes: 1 << 20 });
  readonly #lines: string[] = [];
  readonly #buffer = new Uint8Array(64 * 1024);
  #eof = false;
  #closed = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number, hostname = "127.0.0.1"): Promise<LineClient> {
    return new LineClient(await Deno.connect({ hostname, port }));
  }

  /** Sends one line (a newline is appended). */
  send(line: string): Promise<void> {
    return this.sendRaw(encoder.encode(line + "\n"));
  }

  /** Sends bytes as they are. */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    await writeAll(this.#conn, bytes);
  }

  /** The next line from the server, or null at end of stream. */
  async readLine(): Promise<string | null> {
    while (this.#lines.length === 0) {
      if (this.#eof) return null;
      let n: number | null = null;
      try {
        n = await this.#conn.read(this.#buffer);
      } catch {
        n = null;
      }
      if (n === null) {
        this.#eof = true;
        return null;
      }
      this.#splitter.push(this.#buffer.subarray(0, n), {
        line: (text) => this.#lines.push(text),
        overflow: () => this.#lines.push("<overflow>"),
      });
    }
    return this.#lines.shift()!;
  }

  /** Reads `count` lines; fails if the stream ends first. */
  async readLines(count: number): Promise<string[]> {
    const lines: string[] = [];
    while (lines.length < count) {
      const line = await this.readLine();
      if (line === null) throw new Error(`Stream ended after ${lines.length} of ${count} lines`);
      lines.push(line);
    }
    return lines;
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
