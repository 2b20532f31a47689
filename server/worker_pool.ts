/**
 * The fixed pool of Web Workers behind the listener, and the writer worker it
 * feeds. The main thread hands each pool worker whole batches of lines through
 * a bounded credit window; pool workers parse them and pass the result to the
 * writer over a direct MessagePort; the writer commits and reports back here.
 *
 * ```
 * main (sockets) --batch--> pool worker i --parsed batch--> writer --results--> main (ACKs)
 * ```
 *
 * @module
 */

import type { AgentRegistration, HeartbeatRecord, Role } from "./store/store.ts";
import { Semaphore } from "./semaphore.ts";
import type {
  EventsJob,
  JobResult,
  PoolReply,
  PoolRequest,
  StoreLocation,
  WriterReply,
  WriterRequest,
} from "./worker_messages.ts";

/**
 * Event batches queued or in progress across all workers. When every credit is
 * taken, connections stop reading from their sockets until one is returned, so
 * memory stays bounded however fast clients send.
 */
export const MAX_BATCHES_IN_FLIGHT = 64;

/** How long a worker may take to open the store before start-up fails, in ms. */
const WORKER_START_TIMEOUT_MS = 30_000;

/** Options of {@linkcode WorkerPool.start}. */
export interface WorkerPoolOptions {
  /** Where the workers open the store. */
  readonly store: StoreLocation;
  /**
   * Pool workers (the writer worker comes in addition).
   * @default {navigator.hardwareConcurrency}
   */
  readonly workers?: number;
  /** Called when a worker dies unexpectedly; the server logs it. */
  readonly onWorkerError?: (message: string) => void;
}

/** Result of a LOGIN verified by a pool worker. */
export interface LoginOutcome {
  readonly ok: boolean;
  readonly userId: number | null;
  readonly role: Role | null;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Index of the pool worker holding the job, for load balancing. */
  worker: number;
}

/**
 * Owns the threads. All methods are called from the main thread.
 *
 * @example
 * ```ts
 * const pool = await WorkerPool.start({ store: { dbPath: "nms.db", sync: "full" }, workers: 2 });
 * const statuses = await pool.appendEvents({ ... });
 * await pool.close();
 * ```
 */
export class WorkerPool {
  readonly #pool: Worker[];
  readonly #load: number[];
  readonly #writer: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #credits = new Semaphore(MAX_BATCHES_IN_FLIGHT);
  #nextJob = 1;
  #closed = false;
  #writerClosed?: () => void;
  #onIdle?: () => void;
  readonly #onError: (message: string) => void;

  private constructor(pool: Worker[], writer: Worker, onError: (message: string) => void) {
    this.#pool = pool;
    this.#load = pool.map(() => 0);
    this.#writer = writer;
    this.#onError = onError;
  }

