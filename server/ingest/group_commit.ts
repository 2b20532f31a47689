/**
 * The writer's work: every batch that arrives before the current turn of the
 * event loop ends is stored in one transaction (group commit), and each batch
 * is answered only after COMMIT, so an ACK always follows a durable write.
 * Between groups the writer applies node changes, runs retention steps, and
 * fills the full-text index when nothing waits.
 *
 * {@linkcode GroupCommit} holds this state; `writer_worker.ts` runs it on the
 * writer's thread and only passes messages, so tests drive it directly.
 *
 * @module
 */

import {
  agentRegisteredEvent,
  type AlertNotice,
  AlertPipeline,
  type BatchMatches,
  type RuleSet,
} from "../rules/mod.ts";
import type { AgentChange, AlertUpsert, EventBatch, GroupAlerts, Store } from "../store/mod.ts";
import { nextTurn } from "./next_turn.ts";
import {
  keepTextIndexLagBounded,
  TEXT_INDEX_STEP_BYTES,
  TEXT_INDEX_STEP_ROWS,
  TextIndexLagBound,
  type TextIndexLagLimits,
} from "./text_index_lag.ts";
import {
  type AgentWrite,
  type BatchCommit,
  NO_REPLY,
  type RetentionPass,
  type WriteResult,
} from "./worker_messages.ts";

/**
 * Rows after which a group is committed at once instead of waiting for the
 * current turn of the event loop to end. Bounds the writer's memory and the
 * latency of the first events of a large group.
 */
export const GROUP_COMMIT_MAX_ROWS = 20_000;

/**
 * Least time from the start of one group commit to the start of the next, in
 * milliseconds. Events that arrive sooner after a commit wait for the rest of
 * it and join one group: thousands of agents that each send a line a second
 * make a few groups a second instead of one per turn of the event loop, and
 * each group costs a transaction, an fsync and an indexing step whatever its
 * size (docs/SCALING.md). It applies only after a group of at least
 * {@linkcode GROUP_COMMIT_COALESCE_BATCHES} batches: a line after a quiet
 * spell, or from one agent alone, is committed at once.
 */
export const GROUP_COMMIT_MIN_INTERVAL_MS = 50;

/**
 * Batches in a group from which the next group waits for
 * {@linkcode GROUP_COMMIT_MIN_INTERVAL_MS}: many senders each with a little,
 * as a fleet is, rather than one agent whose every line waits for its ACK.
 */
export const GROUP_COMMIT_COALESCE_BATCHES = 8;

/** Where a {@linkcode GroupCommit} reports; the writer worker posts each to the main thread. */
export interface GroupCommitSink {
  /**
   * Pool batches of a group, after its COMMIT (or its failure), and the
   * seconds the group took (its transaction and node changes).
   */
  committed(results: BatchCommit[], seconds?: number): void;
  /**
   * The writer's own jobs: node changes and retention passes; `seconds` when
   * they end a group that had no pool batch.
   */
  done(results: WriteResult[], seconds?: number): void;
  /** Alerts a group raised or folded. */
  alerts(notices: AlertNotice[]): void;
  /** Something the server should log. */
  warning(message: string): void;
}

/** Options of {@linkcode GroupCommit}. */
export interface GroupCommitOptions {
  /** How far the full-text index may trail ingest. */
  readonly textIndexLag: TextIndexLagLimits;
  /**
   * Asked after each commit to copy the write-ahead log into the database
   * file (SQLite's checkpoint worker, `checkpointer.ts`).
   * @default {null (none)}
   */
  readonly checkpointer?: { request(): void } | null;
}

/** A batch waiting for the next group. */
interface PendingBatch {
  readonly jobId: number;
  readonly batch: EventBatch;
  /** Set by the alert pipeline when absent (NMS's own events). */
  matches?: BatchMatches | null | undefined;
}

