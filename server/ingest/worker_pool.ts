/**
 * The fixed pool of Web Workers that parse. The main thread hands each pool
 * worker whole batches of lines through a bounded credit window; a pool worker
 * parses a batch, sends its events to the writer over a direct MessagePort and
 * tells the main thread it is done and which lines it rejected, if any; the
 * writer commits and reports back, and the pool answers the batch with one
 * status per line. Batches wait on the main thread in one lane per sender and
 * go to the workers in fair turns (`lane_turns.ts`), a few per worker at a
 * time, so a flooding connection cannot queue its batches ahead of another's.
 *
 * ```
 * main (sockets) --batch--> pool worker i --parsed events--> writer --commit--> main (ACKs)
 *                                         \--rejected lines--------------------/
 * ```
 *
 * @module
 */

import type { RuleSet } from "../rules/mod.ts";
import { isValidUserName, type LoginFailurePolicy, MAX_USER_NAME_CHARS } from "../store/mod.ts";
import { TOKEN_LOGIN_USER } from "../../protocol/mod.ts";
import { type LineBatch, lineCount, transferGroup } from "./line_batch.ts";
import { type Lane, LaneTurns, type Turn } from "./lane_turns.ts";
import { mergeStatuses } from "./line_status.ts";
import { Semaphore } from "./semaphore.ts";
import type {
  BatchCommit,
  LoginOutcome,
  ParseItem,
  PoolReply,
  PoolRequest,
  StoreLocation,
} from "./worker_messages.ts";
import { ready, spawnWorker } from "./worker_start.ts";
import type { Writer } from "./writer.ts";

/**
 * Credits of the batches queued or in progress across all workers: a batch
 * takes one per line and {@linkcode BATCH_OVERHEAD_CREDITS} more
 * ({@linkcode batchCredits}). When too few are left, connections stop reading
 * from their sockets until credits are returned, so memory stays bounded
 * however fast clients send, whether the batches are full or a fleet's
 * one-line batches.
 */
export const MAX_CREDITS_IN_FLIGHT = 128_000;

/**
 * Credits a batch takes beyond one per line: what holding a batch costs
 * besides its lines. Bounds the number of tiny batches in flight.
 */
export const BATCH_OVERHEAD_CREDITS = 15;

/**
 * Credits a batch of `lines` lines takes from the window.
 *
 * @param lines Lines of the batch.
 * @returns Its credits, at most {@linkcode MAX_CREDITS_IN_FLIGHT}.
 * @example
 * ```ts
 * batchCredits(1); // 16
 * ```
 */
export function batchCredits(lines: number): number {
  return Math.min(MAX_CREDITS_IN_FLIGHT, lines + BATCH_OVERHEAD_CREDITS);
}

/**
 * Messages of batches handed to one pool worker that it has not finished
 * parsing: the one it parses and the next, so it never waits for the main
 * thread. The rest wait in their senders' lanes, where fair turns order them;
 * a batch handed over can no longer be overtaken.
 */
export const MAX_BATCHES_PER_WORKER = 2;

/**
 * Most batches in one message to a pool worker. Many agents that each send a
 * line or a few at a time make many tiny batches: taken in turns into one
 * message, they cost one crossing to the worker, one to the writer and one
 * reply, instead of one each (docs/SCALING.md).
 */
export const MAX_BATCHES_PER_MESSAGE = 256;

/**
 * Lines beyond which no further batch joins a message (its first batch always
 * goes): large batches still travel one per message, so a worker's message is
 * never much more work than one full batch.
 */
export const MAX_LINES_PER_MESSAGE = 1000;

/**
 * CPUs left to the writer worker when the pool size is not given. The writer
 * is the bottleneck of ingest, and a busy pool worker beyond the other CPUs
 * takes its time from the writer (docs/decisions/0001-worker-pool-and-writer.md).
 */
export const CPUS_RESERVED_FOR_WRITER = 1;

