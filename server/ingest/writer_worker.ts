/**
 * Entry point of the writer worker: the single thread that writes to the
 * store. Batches arriving from the pool workers (through MessagePorts) and
 * agent updates from the main thread are grouped into one transaction per
 * turn of the event loop (group commit); each job's result is reported to the
 * main thread only after COMMIT, so an ACK always follows a durable write.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import {
  type AlertUpsert,
  type EventBatch,
  type GroupAlerts,
  openStore,
  type Store,
} from "../store/mod.ts";
import { unpackBatch } from "./packed_batch.ts";
import { Checkpointer, WRITER_SAFETY_CHECKPOINT_PAGES } from "./checkpointer.ts";
import {
  keepTextIndexLagBounded,
  TEXT_INDEX_STEP_ROWS,
  TextIndexLagBound,
} from "./text_index_lag.ts";
import { agentRegisteredEvent, AlertPipeline, type BatchMatches } from "../rules/mod.ts";
import { nextTurn } from "./next_turn.ts";
import {
  type JobResult,
  NO_REPLY,
  type PackedEvents,
  type RetentionPass,
  type WriterReply,
  type WriterRequest,
} from "./worker_messages.ts";

/**
 * Rows after which a group is committed at once instead of waiting for the
 * current turn of the event loop to end. Bounds the writer's memory and the
 * latency of the first events of a large group.
 */
const GROUP_COMMIT_MAX_ROWS = 20_000;

let store: Store | undefined;
/** Checkpoints the SQLite log on another thread (server/ingest/checkpointer.ts); null otherwise. */
let checkpointer: Checkpointer | null = null;
let pendingEvents: {
  jobId: number;
  batch: EventBatch;
  matches?: BatchMatches | null | undefined;
}[] = [];
/** Detection rules (server/rules/): matching of NMS's own events, correlation, folding; null when off. */
let alerts: AlertPipeline | null = null;
let pendingRows = 0;
let pendingOther: WriterRequest[] = [];
let scheduled = false;
let committing: Promise<void> = Promise.resolve();

function reply(message: WriterReply): void {
  self.postMessage(message);
}