/** A timer's turn: after a commit, batches arriving meanwhile go before the first index step. */
const timerTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * The writer's state: what waits for the next group, the alert pipeline, the
 * full-text index's lag, and the chain every store operation runs on, one at
 * a time.
 *
 * @example
 * ```ts
 * const textIndexLag = { maxEvents: 0, maxCatchupSeconds: 0 };
 * const commit = new GroupCommit(store, sink, { textIndexLag });
 * commit.addEvents(1, batch); // answered through sink.committed() after COMMIT
 * await commit.close();
 * ```
 */
export class GroupCommit {
  readonly #store: Store;
  readonly #sink: GroupCommitSink;
  readonly #checkpointer: { request(): void } | null;
  readonly #textIndexBound: TextIndexLagBound;
  /** Matching of NMS's own events, correlation and folding; null when rules are off. */
  #alerts: AlertPipeline | null = null;
  #events: PendingBatch[] = [];
  #rows = 0;
  #writes: AgentWrite[] = [];
  /** Whether a timer will commit what is pending. */
  #scheduled = false;
  /** When the last group commit started (`performance.now()`); -Infinity before the first. */
  #lastGroupAt = -Infinity;
  /** Batches of events in the last group. */
  #lastGroupBatches = 0;
  #indexScheduled = false;
  /** Every store operation, in order. */
  #committing: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * @param store The writer's store: the only connection that writes events.
   * @param sink Where results go.
   * @param options Full-text index bounds and the checkpointer.
   */
  constructor(store: Store, sink: GroupCommitSink, options: GroupCommitOptions) {
    this.#store = store;
    this.#sink = sink;
    this.#checkpointer = options.checkpointer ?? null;
    this.#textIndexBound = new TextIndexLagBound(options.textIndexLag);
  }

  /**
   * Adds a batch to the next group.
   *
   * @param jobId The pool's job id, answered through `sink.committed()`, or
   *   {@linkcode NO_REPLY}.
   * @param batch Parsed events.
   * @param matches Rules they matched (null: none); absent when not matched yet.
   */
  addEvents(jobId: number, batch: EventBatch, matches?: BatchMatches | null): void {
    this.#events.push({ jobId, batch, matches });
    this.#rows += batch.count;
    this.#schedule();
  }

  /**
   * Applies a node change after the events of the next group; answered
   * through `sink.done()`.
   *
   * @param write REGISTER, HEARTBEAT or BYE of a connection.
   */
  addWrite(write: AgentWrite): void {
    this.#writes.push(write);
    this.#schedule();
  }

  /**
   * Replaces the detection rules; the group being committed keeps its own.
   *
   * @param rules A validated rule set, or null for none.
   */
  setRules(rules: RuleSet | null): void {
    if (!rules) this.#alerts = null;
    else if (this.#alerts) this.#alerts.setRules(rules);
    else this.#alerts = new AlertPipeline(rules);
  }

  /** Starts filling the full-text index with what was stored before a restart, when idle. */
  startIndexing(): void {
    this.#scheduleIndexing();
  }

  /**
   * Runs prune steps, each in its own turn of the event loop, so group commits
   * of incoming events run between them: ingest waits for at most one step.
   * Reports the totals through `sink.done()` when nothing is left or the pass
   * is out of time.
   *
   * @param jobId The job to answer.
   * @param pass Limits and bounds of the pass.
   */
  retention(jobId: number, pass: RetentionPass): void {
    const started = Date.now();
    let deleted = 0;
    let reclaimedBytes = 0;
    let steps = 0;
    const finish = (more: boolean) =>
      this.#sink.done([{ jobId, retention: { deleted, reclaimedBytes, steps, more } }]);
    const step = async () => {
      if (this.#closed || !this.#store.pruneEvents) return finish(false);
      try {
        const result = await this.#store.pruneEvents(pass.policy);
        steps++;
        deleted += result.deleted;
        reclaimedBytes += result.reclaimedBytes;
        if (!result.more) return finish(false);
        if (Date.now() - started >= pass.maxPassMs) return finish(true);
        setTimeout(() => this.#committing = this.#committing.then(step), 0);
      } catch (error) {
        this.#sink.done([{ jobId, error: `Cannot apply retention: ${(error as Error).message}` }]);
      }
    };
    this.#committing = this.#committing.then(step);
  }

  /**
   * Commits what is pending; nothing is stored after. The caller then closes
   * the store. Idempotent.
   *
   * @returns Resolves when the last group is committed and answered.
   */
  close(): Promise<void> {
    this.#committing = this.#committing.then(async () => {
      if (this.#closed) return;
      await this.#commitGroup();
      this.#closed = true;
    });
    return this.#committing;
  }

  #schedule(): void {
    if (this.#rows >= GROUP_COMMIT_MAX_ROWS) {
      this.#committing = this.#committing.then(() => this.#commitGroup());
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      // Messages that arrive before this timer fires join the same transaction.
      const waitMs = this.#lastGroupBatches < GROUP_COMMIT_COALESCE_BATCHES ? 0 : Math.max(
        0,
        this.#lastGroupAt + GROUP_COMMIT_MIN_INTERVAL_MS - performance.now(),
      );
      setTimeout(
        () => this.#committing = this.#committing.then(() => this.#commitGroup()),
        waitMs,
      );
    }
  }