/**
 * The pool size used when none is given: one worker per CPU not reserved for
 * the writer, at least one.
 *
 * @param cpus CPUs of the machine.
 * @returns The number of pool workers.
 * @example
 * ```ts
 * defaultWorkerCount(2); // 1
 * defaultWorkerCount(8); // 7
 * ```
 */
export function defaultWorkerCount(cpus: number = navigator.hardwareConcurrency): number {
  return Math.max(1, cpus - CPUS_RESERVED_FOR_WRITER);
}

/**
 * Password verifications each pool worker runs at once, so that the pool as a
 * whole verifies one per CPU whatever its size. scrypt runs off the worker's
 * thread and holds 32 MiB while it runs, so this also bounds the memory a
 * storm of logins takes: one scrypt per CPU.
 *
 * @param cpus CPUs of the machine.
 * @param workers Pool workers.
 * @returns Concurrent verifications per worker, at least one.
 * @example
 * ```ts
 * loginConcurrency(2, 1); // 2: one worker on 2 CPUs verifies two at a time
 * ```
 */
export function loginConcurrency(cpus: number, workers: number): number {
  return Math.max(1, Math.ceil(cpus / workers));
}

/** The init message of a pool worker, one of `workers`, that sends its batches to `writer`. */
function poolWorkerInit(store: StoreLocation, writer: MessagePort, workers: number): PoolRequest {
  return {
    kind: "init",
    store,
    writer,
    logins: loginConcurrency(navigator.hardwareConcurrency, workers),
  };
}

/** Options of {@linkcode WorkerPool.start}. */
export interface WorkerPoolOptions {
  /** Where the workers open the store. */
  readonly store: StoreLocation;
  /** The writer the workers send their batches to. */
  readonly writer: Writer;
  /**
   * Pool workers (the writer worker comes in addition).
   * @default {defaultWorkerCount()}
   */
  readonly workers?: number;
  /** Called when a worker dies unexpectedly; the server logs it. */
  readonly onWorkerError?: (message: string) => void;
  /**
   * Detection rules the workers match (server/rules/).
   * @default {null (no rules)}
   */
  readonly rules?: RuleSet | null;
}

/** Lockout inputs of {@linkcode WorkerPool.login} (server/auth/lockout.ts). */
export interface LoginSecurity {
  /** Client IP without port. */
  readonly ip: string;
  /** Lockout policy, or null when the lockout is off. */
  readonly lockout: LoginFailurePolicy | null;
}

/** A batch waiting in its sender's lane. */
export interface QueuedBatch {
  readonly jobId: number;
  readonly batch: LineBatch;
}

/**
 * One sender's lane in the pool's turns: an agent connection or a syslog
 * stream opens one with {@linkcode WorkerPool.openLane} and sends all its
 * batches through it.
 */
export type IngestLane = Lane<QueuedBatch>;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Index of the pool worker holding the job, for load balancing; -1 while it waits in its lane. */
  worker: number;
  /** The lane of a batch. */
  lane?: IngestLane;
  /** Lines of a batch: when the writer stored as many, none was rejected. */
  lines?: number;
  /** A batch's rejected lines, when its pool worker rejected any. */
  rejected?: Uint8Array;
  /** The store's statuses of a batch's other lines, once the writer has committed them. */
  stored?: Uint8Array;
}

/**
 * Owns the pool workers. All methods are called from the main thread.
 *
 * @example
 * ```ts
 * const store = { url: "nms.db", sync: "full" } as const;
 * const writer = await Writer.start({ store });
 * const pool = await WorkerPool.start({ store, writer, workers: 2 });
 * const lane = pool.openLane();
 * await pool.acquireBatchCredit();
 * const statuses = await pool.ingest(batch, lane);
 * await pool.close();
 * await writer.close();
 * ```
 */
