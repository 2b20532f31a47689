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

import type { AgentRegistration, EventBatch, HeartbeatRecord, Role } from "./store/store.ts";
import { Semaphore } from "./semaphore.ts";
import type { AlertNotice } from "./rules/alert_feed.ts";
import type { RuleSet } from "./rules/rule.ts";
import type {
  EventsJob,
  JobResult,
  PoolReply,
  PoolRequest,
  RetentionOutcome,
  RetentionPass,
  StoreLocation,
  WriterReply,
  WriterRequest,
} from "./worker_messages.ts";
import { NO_REPLY } from "./worker_messages.ts";
import type { LoginToken } from "./worker_messages.ts";
import type { LoginFailurePolicy } from "./store/security_store.ts";
import type { LoginEvent } from "./auth/login_events.ts";
import { isValidUserName, MAX_USER_NAME_CHARS } from "./store/user_name.ts";
import { TOKEN_LOGIN_USER } from "../protocol/mod.ts";

/**
 * Event batches queued or in progress across all workers. When every credit is
 * taken, connections stop reading from their sockets until one is returned, so
 * memory stays bounded however fast clients send.
 */
export const MAX_BATCHES_IN_FLIGHT = 128;

/**
 * How long a worker may take to open the store before start-up fails, in ms,
 * counted from when its module has loaded.
 */
const WORKER_START_TIMEOUT_MS = 30_000;

/**
 * CPUs left to the writer worker when the pool size is not given. The writer
 * is the bottleneck of ingest, and a busy pool worker beyond the other CPUs
 * takes its time from the writer: on 2 CPUs one pool worker ingests as fast
 * as two or faster (docs/BENCHMARKS.md, docs/decisions/0001-worker-pool-and-writer.md).
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

/** Starts the worker module `server/<name>.ts`, named after it. */
function spawnWorker(name: "pool_worker" | "writer_worker"): Worker {
  return new Worker(new URL(`./${name}.ts`, import.meta.url).href, { type: "module", name });
}

/** Options of {@linkcode WorkerPool.start}. */
export interface WorkerPoolOptions {
  /** Where the workers open the store. */
  readonly store: StoreLocation;
  /**
   * Pool workers (the writer worker comes in addition).
   * @default {defaultWorkerCount()}
   */
  readonly workers?: number;
  /** Called when a worker dies unexpectedly; the server logs it. */
  readonly onWorkerError?: (message: string) => void;
  /**
   * Detection rules the workers match and correlate (server/rules/).
   * @default {null (no rules)}
   */
  readonly rules?: RuleSet | null;
  /** Called with the alerts each group commit raised or folded. */
  readonly onAlerts?: (notices: AlertNotice[]) => void;
  /**
   * Events stored but not yet in the full-text index beyond which each group
   * commit is followed by an indexing step as large as the group, so the lag
   * stops growing; 0 indexes only when the writer is idle.
   * @default {DEFAULT_TEXT_INDEX_MAX_LAG}
   */
  readonly textIndexMaxLag?: number;
  /**
   * Most seconds the full-text index may need to catch up once ingest stops,
   * at the indexing rate the writer measures; beyond it, as beyond
   * `textIndexMaxLag`, each group commit is followed by an indexing step. The
   * smaller of the two bounds applies; 0 turns this one off.
   * @default {0}
   */
  readonly textIndexMaxCatchupSeconds?: number;
}

/**
 * Default of {@linkcode WorkerPoolOptions.textIndexMaxLag}. A million events
 * are indexed in 1.5-1.6 s once ingest stops (2-core machine,
 * docs/BENCHMARKS.md), so the index is within 2 s of ingest after a load of
 * any length; searches scan at most that many unindexed events (about 0.3 s
 * for a keyword); and a burst of up to a million events (about 4 s at full
 * speed) never waits for indexing. A longer load is indexed as it goes beyond
 * it, at about 240,000 instead of 270,000 events/s there.
 */
export const DEFAULT_TEXT_INDEX_MAX_LAG = 1_000_000;