  /**
   * Starts the writer and the pool workers and waits until each has opened the store.
   *
   * @param options Store location and pool size.
   * @returns The running pool.
   */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const size = options.workers ?? navigator.hardwareConcurrency;
    if (!Number.isInteger(size) || size < 1 || size > 64) {
      throw new RangeError(`Cannot start worker pool: invalid worker count ${size}`);
    }
    const spawn = (name: string) =>
      new Worker(new URL(`./${name}.ts`, import.meta.url).href, { type: "module", name });
    const writer = spawn("writer_worker");
    const pool: Worker[] = [];
    const started: Promise<void>[] = [];
    try {
      started.push(ready(writer, { kind: "init", store: options.store } satisfies WriterRequest));
      await started[0];
      for (let i = 0; i < size; i++) {
        const worker = spawn("pool_worker");
        pool.push(worker);
        const channel = new MessageChannel();
        writer.postMessage({ kind: "port", port: channel.port2 }, [channel.port2]);
        started.push(
          ready(
            worker,
            { kind: "init", store: options.store, writer: channel.port1 } satisfies PoolRequest,
            [channel.port1],
          ),
        );
      }
      await Promise.all(started);
    } catch (error) {
      writer.terminate();
      for (const worker of pool) worker.terminate();
      throw error;
    }
    const instance = new WorkerPool(pool, writer, options.onWorkerError ?? (() => {}));
    instance.#listen();
    return instance;
  }

  /** Number of pool workers. */
  get size(): number {
    return this.#pool.length;
  }

  /** Event batches currently queued or in progress. */
  get batchesInFlight(): number {
    return this.#credits.inUse;
  }

  #listen(): void {
    this.#pool.forEach((worker, index) => {
      worker.onmessage = (event: MessageEvent<PoolReply>) => this.#onPoolReply(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        this.#onError(`Pool worker ${index} failed: ${event.message}`);
      };
    });
    this.#writer.onmessage = (event: MessageEvent<WriterReply>) => this.#onWriterReply(event.data);
    this.#writer.onerror = (event) => {
      event.preventDefault();
      this.#onError(`Writer worker failed: ${event.message}`);
    };
  }

  #settle(jobId: number, value: unknown, error?: string): void {
    const pending = this.#pending.get(jobId);
    if (!pending) return;
    this.#pending.delete(jobId);
    if (pending.worker >= 0) this.#load[pending.worker]!--;
    if (error !== undefined) pending.reject(new Error(error));
    else pending.resolve(value);
    if (this.#pending.size === 0) this.#onIdle?.();
  }

  #onPoolReply(reply: PoolReply): void {
    if (reply.kind === "login") {
      this.#settle(reply.jobId, { ok: reply.ok, userId: reply.userId, role: reply.role });
    } else if (reply.kind === "failed") {
      this.#settle(reply.jobId, undefined, reply.message);
    }
  }

  #onWriterReply(reply: WriterReply): void {
    if (reply.kind === "done") {
      for (const result of reply.results) this.#settleResult(result);
    } else if (reply.kind === "closed") {
      this.#writerClosed?.();
    }
  }

  #settleResult(result: JobResult): void {
    if (result.error !== undefined) this.#settle(result.jobId, undefined, result.error);
    else this.#settle(result.jobId, result.statuses ?? result.agentId);
  }

  #track<T>(worker: number): [number, Promise<T>] {
    const jobId = this.#nextJob++;
    const promise = new Promise<T>((resolve, reject) => {
      this.#pending.set(jobId, { resolve: resolve as (v: unknown) => void, reject, worker });
    });
    if (worker >= 0) this.#load[worker]!++;
    return [jobId, promise];
  }

  /**
   * The pool worker with the fewest jobs. A connection keeps using the worker it
   * got while it has batches in flight: each worker and each worker→writer port
   * is FIFO, so that keeps a connection's events in the order they were sent.
   */
  leastLoaded(): number {
    let best = 0;
    for (let i = 1; i < this.#load.length; i++) {
      if (this.#load[i]! < this.#load[best]!) best = i;
    }
    return best;
  }

  /**
   * Waits for a credit in the batch window. Call before {@linkcode appendEvents};
   * the credit is returned when that job completes.
   */
  acquireBatchCredit(): Promise<void> {
    return this.#credits.acquire();
  }

  /**
   * Parses and stores a batch of lines. Requires a credit from
   * {@linkcode acquireBatchCredit}, which this releases.
   *
   * @param job The lines and their origin, without a job id.
   * @param worker Index of the pool worker, from {@linkcode leastLoaded}.
   * @returns One APPEND_STATUS per line, after COMMIT.
   */
  async appendEvents(job: Omit<EventsJob, "kind" | "jobId">, worker: number): Promise<Uint8Array> {
    const [jobId, promise] = this.#track<Uint8Array>(worker);
    const request: EventsJob = { kind: "events", jobId, ...job };
    this.#pool[worker]!.postMessage(request);
    try {
      return await promise;
    } finally {
      this.#credits.release();
    }
  }

  /**
   * Verifies a LOGIN in a pool worker (scrypt runs off the main thread).
   *
   * @returns Whether the credentials are valid, and the user's id and role.
   */
  login(username: string, password: string, address: string): Promise<LoginOutcome> {
    const worker = this.leastLoaded();
    const [jobId, promise] = this.#track<LoginOutcome>(worker);
    const request: PoolRequest = {
      kind: "login",
      jobId,
      username,
      password,
      address,
      at: Date.now(),
    };
    this.#pool[worker]!.postMessage(request);
    return promise;
  }

  #write<T>(build: (jobId: number) => WriterRequest): Promise<T> {
    const [jobId, promise] = this.#track<T>(-1);
    this.#writer.postMessage(build(jobId));
    return promise;
  }

  /** Creates or updates a node. @returns Its id, after COMMIT. */
  registerAgent(registration: AgentRegistration): Promise<number> {
    return this.#write((jobId) => ({ kind: "register", jobId, registration }));
  }

  /** Records a heartbeat, after COMMIT. */
  recordHeartbeat(heartbeat: HeartbeatRecord): Promise<void> {
    return this.#write((jobId) => ({ kind: "heartbeat", jobId, heartbeat }));
  }

  /** Marks a node as cleanly stopped, after COMMIT. */
  markAgentStopped(agentId: number, at: number): Promise<void> {
    return this.#write((jobId) => ({ kind: "bye", jobId, agentId, at }));
  }

  /**
   * Waits for every job in progress, commits, closes the writer's database and
   * stops all workers. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending.size > 0) await new Promise<void>((resolve) => this.#onIdle = resolve);
    const closed = new Promise<void>((resolve) => this.#writerClosed = resolve);
    this.#writer.postMessage({ kind: "shutdown" } satisfies WriterRequest);
    await closed;
    for (const worker of this.#pool) worker.terminate();
    this.#writer.terminate();
  }
}

/** Sends `init` and waits for the worker to answer `ready`. */
function ready(worker: Worker, init: unknown, transfer: Transferable[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("Worker did not start in time")),
      WORKER_START_TIMEOUT_MS,
    );
    worker.onmessage = (event: MessageEvent<{ kind: string; message?: string }>) => {
      clearTimeout(timer);
      if (event.data.kind === "ready") resolve();
      else reject(new Error(event.data.message ?? "Worker failed to start"));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      clearTimeout(timer);
      reject(new Error(event.message));
    };
    worker.postMessage(init, transfer);
  });
}