export class WorkerPool {
  readonly #pool: Worker[];
  readonly #load: number[];
  /** Batches each worker was handed and has not finished parsing. */
  readonly #parsing: number[];
  readonly #turns = new LaneTurns<QueuedBatch>();
  readonly #writer: Writer;
  readonly #store: StoreLocation;
  readonly #pending = new Map<number, Pending>();
  readonly #credits = new Semaphore(MAX_CREDITS_IN_FLIGHT);
  readonly #onError: (message: string) => void;
  #nextJob = 1;
  #closed = false;
  #onIdle?: () => void;
  /** Whether a timer will hand the waiting batches to workers that are busy but have room. */
  #dispatchScheduled = false;
  #parseMessages = 0;
  #pendingBatches = 0;
  /** The rules in force, for a replacement pool worker. */
  #rules: RuleSet | null = null;

  private constructor(pool: Worker[], options: WorkerPoolOptions) {
    this.#pool = pool;
    this.#load = pool.map(() => 0);
    this.#parsing = pool.map(() => 0);
    this.#writer = options.writer;
    this.#store = options.store;
    this.#onError = options.onWorkerError ?? (() => {});
  }

  /**
   * Starts the pool workers, each with its port to the writer, and waits until
   * each has opened the store.
   *
   * @param options Store location, writer and pool size.
   * @returns The running pool.
   */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const size = options.workers ?? defaultWorkerCount();
    if (!Number.isInteger(size) || size < 1 || size > 64) {
      throw new RangeError(`Cannot start worker pool: invalid worker count ${size}`);
    }
    const pool: Worker[] = [];
    try {
      const started: Promise<void>[] = [];
      for (let i = 0; i < size; i++) {
        const worker = spawnWorker("pool_worker");
        pool.push(worker);
        const port = options.writer.openPort();
        started.push(ready(worker, poolWorkerInit(options.store, port, size), [port]));
      }
      await Promise.all(started);
    } catch (error) {
      for (const worker of pool) worker.terminate();
      throw error;
    }
    const instance = new WorkerPool(pool, options);
    instance.#listen();
    if (options.rules) instance.setRules(options.rules);
    return instance;
  }

  /** Number of pool workers. */
  get size(): number {
    return this.#pool.length;
  }

  /** Messages of batches handed to the pool workers so far. */
  get parseMessages(): number {
    return this.#parseMessages;
  }

  /** Event batches currently queued or in progress. */
  get batchesInFlight(): number {
    return this.#pendingBatches;
  }

  #listen(): void {
    this.#pool.forEach((worker, index) => this.#watch(worker, index));
    this.#writer.listen({
      committed: (results) => {
        for (const result of results) this.#committed(result);
      },
      failed: (message) => {
        // Nothing it held was committed or acknowledged: clients send it again.
        this.#turns.clear();
        for (const jobId of [...this.#pending.keys()]) this.#settle(jobId, undefined, message);
      },
    });
  }

  #watch(worker: Worker, index: number): void {
    worker.onmessage = (event: MessageEvent<PoolReply>) => this.#onPoolReply(index, event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#onError(`Pool worker ${index} failed: ${event.message}; replacing it`);
      this.#replace(index);
    };
  }

  /**
   * Replaces a failed pool worker. Its jobs fail (their lines get ACK FAIL and
   * their credits return), so nothing waits forever on a dead thread.
   */
  #replace(index: number): void {
    this.#pool[index]!.terminate();
    // Nothing is handed to the dead worker while its jobs fail.
    this.#parsing[index] = Infinity;
    for (const [jobId, pending] of [...this.#pending]) {
      if (pending.worker === index) this.#settle(jobId, undefined, "Pool worker failed");
    }
    if (this.#closed) {
      // Closing: batches still waiting would wait for a worker that never comes.
      for (const { jobId } of this.#turns.clear()) this.#settle(jobId, undefined, "Pool closed");
      return;
    }
    const worker = spawnWorker("pool_worker");
    const port = this.#writer.openPort();
    // Messages posted before the worker has started wait in its queue, behind init.
    worker.postMessage(poolWorkerInit(this.#store, port, this.#pool.length), [port]);
    if (this.#rules) {
      worker.postMessage({ kind: "rules", rules: this.#rules } satisfies PoolRequest);
    }
    this.#pool[index] = worker;
    this.#parsing[index] = 0;
    this.#watch(worker, index);
    this.#dispatch();
  }

  #settle(jobId: number, value: unknown, error?: string): void {
    const pending = this.#pending.get(jobId);
    if (!pending) return;
    this.#pending.delete(jobId);
    if (pending.lines !== undefined) {
      // A batch: its credits go back, answered or failed.
      this.#pendingBatches--;
      this.#credits.release(batchCredits(pending.lines));
    }
    if (pending.worker >= 0) this.#load[pending.worker]!--;
    if (pending.lane && pending.worker >= 0) pending.lane.dispatched--;
    if (error !== undefined) pending.reject(new Error(error));
    else pending.resolve(value);
    if (this.#pending.size === 0) this.#onIdle?.();
    // A lane with nothing in progress may now go to any worker.
    if (pending.lane) this.#dispatch();
  }

  #onPoolReply(index: number, reply: PoolReply): void {
    if (reply.kind === "parsed") {
      this.#parsing[index] = Math.max(0, this.#parsing[index]! - 1);
      for (const item of reply.items) {
        const pending = this.#pending.get(item.jobId);
        if (pending && item.error !== undefined) {
          this.#settle(item.jobId, undefined, item.error);
        } else if (pending && item.rejected) {
          pending.rejected = item.rejected;
          if (pending.stored) this.#answer(item.jobId, pending);
        }
      }
      this.#dispatch();
    } else if (reply.kind === "login") {
      this.#settle(reply.jobId, {
        ok: reply.ok,
        userId: reply.userId,
        role: reply.role,
        locked: reply.locked ?? false,
        token: reply.token ?? null,
        checked: reply.checked ?? false,
        events: reply.events ?? [],
        credential: reply.credential ?? null,
      });
    } else if (reply.kind === "failed") {
      this.#settle(reply.jobId, undefined, reply.message);
    }
  }

  #committed(result: BatchCommit): void {
    if ("error" in result) return this.#settle(result.jobId, undefined, result.error);
    const pending = this.#pending.get(result.jobId);
    if (!pending) return;
    pending.stored = result.statuses;
    // Fewer statuses than lines: the pool worker rejected some, and says which.
    if (result.statuses.length === pending.lines || pending.rejected) {
      this.#answer(result.jobId, pending);
    }
  }

  /** Answers a batch: the writer's statuses, with the pool worker's rejected lines between them. */
  #answer(jobId: number, pending: Pending): void {
    this.#settle(jobId, mergeStatuses(pending.rejected ?? null, pending.stored!));
  }

  #track<T>(worker: number): [number, Promise<T>] {
    const jobId = this.#nextJob++;
    const promise = new Promise<T>((resolve, reject) => {
      this.#pending.set(jobId, { resolve: resolve as (v: unknown) => void, reject, worker });
    });
    this.#load[worker]!++;
    return [jobId, promise];
  }

  /**
   * Replaces the detection rules in every pool worker (at start and on
   * SIGHUP). Batches already parsed keep the matches of the rules they met.
   *
   * @param rules A validated rule set, or null for none.
   */
  setRules(rules: RuleSet | null): void {
    if (this.#closed) return;
    this.#rules = rules;
    for (const worker of this.#pool) {
      worker.postMessage({ kind: "rules", rules } satisfies PoolRequest);
    }
  }

  /** The pool worker with the fewest jobs, for a LOGIN. */
  #leastLoaded(): number {
    let best = 0;
    for (let i = 1; i < this.#load.length; i++) {
      if (this.#load[i]! < this.#load[best]!) best = i;
    }
    return best;
  }

  /**
   * Opens a lane for one sender's batches (one per connection or stream).
   *
   * @returns The lane to pass to {@linkcode ingest}.
   */
  openLane(): IngestLane {
    return this.#turns.open();
  }

  /**
   * The worker a lane's next batch may go to now, or -1: one with fewer than
   * `room` messages to parse. A lane keeps the worker of its batches in
   * progress: each worker and each worker→writer port is FIFO, so that keeps a
   * sender's events in the order they were sent. A lane with none goes to the
   * worker with the fewest messages to parse.
   */
  #workerFor(lane: IngestLane, room: number): number {
    if (lane.dispatched > 0) {
      return this.#parsing[lane.worker]! < room ? lane.worker : -1;
    }
    let best = -1;
    for (let i = 0; i < this.#pool.length; i++) {
      if (this.#parsing[i]! >= room) continue;
      if (
        best < 0 || this.#parsing[i]! < this.#parsing[best]! ||
        (this.#parsing[i] === this.#parsing[best] && this.#load[i]! < this.#load[best]!)
      ) best = i;
    }
    return best;
  }

  /**
   * Hands waiting batches to the workers with fewer than `room` messages to
   * parse, in fair turns between lanes, as many batches per message as
   * {@linkcode takeMessage} allows.
   */
  #dispatch(room: number = MAX_BATCHES_PER_WORKER): void {
    while (this.#turns.waiting > 0) {
      // Every worker full: no lane may run, without asking each.
      if (!this.#parsing.some((parsing) => parsing < room)) return;
      let worker = -1;
      const items = takeMessage(this.#turns, (lane) => {
        if (worker < 0) return (worker = this.#workerFor(lane, room)) >= 0;
        return lane.dispatched === 0 || lane.worker === worker;
      });
      if (items.length === 0) return;
      const jobIds: number[] = [];
      const batches: LineBatch[] = [];
      for (const { lane, item: { jobId, batch } } of items) {
        const pending = this.#pending.get(jobId);
        if (!pending) continue;
        pending.worker = worker;
        this.#load[worker]!++;
        lane.worker = worker;
        lane.dispatched++;
        jobIds.push(jobId);
        batches.push(batch);
      }
      if (jobIds.length === 0) continue;
      this.#parsing[worker]!++;
      this.#parseMessages++;
      const { batches: posted, transfer } = transferGroup(batches);
      const jobs = posted.map((batch, i): ParseItem => ({ jobId: jobIds[i]!, batch }));
      this.#pool[worker]!.postMessage(
        { kind: "parse", items: jobs } satisfies PoolRequest,
        transfer,
      );
    }
  }

  /**
   * After a batch arrives: a full batch goes to an idle worker at once, as it
   * would gain nothing from company. Smaller ones wait a timer's turn, so
   * that the batches every connection read in this turn of the event loop
   * travel together in one message.
   */
  #dispatchSoon(lines: number): void {
    if (lines >= MAX_LINES_PER_MESSAGE) this.#dispatch(1);
    if (this.#turns.waiting === 0 || this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    setTimeout(() => {
      this.#dispatchScheduled = false;
      this.#dispatch();
    }, 0);
  }

  /**
   * Waits for the credits of a batch in the window. Call before
   * {@linkcode ingest}; they are returned when that batch is answered.
   *
   * @param lines Lines of the batch that will be passed to {@linkcode ingest}.
   * @returns Resolves once the credits are taken.
   */
  acquireBatchCredit(lines: number): Promise<void> {
    return this.#credits.acquire(batchCredits(lines));
  }

  /**
   * Takes the credits of a batch if they are free now, as
   * {@linkcode acquireBatchCredit} would without waiting.
   *
   * @param lines Lines of the batch that will be passed to {@linkcode ingest}.
   * @returns Whether they were taken; if not, wait with {@linkcode acquireBatchCredit}.
   */
  tryAcquireBatchCredit(lines: number): boolean {
    return this.#credits.tryAcquire(batchCredits(lines));
  }

  /**
   * Parses and stores a batch of lines. Requires its credits from
   * {@linkcode acquireBatchCredit}, which this releases. The batch waits in
   * its lane for its turn and a worker with room.
   *
   * @param batch The lines and their origin; its buffers move to the worker.
   * @param lane The sender's lane, from {@linkcode openLane}.
   * @returns One status per line (`line_status.ts`), after COMMIT.
   */
  ingest(batch: LineBatch, lane: IngestLane): Promise<Uint8Array> {
    const jobId = this.#nextJob++;
    const lines = lineCount(batch);
    const promise = new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.set(jobId, {
        resolve: resolve as (v: unknown) => void,
        reject,
        worker: -1,
        lane,
        lines,
      });
    });
    this.#pendingBatches++;
    this.#turns.push(lane, { jobId, batch });
    this.#dispatchSoon(lines);
    return promise;
  }

  /**
   * Verifies a LOGIN in a pool worker (scrypt runs off the main thread).
   *
   * @param username The user name, or `@token`.
   * @param password The password or token.
   * @param address Client address, for the security event.
   * @param security Client IP and lockout policy (checked before the password).
   * @returns Whether the credentials are valid, and the user's id and role.
   */
  login(
    username: string,
    password: string,
    address: string,
    security: LoginSecurity = { ip: address, lockout: null },
  ): Promise<LoginOutcome> {
    const worker = this.#leastLoaded();
    const [jobId, promise] = this.#track<LoginOutcome>(worker);
    // A name no account can have is refused without hashing: only its start
    // (still an impossible name) crosses to the worker, and no password.
    const possible = username === TOKEN_LOGIN_USER || isValidUserName(username);
    const request: PoolRequest = {
      kind: "login",
      jobId,
      username: possible ? username : username.slice(0, MAX_USER_NAME_CHARS + 1),
      password: possible ? password : "",
      address,
      at: Date.now(),
      ip: security.ip,
      lockout: security.lockout,
    };
    this.#pool[worker]!.postMessage(request);
    return promise;
  }

  /**
   * Waits for every batch and login in progress, then stops the pool workers.
   * Close the writer after. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending.size > 0) await new Promise<void>((resolve) => this.#onIdle = resolve);
    for (const worker of this.#pool) worker.terminate();
  }
}

/**
 * Takes the turns of one message to a pool worker: the first lane in turn that
 * `mayJoin` accepts, then further lanes in turn order while `mayJoin` accepts
 * them, up to {@linkcode MAX_BATCHES_PER_MESSAGE} batches and, after the
 * first, {@linkcode MAX_LINES_PER_MESSAGE} lines. Each lane gives at most one
 * batch to a message, so a flooding sender's batches still wait one turn of
 * the ring each, and another sender's batch never waits behind a message full
 * of them.
 *
 * @param turns The lanes of waiting batches.
 * @param mayJoin Whether a lane's next batch may join the message now.
 * @returns The turns taken, in order; empty when no lane may run.
 * @example
 * ```ts
 * const turns = new LaneTurns<QueuedBatch>();
 * const items = takeMessage(turns, () => true);
 * ```
 */
export function takeMessage(
  turns: LaneTurns<QueuedBatch>,
  mayJoin: (lane: IngestLane) => boolean,
): Turn<QueuedBatch>[] {
  let lines = 0;
  // One walk of the ring: lanes that cannot join are passed by once, not once per batch taken.
  return turns.takeRound((lane, taken) => {
    if (taken >= MAX_BATCHES_PER_MESSAGE || lines >= MAX_LINES_PER_MESSAGE) return "stop";
    const next = lineCount(lane.waiting[0]!.batch);
    if (taken > 0 && lines + next > MAX_LINES_PER_MESSAGE) return "skip";
    if (!mayJoin(lane)) return "skip";
    lines += next;
    return "take";
  });
}
