/**
 * The writer's handle on the checkpoint worker (server/ingest/checkpoint_worker.ts),
 * which copies SQLite's write-ahead log back into the database file on its own
 * connection and thread, so the writer's commits never include a checkpoint.
 *
 * With SQLite's default, the commit that takes the log past 1,000 pages
 * checkpoints it on the spot, in the writer's time
 * (docs/decisions/0003-ingest-hot-path.md). Instead the writer
 * asks for a checkpoint after each commit and the worker runs a `PASSIVE` one,
 * which blocks neither the writer nor readers. Once everything is copied, the
 * writer's next transaction starts the log over, so it stays short; if the
 * worker ever fell behind, the writer's own automatic checkpoint (at
 * {@linkcode WRITER_SAFETY_CHECKPOINT_PAGES}) still bounds the log.
 *
 * @module
 */

/**
 * Pages of write-ahead log after which the writer checkpoints by itself, as a
 * safety net behind the checkpoint worker (SQLite's own default is 1,000):
 * about 40 MiB with 4 KiB pages.
 */
export const WRITER_SAFETY_CHECKPOINT_PAGES = 10_000;

/** Messages to the checkpoint worker. */
export type CheckpointRequest =
  /** The database file to checkpoint; sent once, first. */
  | { readonly kind: "init"; readonly path: string }
  /** New commits are in the log: copy them (requests arriving during a pass are merged). */
  | { readonly kind: "checkpoint" }
  | { readonly kind: "close" };

/** What one checkpoint pass found and did, as `PRAGMA wal_checkpoint` reports it. */
export interface CheckpointPass {
  /** Frames in the write-ahead log. */
  readonly logFrames: number;
  /** Of those, frames now copied into the database file. */
  readonly checkpointedFrames: number;
}

/** Messages from the checkpoint worker. */
export type CheckpointReply =
  | { readonly kind: "closed" }
  | { readonly kind: "checkpointed"; readonly pass: CheckpointPass }
  | { readonly kind: "warning"; readonly message: string };

/**
 * A running checkpoint worker.
 *
 * @example
 * ```ts
 * const checkpointer = new Checkpointer("data/nms.db", console.warn);
 * // after each COMMIT:
 * checkpointer.request();
 * await checkpointer.close();
 * ```
 */
export class Checkpointer {
  readonly #worker: Worker;
  #closed: Promise<void> | null = null;

  /**
   * Starts the worker on a database file.
   *
   * @param path The SQLite file (not `:memory:`).
   * @param onWarning Called with a one-line message if a checkpoint fails.
   * @param onPass Called after each pass with what it did.
   */
  constructor(
    path: string,
    onWarning: (message: string) => void,
    onPass: (pass: CheckpointPass) => void = () => {},
  ) {
    this.#worker = new Worker(new URL("./checkpoint_worker.ts", import.meta.url).href, {
      type: "module",
      name: "checkpoint_worker",
    });
    this.#worker.addEventListener("message", (event: MessageEvent<CheckpointReply>) => {
      if (event.data.kind === "warning") onWarning(event.data.message);
      else if (event.data.kind === "checkpointed") onPass(event.data.pass);
    });
    this.#post({ kind: "init", path });
  }

  #post(request: CheckpointRequest): void {
    this.#worker.postMessage(request);
  }

  /** Asks for a checkpoint of what has been committed so far. */
  request(): void {
    if (!this.#closed) this.#post({ kind: "checkpoint" });
  }

  /** Closes the worker's connection and stops it. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#worker.addEventListener("message", (event: MessageEvent<CheckpointReply>) => {
        if (event.data.kind !== "closed") return;
        this.#worker.terminate();
        resolve();
      });
      this.#post({ kind: "close" });
    });
    return this.#closed;
  }
}
