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

import { openSqliteStore } from "./store/sqlite_store.ts";
import type { EventBatch, Store } from "./store/store.ts";
import {
  type JobResult,
  NO_REPLY,
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
let pendingEvents: { jobId: number; batch: EventBatch }[] = [];
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
  const results: JobResult[] = [];
  if (events.length > 0) {
    try {
      const statuses = await store.appendEvents(events.map((e) => e.batch));
      events.forEach((e, i) => {
        if (e.jobId !== NO_REPLY) results.push({ jobId: e.jobId, statuses: statuses[i]! });
      });
    } catch (error) {
      const message = `Cannot store events: ${(error as Error).message}`;
      for (const e of events) {
        if (e.jobId !== NO_REPLY) results.push({ jobId: e.jobId, error: message });
      }
    }
  }
  for (const request of others) {
    results.push(await applyOther(store, request));
  }
  if (results.length > 0) reply({ kind: "done", results });
}

async function applyOther(store: Store, request: WriterRequest): Promise<JobResult> {
  const jobId = "jobId" in request ? request.jobId : NO_REPLY;
  try {
    switch (request.kind) {
      case "register":
        return { jobId, agentId: await store.registerAgent(request.registration) };
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

function schedule(): void {
  if (pendingRows >= GROUP_COMMIT_MAX_ROWS) {
    committing = committing.then(commitGroup);
  } else if (!scheduled) {
    scheduled = true;
    // Messages that arrive before this timer fires join the same transaction.
    setTimeout(() => committing = committing.then(commitGroup), 0);
  }
}

function handle(request: WriterRequest): void {
  switch (request.kind) {
    case "events":
      pendingEvents.push({ jobId: request.jobId, batch: request.batch });
      pendingRows += request.batch.count;
      schedule();
      return;
    case "register":
    case "heartbeat":
    case "bye":
      pendingOther.push(request);
      schedule();
      return;
    case "init":
      openSqliteStore(request.store.dbPath, { sync: request.store.sync }).then(
        (opened) => {
          store = opened;
          reply({ kind: "ready" });
        },
        (error) => reply({ kind: "init-failed", message: (error as Error).message }),
      );
      return;
    case "shutdown":
      committing = committing.then(commitGroup).then(async () => {
        await store?.close();
        store = undefined;
        reply({ kind: "closed" });
      });
      return;
  }
}

self.onmessage = (event: MessageEvent<WriterRequest | { kind: "port"; port: MessagePort }>) => {
  const data = event.data;
  if (data.kind === "port") {
    // A pool worker's channel: its event batches arrive here without crossing the main thread.
    data.port.onmessage = (e: MessageEvent<WriterRequest>) => handle(e.data);
    return;
  }
  handle(data);
};