/** Result of a LOGIN verified by a pool worker. */
export interface LoginOutcome {
  readonly ok: boolean;
  readonly userId: number | null;
  readonly role: Role | null;
  /** Refused without checking the password: the user or address is locked out (issue 5). */
  readonly locked?: boolean;
  /** The agent token logged in with, or null. */
  readonly token?: LoginToken | null;
  /** Whether a password was checked with scrypt. */
  readonly checked?: boolean;
  /** Security events of the attempt, to store through a `LoginEventGate`. */
  readonly events?: readonly LoginEvent[];
  /** Version of the user's credential at login (`credentialStamp()`); null for a token. */
  readonly credential?: string | null;
}

/** Lockout inputs of {@linkcode WorkerPool.login} (server/auth/lockout.ts). */
export interface LoginSecurity {
  /** Client IP without port. */
  readonly ip: string;
  /** Lockout policy, or null when the lockout is off. */
  readonly lockout: LoginFailurePolicy | null;
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
 * const pool = await WorkerPool.start({ store: { url: "nms.db", sync: "full" }, workers: 2 });
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
  #onAlerts: ((notices: AlertNotice[]) => void) | null = null;

  /** Where a replacement pool worker opens the store. */
  #store?: StoreLocation;
  /** The rules in force, for a replacement pool worker. */
  #rules: RuleSet | null = null;

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
    const size = options.workers ?? defaultWorkerCount();
    if (!Number.isInteger(size) || size < 1 || size > 64) {
      throw new RangeError(`Cannot start worker pool: invalid worker count ${size}`);
    }
    const writer = spawnWorker("writer_worker");
    const pool: Worker[] = [];
    const started: Promise<void>[] = [];
    try {
      started.push(ready(
        writer,
        {
          kind: "init",
          store: options.store,
          textIndexLag: {
            maxEvents: options.textIndexMaxLag ?? DEFAULT_TEXT_INDEX_MAX_LAG,
            maxCatchupSeconds: options.textIndexMaxCatchupSeconds ?? 0,
          },
        } satisfies WriterRequest,
      ));
      await started[0];
      for (let i = 0; i < size; i++) {
        const worker = spawnWorker("pool_worker");
        pool.push(worker);
        const channel = new MessageChannel();
        writer.postMessage({ kind: "port", port: channel.port2 }, [channel.port2]);
        started.push(
          ready(
            worker,
            poolWorkerInit(options.store, channel.port1, size),
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
    instance.#store = options.store;
    instance.#listen();
    instance.#onAlerts = options.onAlerts ?? null;
    if (options.rules) instance.setRules(options.rules);
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
    this.#pool.forEach((worker, index) => this.#watch(worker, index));
    this.#writer.onmessage = (event: MessageEvent<WriterReply>) => this.#onWriterReply(event.data);
    this.#writer.onerror = (event) => {
      event.preventDefault();
      this.#onError(`Writer worker failed: ${event.message}; failing every job in progress`);
      // Nothing it held was committed or acknowledged: clients send it again.
      for (const jobId of [...this.#pending.keys()]) {
        this.#settle(jobId, undefined, "Writer worker failed");
      }
    };
  }

  #watch(worker: Worker, index: number): void {
    worker.onmessage = (event: MessageEvent<PoolReply>) => this.#onPoolReply(event.data);
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
    for (const [jobId, pending] of [...this.#pending]) {
      if (pending.worker === index) this.#settle(jobId, undefined, "Pool worker failed");
    }
    if (this.#closed || !this.#store) return;
    const worker = spawnWorker("pool_worker");
    const channel = new MessageChannel();
    this.#writer.postMessage({ kind: "port", port: channel.port2 }, [channel.port2]);
    // Messages posted before the worker has started wait in its queue, behind init.
    worker.postMessage(
      poolWorkerInit(this.#store, channel.port1, this.#pool.length),
      [channel.port1],
    );
    if (this.#rules) {
      worker.postMessage({ kind: "rules", rules: this.#rules } satisfies PoolRequest);
    }
    this.#pool[index] = worker;
    this.#watch(worker, index);
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

  #onWriterReply(reply: WriterReply): void {
    if (reply.kind === "done") {
      for (const result of reply.results) this.#settleResult(result);
    } else if (reply.kind === "closed") {
      this.#writerClosed?.();
    } else if (reply.kind === "alerts") {
      this.#onAlerts?.(reply.notices);
    } else if (reply.kind === "warning") {
      this.#onError(reply.message);
    }
  }

  /**
   * Replaces the detection rules in every worker (at start and on SIGHUP).
   * Batches already parsed keep the matches of the rules they met.
   *
   * @param rules A validated rule set, or null for none.
   */
  setRules(rules: RuleSet | null): void {
    if (this.#closed) return;
    this.#rules = rules;
    for (const worker of this.#pool) {
      worker.postMessage({ kind: "rules", rules } satisfies PoolRequest);
    }
    this.#writer.postMessage({ kind: "rules", rules } satisfies WriterRequest);
  }

  #settleResult(result: JobResult): void {
    if (result.error !== undefined) this.#settle(result.jobId, undefined, result.error);
    else this.#settle(result.jobId, result.statuses ?? result.agentId ?? result.retention);
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
    // Wire bytes move to the worker instead of being copied.
    const transfer = job.wire
      ? [job.wire.bytes.buffer as ArrayBuffer, job.wire.ends.buffer as ArrayBuffer]
      : [];
    this.#pool[worker]!.postMessage(request, transfer);
    try {
      return await promise;
    } finally {
      this.#credits.release();
    }
  }

  /**
   * Verifies a LOGIN in a pool worker (scrypt runs off the main thread).
   *
   * @param security Client IP and lockout policy (checked before the password).
   * @returns Whether the credentials are valid, and the user's id and role.
   */
  login(
    username: string,
    password: string,
    address: string,
    security: LoginSecurity = { ip: address, lockout: null },
  ): Promise<LoginOutcome> {
    const worker = this.leastLoaded();
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

  /**
   * Stores events NMS produced itself (e.g. web console logins) with the next
   * group commit. Nobody awaits the commit; a failure is only logged by the writer.
   *
   * @param batch The events, e.g. from `securityEvent()`.
   */
  recordEvents(batch: EventBatch): void {
    if (this.#closed) return;
    this.#writer.postMessage({ kind: "events", jobId: NO_REPLY, batch } satisfies WriterRequest);
  }

  /**
   * Retention (issue 10): runs one time-bounded pass of prune steps in the
   * writer, between its group commits. Called by server/retention.ts.
   *
   * @param pass Limits and bounds of the pass.
   * @returns What the pass deleted, and whether more is left.
   */
  retention(pass: RetentionPass): Promise<RetentionOutcome> {
    return this.#write((jobId) => ({ kind: "retention", jobId, pass }));
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

/**
 * Sends `init` and waits for the worker to answer `ready`.
 *
 * Only the opening of the store is timed: the clock starts when the worker
 * says its module has loaded. Loading can take long the first time the code
 * runs from a new directory under `deno test`, which type checks a worker's
 * modules when the worker starts; a module that fails to load ends in an
 * error event, not in a wait.
 *
 * @param worker A worker whose module posts `loaded` once it listens.
 * @param init The init message; the worker answers `ready` or `init-failed`.
 * @param transfer Objects transferred with `init`.
 * @param timeoutMs How long opening the store may take once the module has loaded.
 * @returns Resolves on `ready`; rejects on `init-failed`, an error event or the timeout.
 */
export function ready(
  worker: Worker,
  init: unknown,
  transfer: Transferable[] = [],
  timeoutMs: number = WORKER_START_TIMEOUT_MS,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (message: string) => {
      clearTimeout(timer);
      reject(new Error(message));
    };
    worker.onmessage = (event: MessageEvent<{ kind: string; message?: string }>) => {
      switch (event.data.kind) {
        case "loaded":
          timer = setTimeout(
            () => fail(`Worker did not open the store within ${timeoutMs / 1000} s`),
            timeoutMs,
          );
          return;
        case "ready":
          clearTimeout(timer);
          resolve();
          return;
        default:
          fail(event.data.message ?? "Worker failed to start");
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      fail(event.message);
    };
    worker.postMessage(init, transfer);
  });
}
