/**
 * A batch of syslog messages being collected on the main thread before it
 * goes to a pool worker as one `SyslogLineBatch`.
 *
 * @module
 */

import type { SyslogTransport } from "../store/mod.ts";
import type { SyslogLineBatch } from "../ingest/mod.ts";

/** Most messages in one batch, as for agent connections. */
export const MAX_SYSLOG_BATCH_MESSAGES = 1000;

/**
 * Removes the line ends and NUL padding that senders leave at the end of a
 * message (rsyslog's RFC 5424 template ends in LF inside the octet count;
 * some devices pad datagrams with NULs).
 *
 * @param message A message as framed.
 * @returns The message without trailing LF, CR and NUL.
 * @example
 * ```ts
 * trimMessageEnd("<13>hello\n\0"); // "<13>hello"
 * ```
 */
export function trimMessageEnd(message: string): string {
  let end = message.length;
  for (;;) {
    const c = message.charCodeAt(end - 1);
    if (c !== 0x0a && c !== 0x0d && c !== 0x00) break;
    end--;
  }
  return end === message.length ? message : message.slice(0, end);
}

/**
 * Messages and their senders, in arrival order.
 *
 * @example
 * ```ts
 * const batch = new SyslogBatch("udp");
 * batch.add("<13>Nov 23 19:43:33 sw1 x: y", "10.0.0.5", 0);
 * await pool.ingest(batch.toLineBatch(), pool.openLane());
 * ```
 */
export class SyslogBatch {
  /** The messages. */
  readonly lines: string[] = [];
  readonly #transport: SyslogTransport;
  readonly #clock: () => number;
  #receivedAt = 0;
  readonly #addresses: string[] = [];
  readonly #index = new Map<string, number>();
  /** Sender index per line; null while every line comes from the first sender. */
  #senders: number[] | null = null;
  readonly #truncated: number[] = [];
  readonly #escaped: number[] = [];

  /**
   * @param transport How the messages arrived.
   * @param clock The current time, ms since the epoch.
   */
  constructor(transport: SyslogTransport, clock: () => number = Date.now) {
    this.#transport = transport;
    this.#clock = clock;
  }

  /** When the first message was added, ms since the epoch (0 while empty). */
  get receivedAt(): number {
    return this.#receivedAt;
  }

  /** Messages in the batch. */
  get size(): number {
    return this.lines.length;
  }

  /**
   * Adds one message; an empty one (nothing but line ends) is skipped.
   *
   * @param message The message as framed.
   * @param address The sender's IP address.
   * @param droppedBytes Bytes cut off beyond the size limit, 0 when whole.
   * @param escaped The message was not UTF-8 and is escaped (`decodeLogBytes()`).
   * @returns Whether the message was added.
   */
  add(message: string, address: string, droppedBytes: number, escaped = false): boolean {
    const text = trimMessageEnd(message);
    if (text === "") return false;
    if (this.lines.length === 0) this.#receivedAt = this.#clock();
    let sender = this.#index.get(address);
    if (sender === undefined) {
      sender = this.#addresses.length;
      this.#addresses.push(address);
      this.#index.set(address, sender);
      if (sender > 0 && this.#senders === null) {
        this.#senders = new Array(this.lines.length).fill(0);
      }
    }
    if (droppedBytes > 0) this.#truncated.push(this.lines.length);
    if (escaped) this.#escaped.push(this.lines.length);
    this.lines.push(text);
    this.#senders?.push(sender);
    return true;
  }

  /**
   * The messages and their senders, for `WorkerPool.ingest`.
   *
   * @returns The batch in the ingest path's form.
   */
  toLineBatch(): SyslogLineBatch {
    return {
      source: "syslog",
      receivedAt: this.receivedAt,
      lines: this.lines,
      origin: {
        transport: this.#transport,
        addresses: this.#addresses,
        senders: this.#senders === null ? null : Uint16Array.from(this.#senders),
        truncated: this.#truncated,
        escaped: this.#escaped,
      },
    };
  }
}
