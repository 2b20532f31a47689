/**
 * Entry point of each pool worker: the CPU work of the server. It parses event
 * lines into fields and hands the parsed batch straight to the writer worker
 * through its own MessagePort, and it verifies passwords for LOGIN.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { verifyLogin } from "./auth/verify_login.ts";
import { parseLogLine } from "./log_formats/mod.ts";
import { openStore } from "./store/open_store.ts";
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
import { decodeWireLines } from "./decode_wire.ts";
import { packBatch } from "./packed_batch.ts";
import { SourceTally } from "./syslog/source_tally.ts";
import { RuleEngine } from "./rules/engine.ts";
import { matchBatch } from "./rules/match_batch.ts";
import { isGapEvent } from "../protocol/mod.ts";
import { markGap } from "./gap_event.ts";
import { Semaphore } from "./semaphore.ts";

/** Most PostgreSQL connections of one pool worker: it only reads users. */
const POOL_WORKER_MAX_CONNECTIONS = 2;
/** Seconds after which a pool worker's idle PostgreSQL connection is closed. */
const POOL_WORKER_IDLE_SECONDS = 60;

let store: Store | undefined;
let writer: MessagePort | undefined;
/** Password verifications in progress; the init message sets how many may run at once. */
let verifying = new Semaphore(1);
/** Stateless detection rules (server/rules/), run on each parsed batch; null when off. */
let rules: RuleEngine | null = null;

function reply(message: PoolReply): void {
  self.postMessage(message);
}

/** Hands a request to the writer; an events batch travels packed (server/packed_batch.ts). */
function sendToWriter(request: WriterRequest): void {
  if (request.kind !== "events") {
    writer!.postMessage(request);
    return;
  }
  const { batch, ...fields } = request;
  const { packed, transfer } = packBatch(batch);
  if (fields.failures) transfer.push(fields.failures.buffer as ArrayBuffer);
  writer!.postMessage(
    { ...fields, kind: "packed-events", packed } satisfies WriterRequest,
    transfer,
  );
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
    messageStart: new Int32Array(count),
    raw: job.lines,
    flags: new Uint8Array(count),
    stream: job.streams ?? new Array(count).fill(null),
    position: job.positions ?? new Float64Array(count).fill(-1),
  };
  // Syslog receiver: a line's sender is its host when it names none; senders are tallied.
  const tally = job.syslog ? new SourceTally(job.syslog, job.receivedAt) : null;
  let msgid: (string | null)[] | undefined;
  let structuredData: (string | null)[] | undefined;
  for (let i = 0; i < count; i++) {
    const parsed = parseLogLine(job.lines[i]!, job.receivedAt);
    batch.ts[i] = parsed.ts ?? job.receivedAt;
    batch.host[i] = parsed.host ?? (tally ? tally.senderOf(i) : job.defaultHost);
    batch.program[i] = parsed.program;
    batch.pid[i] = parsed.pid ?? -1;
    batch.severity[i] = parsed.severity ?? -1;
    batch.facility[i] = parsed.facility ?? -1;
    batch.message[i] = parsed.message;
    batch.messageStart![i] = parsed.messageStart;
    if (parsed.format === "raw") batch.flags[i] = EVENT_FLAGS.unparsed;
    // Gap events: an agent reports bytes it could not deliver (docs/DELIVERY.md).
    if (isGapEvent(batch.stream[i] ?? null, job.lines[i]!)) markGap(batch, i);
    const extra = parsed.extra;
    if (extra?.msgid !== undefined) (msgid ??= new Array(count).fill(null))[i] = extra.msgid;
    if (extra?.structuredData !== undefined) {
      (structuredData ??= new Array(count).fill(null))[i] = extra.structuredData;
    }
    tally?.add(i, parsed.host, parsed.format === "raw");
  }
  for (const line of job.syslog?.truncated ?? []) {
    batch.flags[line] = batch.flags[line]! | EVENT_FLAGS.truncated;
  }
  for (const line of job.syslog?.escaped ?? []) {
    batch.flags[line] = batch.flags[line]! | EVENT_FLAGS.escaped;
  }
  if (!tally && !msgid && !structuredData) return batch;
  return {
    ...batch,
    ...(msgid ? { msgid } : {}),
    ...(structuredData ? { structuredData } : {}),
    ...(tally ? { sources: tally.updates() } : {}),
  };
}

async function login(job: LoginJob): Promise<void> {
  // Lockout first, then the password or token (server/auth/verify_login.ts, issue 5).
  const { verdict, events, finish } = await verifyLogin(store!, job);
  reply({ kind: "login", jobId: job.jobId, ...verdict });
  // Every login attempt is kept as a security event, so guessing shows in the logs.
  for (const event of events) {
    sendToWriter({
      kind: "events",
      jobId: NO_REPLY,
      batch: securityEvent({ at: job.at, ...event }),
    });
  }
  await finish();
}

self.onmessage = (event: MessageEvent<PoolRequest>) => {
  const request = event.data;
  switch (request.kind) {
    case "init":
      writer = request.writer;
      verifying = new Semaphore(request.logins);
      // Pool workers only read users (LOGIN): a small PostgreSQL pool, idle connections closed.
      openStore(request.store.url, {
        sync: request.store.sync,
        maxConnections: POOL_WORKER_MAX_CONNECTIONS,
        idleTimeoutSeconds: POOL_WORKER_IDLE_SECONDS,
      }).then(
        (opened) => {
          store = opened;
          reply({ kind: "ready" });
        },
        (error) => reply({ kind: "init-failed", message: (error as Error).message }),
      );
      return;
    case "events":
      try {
        if (request.wire) {
          // Agent lines arrive as protocol bytes: validate, then parse the log lines.
          const decoded = decodeWireLines(request.wire);
          const job = { ...request, ...decoded };
          const batch = parseEvents(job);
          sendToWriter({
            kind: "events",
            jobId: request.jobId,
            batch,
            ...(decoded.failures ? { failures: decoded.failures } : {}),
            ...(rules ? { matches: matchBatch(rules, batch) } : {}),
          });
        } else {
          const batch = parseEvents(request);
          sendToWriter({
            kind: "events",
            jobId: request.jobId,
            batch,
            ...(rules ? { matches: matchBatch(rules, batch) } : {}),
          });
        }
      } catch (error) {
        reply({ kind: "failed", jobId: request.jobId, message: (error as Error).message });
      }
      return;
    case "rules":
      rules = request.rules ? new RuleEngine(request.rules) : null;
      return;
    case "login":
      // A few verifications at a time: each scrypt holds 32 MiB, so a storm
      // of logins must queue instead of multiplying the server's memory.
      verifying.acquire()
        .then(() => login(request))
        .catch((error) =>
          reply({ kind: "failed", jobId: request.jobId, message: (error as Error).message })
        )
        .finally(() => verifying.release());
      return;
  }
};

// Tells start-up that loading (and, under `deno test`, type checking) is over.
reply({ kind: "loaded" });
