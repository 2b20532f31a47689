/**
 * Entry point of each pool worker: the CPU work of the server. It parses each
 * batch of lines (`parse_lines.ts`), hands the events straight to the writer
 * worker through its own MessagePort and tells the main thread it is done,
 * with the lines it rejected, if any; and it verifies passwords for LOGIN.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { TOKEN_LOGIN_USER } from "../../protocol/mod.ts";
import { verifyLogin } from "../auth/mod.ts";
import { type BatchMatches, matchBatch, RuleEngine } from "../rules/mod.ts";
import { type EventBatch, openStore, type Store } from "../store/mod.ts";
import { packBatch } from "./packed_batch.ts";
import { parseLines } from "./parse_lines.ts";
import { Semaphore } from "./semaphore.ts";
import {
  type LoginJob,
  type PackedEvents,
  type PoolReply,
  type PoolRequest,
} from "./worker_messages.ts";

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

function reply(message: PoolReply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/**
 * Hands parsed events to the writer, packed for the crossing: their typed
 * arrays move with the message, so the batch must not be used afterwards.
 */
function sendToWriter(jobId: number, events: EventBatch, matches?: BatchMatches | null): void {
  const { packed, transfer } = packBatch(events);
  writer!.postMessage(
    { jobId, packed, ...(matches === undefined ? {} : { matches }) } satisfies PackedEvents,
    transfer,
  );
}

async function login(job: LoginJob): Promise<void> {
  // Lockout first, then the password or token (server/auth/verify_login.ts). The
  // security events go back with the answer: the main thread bounds how many are stored.
  const { verdict, events, finish } = await verifyLogin(store!, job);
  reply({ kind: "login", jobId: job.jobId, ...verdict, events });
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
    case "parse":
      try {
        const { events, rejected } = parseLines(request.batch);
        // Matched before packing, which hands the batch's arrays over.
        sendToWriter(request.jobId, events, rules ? matchBatch(rules, events) : undefined);
        // Always answered: the pool hands this worker its next batch on this message.
        reply(
          { kind: "parsed", jobId: request.jobId, rejected: rejected ?? null },
          rejected ? [rejected.buffer as ArrayBuffer] : [],
        );
      } catch (error) {
        const message = (error as Error).message;
        reply({ kind: "parsed", jobId: request.jobId, rejected: null, error: message });
      }
      return;
    case "rules":
      rules = request.rules ? new RuleEngine(request.rules) : null;
      return;
    case "login":
      // A token costs one SHA-256: a fleet's token logins never wait behind passwords.
      if (request.username === TOKEN_LOGIN_USER) {
        login(request).catch((error) =>
          reply({ kind: "failed", jobId: request.jobId, message: (error as Error).message })
        );
        return;
      }
      // A few password verifications at a time: each scrypt holds 32 MiB, so a
      // storm of logins must queue instead of multiplying the server's memory.
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
