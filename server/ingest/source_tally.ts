/**
 * Per-sender counts of one syslog batch, built by the pool worker while it
 * parses the batch, so that the writer updates each sender's row once per
 * batch rather than once per event.
 *
 * @module
 */

import type { SourceUpdate } from "../store/mod.ts";
import type { SyslogOrigin } from "./line_batch.ts";

/**
 * Counts the events and unparsed events of each sender of a batch and keeps
 * the hostname each one last reported.
 *
 * @example
 * ```ts
 * const tally = new SourceTally(job.syslog, job.receivedAt);
 * tally.add(0, "edge-router", false);
 * batch.sources = tally.updates();
 * ```
 */
export class SourceTally {
  readonly #origin: SyslogOrigin;
  readonly #at: number;
  readonly #events: Uint32Array;
  readonly #unparsed: Uint32Array;
  readonly #hostnames: (string | null)[];

  /**
   * @param origin Who sent the batch's lines.
   * @param at When the batch was received, ms since the epoch.
   */
  constructor(origin: SyslogOrigin, at: number) {
    this.#origin = origin;
    this.#at = at;
    const n = origin.addresses.length;
    this.#events = new Uint32Array(n);
    this.#unparsed = new Uint32Array(n);
    this.#hostnames = new Array(n).fill(null);
  }

  /**
   * The address that sent a line, which is also its host when the line names none.
   *
   * @param line Index of the line in the batch.
   * @returns The sender's IP address.
   */
  senderOf(line: number): string {
    return this.#origin.addresses[this.#origin.senders?.[line] ?? 0] ?? "";
  }

  /**
   * Counts one line.
   *
   * @param line Index of the line in the batch.
   * @param reportedHost The hostname the line itself names, or null.
   * @param unparsed Whether no known format matched the line.
   */
  add(line: number, reportedHost: string | null, unparsed: boolean): void {
    const sender = this.#origin.senders?.[line] ?? 0;
    this.#events[sender]!++;
    if (unparsed) this.#unparsed[sender]!++;
    if (reportedHost !== null) this.#hostnames[sender] = reportedHost;
  }

  /**
   * The counts, one entry per sender that sent at least one line.
   *
   * @returns Updates for the sources table.
   */
  updates(): SourceUpdate[] {
    const out: SourceUpdate[] = [];
    this.#origin.addresses.forEach((address, i) => {
      if (this.#events[i] === 0) return;
      out.push({
        address,
        transport: this.#origin.transport,
        hostname: this.#hostnames[i] ?? null,
        events: this.#events[i]!,
        unparsed: this.#unparsed[i]!,
        at: this.#at,
      });
    });
    return out;
  }
}
