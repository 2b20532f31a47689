/**
 * Entry point of the checkpoint worker: runs SQLite `PASSIVE` checkpoints of
 * the database on its own connection when the writer asks (after each commit).
 * Why, and the writer's side: server/ingest/checkpointer.ts.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { DatabaseSync } from "node:sqlite";
import type { CheckpointReply, CheckpointRequest } from "./checkpointer.ts";

/** Milliseconds the checkpoint connection waits for a lock before giving up on a pass. */
const CHECKPOINT_BUSY_TIMEOUT_MS = 100;

let db: DatabaseSync | null = null;
let scheduled = false;
let warned = false;

function reply(message: CheckpointReply): void {
  self.postMessage(message);
}

/** One pass; requests that arrived meanwhile were merged into it. */
function checkpoint(): void {
  scheduled = false;
  if (!db) return;
  try {
    const row = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as {
      log: number;
      checkpointed: number;
    };
    reply({
      kind: "checkpointed",
      pass: { logFrames: Number(row.log), checkpointedFrames: Number(row.checkpointed) },
    });
  } catch (error) {
    // The writer's safety checkpoint takes over; say so once.
    if (!warned) {
      warned = true;
      reply({ kind: "warning", message: `Checkpoint failed: ${(error as Error).message}` });
    }
  }
}

self.onmessage = (event: MessageEvent<CheckpointRequest>) => {
  const request = event.data;
  switch (request.kind) {
    case "init":
      try {
        db = new DatabaseSync(request.path);
        db.exec(`PRAGMA busy_timeout = ${CHECKPOINT_BUSY_TIMEOUT_MS}`);
      } catch (error) {
        db = null;
        reply({
          kind: "warning",
          message: `Cannot open ${request.path}: ${(error as Error).message}`,
        });
      }
      return;
    case "checkpoint":
      if (!scheduled) {
        scheduled = true;
        setTimeout(checkpoint, 0);
      }
      return;
    case "close":
      db?.close();
      db = null;
      reply({ kind: "closed" });
      return;
  }
};