  /** Commits everything pending as one group and reports the results. */
  async #commitGroup(): Promise<void> {
    this.#scheduled = false;
    const events = this.#events;
    const writes = this.#writes;
    this.#events = [];
    this.#writes = [];
    this.#rows = 0;
    if (this.#closed || (events.length === 0 && writes.length === 0)) return;
    // Writes came back: a run of idle indexing steps, if any, ends here.
    this.#textIndexBound.endRun();
    const committed: BatchCommit[] = [];
    let rows = 0;
    const started = performance.now();
    this.#lastGroupAt = started;
    this.#lastGroupBatches = events.length;
    if (events.length > 0) {
      // The pipeline of this group, even if a rules reload replaces it meanwhile.
      const pipeline = this.#alerts;
      const eventIds = pipeline?.prepare(events);
      // Alerts are stored in the events' transaction, before the ACKs go out: an
      // acknowledged attack is visible, and no crash keeps events without their alerts.
      const group = pipeline && eventIds ? groupAlerts(pipeline, events, eventIds) : undefined;
      try {
        const statuses = await this.#store.appendEvents(
          events.map((e) => e.batch),
          eventIds ? { eventIds, ...(group ? { alerts: group } : {}) } : {},
        );
        pipeline?.commit();
        for (const e of events) rows += e.batch.count;
        events.forEach((e, i) => {
          if (e.jobId !== NO_REPLY) committed.push({ jobId: e.jobId, statuses: statuses[i]! });
        });
        if (group) this.#reportAlerts(group);
      } catch (error) {
        // Nothing was stored: the resent events will be counted when they are.
        pipeline?.rollback();
        const message = `Cannot store events: ${(error as Error).message}`;
        for (const e of events) {
          if (e.jobId !== NO_REPLY) committed.push({ jobId: e.jobId, error: message });
        }
      }
    }
    const done = await this.#applyWrites(writes);
    const seconds = (performance.now() - started) / 1000;
    this.#checkpointer?.request();
    if (committed.length > 0) this.#sink.committed(committed, seconds);
    if (done.length > 0) this.#sink.done(done, committed.length > 0 ? undefined : seconds);
    // After the ACKs: a load longer than the lag bound waits for indexing here.
    await keepTextIndexLagBounded(this.#store, rows, this.#textIndexBound).catch(() => {
      // Retried after the next commit; searches scan what the index lacks.
    });
    if (rows > 0) {
      await this.#store.indexDeferred?.().catch(() => {
        // Retried after the next commit: queries by host scan what the indexes lack meanwhile.
      });
    }
    this.#scheduleIndexing();
  }

  /** Tells the main thread what a committed group's alerts did, or why they are missing. */
  #reportAlerts(group: CollectedAlerts): void {
    if (group.error) {
      this.#sink.warning(`Cannot store alerts: ${group.error.message}`);
    } else if (group.stored.length > 0) {
      this.#sink.alerts(group.stored.map((alert, i) => ({
        alert,
        created: alert.count === group.upserts[i]!.count,
      })));
    }
  }

  /**
   * Applies a group's node changes in one transaction of their own, after its
   * events: each costs an indexed upsert, however many nodes are known.
   */
  async #applyWrites(writes: readonly AgentWrite[]): Promise<WriteResult[]> {
    if (writes.length === 0) return [];
    const done: WriteResult[] = [];
    try {
      const results = await this.#store.applyAgentChanges(writes.map(agentChange));
      writes.forEach((write, i) => {
        const result = results[i]!;
        // A first registration is a security event (rule 8803); it joins the next group.
        if (write.kind === "register" && result.created) {
          this.addEvents(NO_REPLY, agentRegisteredEvent(write.registration));
        }
        if (write.jobId === NO_REPLY) return;
        done.push(
          write.kind === "register" ? { jobId: write.jobId, agentId: result.agentId } : {
            jobId: write.jobId,
          },
        );
      });
    } catch (error) {
      const message = `Cannot apply node changes: ${(error as Error).message}`;
      for (const write of writes) {
        if (write.jobId !== NO_REPLY) done.push({ jobId: write.jobId, error: message });
      }
    }
    return done;
  }

  /**
   * Indexes for full-text search behind ingest: only when no write is waiting.
   * The first step after a commit waits a timer's turn; the next ones follow one
   * another with only a turn of the event loop between them (`nextTurn()`), in
   * which waiting batches are taken in and go first.
   */
  #scheduleIndexing(after: () => Promise<void> = timerTurn): void {
    if (this.#indexScheduled || this.#closed || !this.#store.indexText) return;
    this.#indexScheduled = true;
    after().then(() => {
      this.#indexScheduled = false;
      this.#committing = this.#committing.then(() => this.#indexStep());
    });
  }

  async #indexStep(): Promise<void> {
    // Ingest goes first; the next commit schedules indexing again.
    const store = this.#store;
    if (this.#closed || !store.indexText || this.#events.length > 0 || this.#writes.length > 0) {
      return;
    }
    try {
      const start = performance.now();
      const indexed = await store.indexText(TEXT_INDEX_STEP_ROWS, TEXT_INDEX_STEP_BYTES);
      this.#textIndexBound.idleStep(indexed, start, performance.now());
      if (indexed > 0) this.#scheduleIndexing(nextTurn);
    } catch {
      // Retried after the next commit; searches scan what the index lacks.
      this.#textIndexBound.endRun();
    }
  }
}

