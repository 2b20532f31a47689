/**
 * A line client that connects from a chosen local address, so that one test
 * can be many clients: every 127.x.y.z is a distinct source on loopback.
 * (`Deno.connect` cannot bind the local side; node:net's `localAddress` can.)
 *
 * @module
 */

import net from "node:net";
import { LineSplitter } from "../../protocol/mod.ts";

/**
 * A connected client whose server lines are read in order.
 *
 * @example
 * ```ts
 * await using client = await SourceClient.connect(port, "127.0.1.7");
 * await client.readLine(); // the welcome line
 * ```
 */
export class SourceClient {
  readonly #socket: net.Socket;
  readonly #splitter = new LineSplitter({ maxLineBytes: 1 << 20 });
  readonly #lines: string[] = [];
  #waiter: (() => void) | null = null;
  #ended = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      this.#splitter.push(chunk, {
        line: (text) => this.#lines.push(text),
        overflow: () => this.#lines.push("<overflow>"),
      });
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  /**
   * Connects to 127.0.0.1:`port` from `localAddress`.
   *
   * @param port The server's port.
   * @param localAddress A loopback address, e.g. `127.0.1.7`.
   * @returns The client.
   * @throws {Error} When the connection fails.
   */
  static connect(port: number, localAddress: string): Promise<SourceClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => {
        socket.off("error", reject);
        resolve(new SourceClient(socket));
      });
      socket.once("error", reject);
    });
  }

  /**
   * Sends one line (a newline is appended); resolves when the socket took it.
   *
   * @param line The line.
   * @returns False when the connection is already gone.
   */
  send(line: string): Promise<boolean> {
    if (this.#ended) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#socket.write(line + "\n", (error) => resolve(!error));
    });
  }

  /**
   * The next line from the server.
   *
   * @returns The line, or null at the end of the stream.
   */
  async readLine(): Promise<string | null> {
    while (this.#lines.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#waiter = resolve);
    }
    return this.#lines.shift()!;
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    this.#ended = true;
    this.#socket.destroy();
    this.#wake();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }
}