/** Commits everything pending as one group and reports the results. */
async function commitGroup(): Promise<void> {
  scheduled = false;
  const events = pendingEvents;
  const others = pendingOther;
  pendingEvents = [];
  pendingOther = [];
  pendingRows = 0;
  if (!store || (events.length === 0 && others.length === 0)) return;
  // Writes came back: a run of idle indexing steps, if any, ends here.
  textIndexBound.endRun();
  const results: JobResult[] = [];
  let rows = 0;
  if (events.length > 0) {
    // The pipeline of this group, even if a rules reload replaces it meanwhile.
    const pipeline = alerts;
    const eventIds = pipeline?.prepare(events);
    // Alerts are stored in the events' transaction, before the ACKs go out: an
    // acknowledged attack is visible, and no crash keeps events without their alerts.
    const group = pipeline && eventIds ? groupAlerts(pipeline, events, eventIds) : undefined;
    try {
      const statuses = await store.appendEvents(
        events.map((e) => e.batch),
        eventIds ? { eventIds, ...(group ? { alerts: group } : {}) } : {},
      );
      pipeline?.commit();
      for (const e of events) rows += e.batch.count;
      events.forEach((e, i) => {
        if (e.jobId === NO_REPLY) return;
        results.push({ jobId: e.jobId, statuses: statuses[i]! });
      });
      if (group) reportAlerts(group);
    } catch (error) {
      // Nothing was stored: the resent events will be counted when they are.
      pipeline?.rollback();
      const message = `Cannot store events: ${(error as Error).message}`;
      for (const e of events) {
        if (e.jobId !== NO_REPLY) results.push({ jobId: e.jobId, error: message });
      }
    }
  }
  for (const request of others) {
    results.push(await applyOther(store, request));
  }
  checkpointer?.request();
  if (results.length > 0) reply({ kind: "done", results });
  // After the ACKs: a load longer than the lag bound waits for indexing here.
  await keepTextIndexLagBounded(store, rows, textIndexBound).catch(() => {
    // Retried after the next commit; searches scan what the index lacks.
  });
  scheduleIndexing();
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
  events: typeof pendingEvents,
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

/** Tells the main thread what a committed group's alerts did, or why they are missing. */
function reportAlerts(group: CollectedAlerts): void {
  if (group.error) {
    reply({ kind: "warning", message: `Cannot store alerts: ${group.error.message}` });
  } else if (group.stored.length > 0) {
    reply({
      kind: "alerts",
      notices: group.stored.map((alert, i) => ({
        alert,
        created: alert.count === group.upserts[i]!.count,
      })),
    });
  }
}

async function applyOther(store: Store, request: WriterRequest): Promise<JobResult> {
  const jobId = "jobId" in request ? request.jobId : NO_REPLY;
  try {
    switch (request.kind) {
      case "register": {
        const { hostname } = request.registration;
        const known = (await store.listAgents()).some((agent) => agent.hostname === hostname);
        const agentId = await store.registerAgent(request.registration);
        // A first registration is a security event (rule 8803); it joins the next group.
        if (!known) addEvents(NO_REPLY, agentRegisteredEvent(request.registration));
        return { jobId, agentId };
      }
      case "heartbeat":
        await store.recordHeartbeat(request.heartbeat);
        return { jobId };
      case "bye":
        await store.markAgentStopped(request.agentId, request.at);
        return { jobId };
      default:
        return { jobId, error: `Unexpected writer request ${request.kind}` };
    }
  } catch (error) {
    return { jobId, error: `Cannot apply ${request.kind}: ${(error as Error).message}` };
  }
}

let indexScheduled = false;

/** A timer's turn: after a commit, batches arriving meanwhile go before the first index step. */
const timerTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Indexes for full-text search behind ingest: only when no write is waiting.
 * The first step after a commit waits a timer's turn; the next ones follow one
 * another with only a turn of the event loop between them (`nextTurn()`), in
 * which waiting batches are taken in and go first.
 */
function scheduleIndexing(after: () => Promise<void> = timerTurn): void {
  if (indexScheduled || !store?.indexText) return;
  indexScheduled = true;
  after().then(() => {
    indexScheduled = false;
    committing = committing.then(indexStep);
  });
}

async function indexStep(): Promise<void> {
  // Ingest goes first; the next commit schedules indexing again.
  if (!store?.indexText || pendingEvents.length > 0 || pendingOther.length > 0) return;
  try {
    const start = performance.now();
    const indexed = await store.indexText(TEXT_INDEX_STEP_ROWS);
    textIndexBound.idleStep(indexed, start, performance.now());
    if (indexed > 0) scheduleIndexing(nextTurn);
  } catch {
    // Retried after the next commit; searches scan what the index lacks.
    textIndexBound.endRun();
  }
}

/** How far the full-text index may trail before ingest gives the indexer a turn. */
let textIndexBound = new TextIndexLagBound({ maxEvents: 0, maxCatchupSeconds: 0 });

function schedule(): void {
  if (pendingRows >= GROUP_COMMIT_MAX_ROWS) {
    committing = committing.then(commitGroup);
  } else if (!scheduled) {
    scheduled = true;
    // Messages that arrive before this timer fires join the same transaction.
    setTimeout(() => committing = committing.then(commitGroup), 0);
  }
}

// --- Retention (issue 10, server/retention.ts) ---

/**
 * Runs prune steps, each in its own turn of the event loop, so group commits
 * of incoming events run between them: ingest waits for at most one step.
 * Reports the totals when nothing is left or the pass is out of time.
 */
function runRetentionPass(jobId: number, pass: RetentionPass): void {
  const started = Date.now();
  let deleted = 0;
  let reclaimedBytes = 0;
  let steps = 0;
  const finish = (more: boolean) =>
    reply({
      kind: "done",
      results: [{ jobId, retention: { deleted, reclaimedBytes, steps, more } }],
    });
  const step = async () => {
    if (!store?.pruneEvents) return finish(false);
    try {
      const result = await store.pruneEvents(pass.policy);
      steps++;
      deleted += result.deleted;
      reclaimedBytes += result.reclaimedBytes;
      if (!result.more) return finish(false);
      if (Date.now() - started >= pass.maxPassMs) return finish(true);
      setTimeout(() => committing = committing.then(step), 0);
    } catch (error) {
      reply({
        kind: "done",
        results: [{ jobId, error: `Cannot apply retention: ${(error as Error).message}` }],
      });
    }
  };
  committing = committing.then(step);
}

/** Adds a batch to the next group commit. */
function addEvents(jobId: number, batch: EventBatch, matches?: BatchMatches | null): void {
  pendingEvents.push({ jobId, batch, matches });
  pendingRows += batch.count;
  schedule();
}

function handle(request: WriterRequest): void {
  switch (request.kind) {
    case "events":
      addEvents(NO_REPLY, request.batch);
      return;
    case "port":
      // A pool worker's channel: its batches arrive here without crossing the main thread.
      request.port.onmessage = (event: MessageEvent<PackedEvents>) => {
        const { jobId, packed, matches } = event.data;
        addEvents(jobId, unpackBatch(packed), matches);
      };
      return;
    case "register":
    case "heartbeat":
    case "bye":
      pendingOther.push(request);
      schedule();
      return;
    case "retention":
      runRetentionPass(request.jobId, request.pass);
      return;
    case "rules":
      if (!request.rules) alerts = null;
      else if (alerts) alerts.setRules(request.rules);
      else alerts = new AlertPipeline(request.rules);
      return;
    case "init":
      textIndexBound = new TextIndexLagBound(request.textIndexLag);
      // The only writer of this server: PostgreSQL needs one connection per group commit.
      openStore(request.store.url, { sync: request.store.sync, maxConnections: 2 }).then(
        (opened) => {
          store = opened;
          const file = opened.deferCheckpoints?.(WRITER_SAFETY_CHECKPOINT_PAGES) ?? null;
          if (file !== null) {
            checkpointer = new Checkpointer(
              file,
              (message) => reply({ kind: "warning", message }),
            );
          }
          reply({ kind: "ready" });
          scheduleIndexing(); // catch up with what was stored before a restart
        },
        (error) => reply({ kind: "init-failed", message: (error as Error).message }),
      );
      return;
    case "shutdown":
      committing = committing.then(commitGroup).then(async () => {
        await checkpointer?.close();
        checkpointer = null;
        await store?.close();
        store = undefined;
        reply({ kind: "closed" });
      });
      return;
  }
}

self.onmessage = (event: MessageEvent<WriterRequest>) => handle(event.data);
// Tells start-up that loading (and, under `deno test`, type checking) is over.
reply({ kind: "loaded" });
