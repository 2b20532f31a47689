/**
 * The main thread's handle on the writer worker, the single thread that
 * writes to the store. Node changes (REGISTER, HEARTBEAT, BYE), retention
 * passes and NMS's own events go through it; event batches reach the writer
 * from the pool workers on ports it opens ({@linkcode Writer.openPort}), and
 * their commits are reported to the pool ({@linkcode Writer.listen}).
 *
 * @module
 */

import type { AlertNotice, RuleSet } from "../rules/mod.ts";
import type { AgentRegistration, EventBatch, HeartbeatRecord } from "../store/mod.ts";
import {
  type BatchCommit,
  NO_REPLY,
  type RetentionOutcome,
  type RetentionPass,
  type StoreLocation,
  type WriteResult,
  type WriterReply,
  type WriterRequest,
} from "./worker_messages.ts";
import { ready, spawnWorker } from "./worker_start.ts";

/**
 * Default of {@linkcode WriterOptions.textIndexMaxLag}: a load of any length
 * leaves the index a couple of seconds of indexing behind once it stops, and
 * a burst of up to this many events never waits for indexing
 * (docs/BENCHMARKS.md).
 */
export const DEFAULT_TEXT_INDEX_MAX_LAG = 1_000_000;

/** Options of {@linkcode Writer.start}. */
export interface WriterOptions {
  /** Where the writer opens the store. */
  readonly store: StoreLocation;
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
  /**
   * Detection rules the writer correlates (server/rules/).
   * @default {null (no rules)}
   */
  readonly rules?: RuleSet | null;
  /** Called with the alerts each group commit raised or folded. */
  readonly onAlerts?: (notices: AlertNotice[]) => void;
  /** Called when the writer dies or reports a problem; the server logs it. */
  readonly onWorkerError?: (message: string) => void;
  /** Called with the seconds each group commit took in the writer (for `/metrics`). */
  readonly onCommit?: (seconds: number) => void;
}

/** Who hears about the commits of pool batches: the worker pool. */
export interface CommitListener {
  /** Pool batches of a group commit. */
  committed(results: BatchCommit[]): void;
  /** The writer died: nothing in progress will be committed. */
  failed(message: string): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * The writer worker, seen from the main thread.
 *
 * @example
 * ```ts
 * const writer = await Writer.start({ store: { url: "nms.db", sync: "full" } });
 * const agentId = await writer.registerAgent(registration);
 * await writer.close();
 * ```
 */
export class Writer {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #onError: (message: string) => void;
  readonly #onAlerts: (notices: AlertNotice[]) => void;
  readonly #onCommit: (seconds: number) => void;
  #listener: CommitListener | null = null;
  #failed = false;
  #nextJob = 1;
  #closed = false;
  #onIdle?: () => void;
  #onClosed?: () => void;

  private constructor(worker: Worker, options: WriterOptions) {
    this.#worker = worker;
    this.#onError = options.onWorkerError ?? (() => {});
    this.#onAlerts = options.onAlerts ?? (() => {});
    this.#onCommit = options.onCommit ?? (() => {});
  }

  /** Whether the writer worker runs: false once it has died or been closed (`/healthz`). */
  get alive(): boolean {
    return !this.#failed && !this.#closed;
  }

  /**
   * Starts the writer worker and waits until it has opened the store.
   *
   * @param options Store location, full-text index bounds, rules.
   * @returns The running writer.
   */
  static async start(options: WriterOptions): Promise<Writer> {
    const worker = spawnWorker("writer_worker");
    try {
      await ready(
        worker,
        {
          kind: "init",
          store: options.store,
          textIndexLag: {
            maxEvents: options.textIndexMaxLag ?? DEFAULT_TEXT_INDEX_MAX_LAG,
            maxCatchupSeconds: options.textIndexMaxCatchupSeconds ?? 0,
          },
        } satisfies WriterRequest,
      );
    } catch (error) {
      worker.terminate();
      throw error;
    }
    const writer = new Writer(worker, options);
    writer.#listen();
    if (options.rules) writer.setRules(options.rules);
    return writer;
  }

  #listen(): void {
    this.#worker.onmessage = (event: MessageEvent<WriterReply>) => this.#onReply(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#failed = true;
      this.#onError(`Writer worker failed: ${event.message}; failing every job in progress`);
      // Nothing it held was committed or acknowledged: clients send it again.
      for (const jobId of [...this.#pending.keys()]) {
        this.#settle(jobId, undefined, "Writer worker failed");
      }
      this.#listener?.failed("Writer worker failed");
    };
  }

