/**
 * Hands syslog batches to the worker pool, the way agent connections do:
 * one credit of the pool's batch window per batch, so that a full window
 * stops the sender (TCP stops reading; UDP queues, then drops and counts).
 * Syslog has no acknowledgement, so nothing waits for the commit but
 * shutdown.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import type { IngestLane, WorkerPool } from "../ingest/mod.ts";
import type { SyslogBatch } from "./syslog_batch.ts";
import type { SyslogStats } from "./stats.ts";

/** What the syslog listeners share. */
export interface SyslogContext {
  readonly pool: WorkerPool;
  readonly log: Logger;
  readonly stats: SyslogStats;
}

/**
 * Sends the batches of one stream (a TCP connection, or the UDP socket) to
 * the pool. Like an agent connection it has a lane of its own in the pool's
 * fair turns, so its messages are stored in the order sent and a flooding
 * sender cannot hold back the others.
 *
 * @example
 * ```ts
 * const sender = new SyslogBatchSender(ctx);
 * await sender.send(batch); // waits for a credit, not for the commit
 * await sender.settled();
 * ```
 */
export class SyslogBatchSender {
  readonly #ctx: SyslogContext;
  #lane: IngestLane | null = null;
  readonly #work = new Set<Promise<void>>();

  /** @param ctx The pool, logger and counters. */
  constructor(ctx: SyslogContext) {
    this.#ctx = ctx;
  }

  /**
   * Dispatches a batch to a pool worker.
   *
   * @param batch Messages to store; empty batches are ignored.
   * @returns Resolves once the batch has a credit and is dispatched (backpressure), not after COMMIT.
   */
  async send(batch: SyslogBatch): Promise<void> {
    const count = batch.size;
    if (count === 0) return;
    const { pool, log, stats } = this.#ctx;
    await pool.acquireBatchCredit(count);
    this.#lane ??= pool.openLane();
    const work = pool.ingest(batch.toLineBatch(), this.#lane).then(
      () => {
        stats.stored += count;
      },
      (error) => {
        stats.failed += count;
        log.error("Syslog events not stored", {
          events: count,
          error: (error as Error).message,
        });
      },
    ).finally(() => {
      this.#work.delete(work);
    });
    this.#work.add(work);
  }

  /** Resolves when every dispatched batch is committed (or has failed). */
  async settled(): Promise<void> {
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
  }
}
