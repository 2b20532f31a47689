/**
 * Entry point of the writer worker, the single thread that writes to the
 * store: message plumbing around a {@linkcode GroupCommit}. Batches arrive
 * from the pool workers on their own ports and are unpacked as they arrive;
 * node changes, retention passes and NMS's own events arrive from the main
 * thread, and results go back to it.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { openStore, type Store } from "../store/mod.ts";
import { Checkpointer, WRITER_SAFETY_CHECKPOINT_PAGES } from "./checkpointer.ts";
import { GroupCommit } from "./group_commit.ts";
import { unpackGroup } from "./packed_batch.ts";
import {
  type BatchCommit,
  NO_REPLY,
  type ParsedGroup,
  type WriterReply,
  type WriterRequest,
} from "./worker_messages.ts";

/**
 * Most PostgreSQL connections of the writer, the only writer of this server:
 * a group commit takes one.
 */
const WRITER_MAX_CONNECTIONS = 2;

let store: Store | undefined;
/** Copies the SQLite log into the database file on another thread; null otherwise. */
let checkpointer: Checkpointer | null = null;
let commit: GroupCommit | undefined;

function reply(message: WriterReply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/**
 * The statuses of a group's batches copied into one buffer, each batch's a
 * view of its part: one buffer crosses to the main thread instead of one per
 * batch (a group of a fleet holds thousands of one-line batches).
 */
function shareStatuses(
  results: BatchCommit[],
): { results: BatchCommit[]; transfer: ArrayBuffer[] } {
  let total = 0;
  for (const result of results) if ("statuses" in result) total += result.statuses.length;
  const shared = new Uint8Array(total);
  let at = 0;
  const moved = results.map((result): BatchCommit => {
    if (!("statuses" in result)) return result;
    shared.set(result.statuses, at);
    const statuses = shared.subarray(at, at + result.statuses.length);
    at += result.statuses.length;
    return { jobId: result.jobId, statuses };
  });
  return { results: moved, transfer: [shared.buffer] };
}

async function open(request: Extract<WriterRequest, { kind: "init" }>): Promise<void> {
  store = await openStore(request.store.url, {
    sync: request.store.sync,
    maxConnections: WRITER_MAX_CONNECTIONS,
  });
  const file = store.deferCheckpoints?.(WRITER_SAFETY_CHECKPOINT_PAGES) ?? null;
  if (file !== null) {
    checkpointer = new Checkpointer(file, (message) => reply({ kind: "warning", message }));
  }
  commit = new GroupCommit(store, {
    committed: (committed, seconds) => {
      const { results, transfer } = shareStatuses(committed);
      reply(
        { kind: "committed", results, ...(seconds === undefined ? {} : { seconds }) },
        transfer,
      );
    },
    done: (results, seconds) =>
      reply({ kind: "done", results, ...(seconds === undefined ? {} : { seconds }) }),
    alerts: (notices) => reply({ kind: "alerts", notices }),
    warning: (message) => reply({ kind: "warning", message }),
  }, { textIndexLag: request.textIndexLag, checkpointer });
}

async function shutdown(): Promise<void> {
  await commit?.close();
  await checkpointer?.close();
  checkpointer = null;
  await store?.close();
  store = undefined;
  reply({ kind: "closed" });
}

self.onmessage = (event: MessageEvent<WriterRequest>) => {
  const request = event.data;
  switch (request.kind) {
    case "init":
      open(request).then(
        () => {
          reply({ kind: "ready" });
          commit!.startIndexing(); // catch up with what was stored before a restart
        },
        (error) => reply({ kind: "init-failed", message: (error as Error).message }),
      );
      return;
    case "port":
      request.port.onmessage = (event: MessageEvent<ParsedGroup>) => {
        const { group, jobs } = event.data;
        unpackGroup(group).forEach((batch, i) => {
          commit!.addEvents(jobs[i]!.jobId, batch, jobs[i]!.matches);
        });
      };
      return;
    case "record":
      commit!.addEvents(NO_REPLY, request.batch);
      return;
    case "rules":
      commit!.setRules(request.rules);
      return;
    case "register":
    case "heartbeat":
    case "bye":
    case "disconnect":
      commit!.addWrite(request);
      return;
    case "disconnects":
      for (const write of request.writes) commit!.addWrite(write);
      return;
    case "retention":
      commit!.retention(request.jobId, request.pass);
      return;
    case "shutdown":
      void shutdown();
      return;
  }
};

// Tells start-up that loading (and, under `deno test`, type checking) is over.
reply({ kind: "loaded" });
