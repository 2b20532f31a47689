/**
 * Entry point of each pool worker: the CPU work of the server. It parses event
 * lines into fields and hands the parsed batch straight to the writer worker
 * through its own MessagePort, and it verifies passwords for LOGIN.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { verifyNobody, verifyPassword } from "./auth/password.ts";
import { parseLogLine } from "./log_formats/mod.ts";
import { openSqliteStore } from "./store/sqlite_store.ts";
import { EVENT_FLAGS, type EventBatch, type Store } from "./store/store.ts";
import type {
  EventsJob,
  LoginJob,
  PoolReply,
  PoolRequest,
  WriterRequest,
} from "./worker_messages.ts";
import { NO_REPLY } from "./worker_messages.ts";
import { securityEvent } from "./security_event.ts";

let store: Store | undefined;
let writer: MessagePort | undefined;

function reply(message: PoolReply): void {
  self.postMessage(message);
}

function sendToWriter(request: WriterRequest): void {
  const transfer: Transferable[] = [];
  if (request.kind === "events") {
    const b = request.batch;
    for (const column of [b.ts, b.pid, b.severity, b.facility, b.flags, b.position]) {
      transfer.push(column.buffer as ArrayBuffer);
    }
  }
  writer!.postMessage(request, transfer);
}

/** Parses every line of a job into columns. */
function parseEvents(job: EventsJob): EventBatch {
  const count = job.lines.length;
  const batch: EventBatch = {
    count,
    receivedAt: job.receivedAt,
    agentId: job.agentId,
    ts: new Float64Array(count),
    host: new Array(count),
    program: new Array(count),
    pid: new Int32Array(count),
    severity: new Int8Array(count),
    facility: new Int8Array(count),
    message: new Array(count),
    raw: job.lines,
    flags: new Uint8Array(count),
    stream: job.streams ?? new Array(count).fill(null),
    position: job.positions ?? new Float64Array(count).fill(-1),
  };
  for (let i = 0; i < count; i++) {
    const parsed = parseLogLine(job.lines[i]!, job.receivedAt);
    batch.ts[i] = parsed.ts ?? job.receivedAt;
    batch.host[i] = parsed.host ?? job.defaultHost;
    batch.program[i] = parsed.program;
    batch.pid[i] = parsed.pid ?? -1;
    batch.severity[i] = parsed.severity ?? -1;
    batch.facility[i] = parsed.facility ?? -1;
    batch.message[i] = parsed.message;
    if (parsed.format === "raw") batch.flags[i] = EVENT_FLAGS.unparsed;
  }
  return batch;
}

async function login(job: LoginJob): Promise<void> {
  const user = await store!.findUser(job.username);
  const ok = user
    ? await verifyPassword(job.password, user.passwordHash)
    : await verifyNobody(job.password);
  reply({
    kind: "login",
    jobId: job.jobId,
    ok,
    userId: ok ? user!.id : null,
    role: ok ? user!.role : null,
  });
  // Every login attempt is kept as a security event, so guessing shows in the logs.
  sendToWriter({
    kind: "events",
    jobId: NO_REPLY,
    batch: securityEvent({
      at: job.at,
      severity: ok ? 5 : 4,
      message: ok
        ? `Successful login for user ${job.username} from ${job.address}`
        : `Failed login for user ${job.username} from ${job.address}`,
    }),
  });
}

self.onmessage = (event: MessageEvent<PoolRequest>) => {
  const request = event.data;
  switch (request.kind) {
    case "init":
      writer = request.writer;
      openSqliteStore(request.store.dbPath, { sync: request.store.sync }).then(
        (opened) => {
          store = opened;
          reply({ kind: "ready" });
        },
        (error) => reply({ kind: "init-failed", message: (error as Error).message }),
      );
      return;
    case "events":
      try {
        sendToWriter({ kind: "events", jobId: request.jobId, batch: parseEvents(request) });
      } catch (error) {
        reply({ kind: "failed", jobId: request.jobId, message: (error as Error).message });
      }
      return;
    case "login":
      login(request).catch((error) =>
        reply({ kind: "failed", jobId: request.jobId, message: (error as Error).message })
      );
      return;
  }
};