/** A group's alerts as `Store.appendEvents` collects them, with the upserts it collected. */
interface CollectedAlerts extends GroupAlerts {
  upserts: readonly AlertUpsert[];
}

/**
 * The alerts of a group for `Store.appendEvents`: the store calls `collect`
 * inside the transaction, once the statuses and event ids are known.
 */
function groupAlerts(
  pipeline: AlertPipeline,
  events: PendingBatch[],
  eventIds: (Float64Array | null)[],
): CollectedAlerts {
  pipeline.begin();
  const group: CollectedAlerts = {
    at: Date.now(),
    stored: [],
    upserts: [],
    collect(statuses) {
      // A retried transaction collects again, from the windows as they were.
      pipeline.rollback();
      pipeline.begin();
      group.upserts = pipeline.collect(events, statuses, eventIds);
      return group.upserts;
    },
  };
  return group;
}

/** The store's form of a node change. */
function agentChange(write: AgentWrite): AgentChange {
  switch (write.kind) {
    case "register":
      return { kind: "register", registration: write.registration };
    case "heartbeat":
      return { kind: "heartbeat", heartbeat: write.heartbeat };
    case "bye":
      return { kind: "stop", agentId: write.agentId, at: write.at };
    case "disconnect":
      return {
        kind: "disconnect",
        agentId: write.agentId,
        at: write.at,
        lastContact: write.lastContact,
      };
  }
}