  #onReply(reply: WriterReply): void {
    switch (reply.kind) {
      case "committed":
        if (reply.seconds !== undefined) this.#onCommit(reply.seconds);
        this.#listener?.committed(reply.results);
        return;
      case "done":
        if (reply.seconds !== undefined) this.#onCommit(reply.seconds);
        for (const result of reply.results) this.#settleResult(result);
        return;
      case "closed":
        this.#onClosed?.();
        return;
      case "alerts":
        this.#onAlerts(reply.notices);
        return;
      case "warning":
        this.#onError(reply.message);
        return;
    }
  }

  #settleResult(result: WriteResult): void {
    if (result.error !== undefined) this.#settle(result.jobId, undefined, result.error);
    else this.#settle(result.jobId, result.agentId ?? result.retention);
  }

  #settle(jobId: number, value: unknown, error?: string): void {
    const pending = this.#pending.get(jobId);
    if (!pending) return;
    this.#pending.delete(jobId);
    if (error !== undefined) pending.reject(new Error(error));
    else pending.resolve(value);
    if (this.#pending.size === 0) this.#onIdle?.();
  }

  #write<T>(build: (jobId: number) => WriterRequest): Promise<T> {
    const jobId = this.#nextJob++;
    const promise = new Promise<T>((resolve, reject) => {
      this.#pending.set(jobId, { resolve: resolve as (v: unknown) => void, reject });
    });
    this.#worker.postMessage(build(jobId));
    return promise;
  }

  /**
   * Sets who hears about the commits of the batches that arrive on the ports.
   *
   * @param listener The worker pool.
   */
  listen(listener: CommitListener): void {
    this.#listener = listener;
  }

  /**
   * Opens a channel on which a pool worker sends its parsed batches straight
   * to the writer, without crossing the main thread.
   *
   * @returns The pool worker's end, to transfer to it.
   */
  openPort(): MessagePort {
    const channel = new MessageChannel();
    this.#worker.postMessage(
      { kind: "port", port: channel.port2 } satisfies WriterRequest,
      [channel.port2],
    );
    return channel.port1;
  }

  /**
   * Replaces the detection rules the writer correlates (at start and on SIGHUP).
   *
   * @param rules A validated rule set, or null for none.
   */
  setRules(rules: RuleSet | null): void {
    if (this.#closed) return;
    this.#worker.postMessage({ kind: "rules", rules } satisfies WriterRequest);
  }

  /**
   * Creates or updates a node.
   *
   * @param registration What REGISTER said, and from where.
   * @returns Its id, after COMMIT.
   */
  registerAgent(registration: AgentRegistration): Promise<number> {
    return this.#write((jobId) => ({ kind: "register", jobId, registration }));
  }

  /**
   * Records a heartbeat.
   *
   * @param heartbeat The node, its uptime and lag, and when.
   * @returns Resolves after COMMIT.
   */
  recordHeartbeat(heartbeat: HeartbeatRecord): Promise<void> {
    return this.#write((jobId) => ({ kind: "heartbeat", jobId, heartbeat }));
  }

  /**
   * Marks a node as cleanly stopped (BYE).
   *
   * @param agentId The node.
   * @param at When, ms since the epoch.
   * @returns Resolves after COMMIT.
   */
  markAgentStopped(agentId: number, at: number): Promise<void> {
    return this.#write((jobId) => ({ kind: "bye", jobId, agentId, at }));
  }

  /**
   * Records that nodes lost their last connection without BYE, with the next
   * group commit; nobody awaits it (server/liveness/agent_liveness.ts).
   *
   * @param nodes Each node, when its connection closed, and its last contact
   *   (REGISTER or HEARTBEAT) through that connection.
   */
  recordDisconnects(
    nodes: readonly { agentId: number; at: number; lastContact: number }[],
  ): void {
    if (this.#closed || this.#failed || nodes.length === 0) return;
    const writes = nodes.map((n) => ({ kind: "disconnect" as const, jobId: NO_REPLY, ...n }));
    this.#worker.postMessage({ kind: "disconnects", writes } satisfies WriterRequest);
  }

  /**
   * Runs one time-bounded pass of prune steps between group commits. Called
   * by server/retention.ts.
   *
   * @param pass Limits and bounds of the pass.
   * @returns What the pass deleted, and whether more is left.
   */
  retention(pass: RetentionPass): Promise<RetentionOutcome> {
    return this.#write((jobId) => ({ kind: "retention", jobId, pass }));
  }

  /**
   * Stores events NMS produced itself (e.g. web console logins) with the next
   * group commit. Nobody awaits the commit; a failure is only logged.
   *
   * @param batch The events, e.g. from `securityEvent()`.
   */
  recordEvents(batch: EventBatch): void {
    if (this.#closed) return;
    this.#worker.postMessage({ kind: "record", batch } satisfies WriterRequest);
  }

  /**
   * Waits for the writer's jobs in progress, commits what is pending, closes
   * the writer's database and stops the worker. Close the pool first, so that
   * no batch is on its way. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#failed) {
      // A dead worker answers nothing: its jobs have already failed.
      this.#worker.terminate();
      return;
    }
    if (this.#pending.size > 0) await new Promise<void>((resolve) => this.#onIdle = resolve);
    const closed = new Promise<void>((resolve) => this.#onClosed = resolve);
    this.#worker.postMessage({ kind: "shutdown" } satisfies WriterRequest);
    await closed;
    this.#worker.terminate();
  }
}
