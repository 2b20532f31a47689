/**
 * Entry point of each pool worker: the CPU work of the server. It parses the
 * batches of lines of each message (`parse_lines.ts`), hands their events
 * straight to the writer worker through its own MessagePort, in one message,
 * and tells the main thread it is done, with the lines it rejected, if any;
 * and it verifies passwords for LOGIN.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { TOKEN_LOGIN_USER } from "../../protocol/mod.ts";
import { verifyLogin } from "../auth/mod.ts";
import { type BatchMatches, matchBatch, RuleEngine } from "../rules/mod.ts";
import { type EventBatch, openStore, type Store } from "../store/mod.ts";
import { ColumnArena } from "./column_arena.ts";
import { lineCount } from "./line_batch.ts";
import { packGroup } from "./packed_batch.ts";
import { parseLines } from "./parse_lines.ts";
import { Semaphore } from "./semaphore.ts";
import {
  type LoginJob,
  type ParsedGroup,
  type ParsedItem,
  type ParseJob,
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
 * Parses the batches of one message and hands their events to the writer in
 * one message, in order, packed for the crossing (their typed arrays move
 * with it); answers the main thread once for all of them.
 */
function parse(job: ParseJob): void {
  const jobIds: number[] = [];
  const parsed: EventBatch[] = [];
  const matched: (BatchMatches | null | undefined)[] = [];
  const items: ParsedItem[] = [];
  const replyTransfer: Transferable[] = [];
  let rows = 0;
  for (const { batch } of job.items) rows += lineCount(batch);
  const arena = new ColumnArena(rows);
  for (const { jobId, batch } of job.items) {
    try {
      const { events, rejected } = parseLines(batch, arena);
      // Matched before packing, which hands the batch's arrays over.
      matched.push(rules ? matchBatch(rules, events) : undefined);
      jobIds.push(jobId);
      parsed.push(events);
      if (rejected) {
        items.push({ jobId, rejected });
        replyTransfer.push(rejected.buffer as ArrayBuffer);
      }
    } catch (error) {
      items.push({ jobId, rejected: null, error: (error as Error).message });
    }
  }
  if (parsed.length > 0) {
    const { group, transfer } = packGroup(parsed);
    const jobs = jobIds.map((jobId, i) => {
      const matches = matched[i];
      return matches === undefined ? { jobId } : { jobId, matches };
    });
    writer!.postMessage({ group, jobs } satisfies ParsedGroup, transfer);
  }
  // Always answered: the pool hands this worker its next message on this one.
  reply({ kind: "parsed", items }, replyTransfer);
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
      parse(request);
      return;
    case "rules":
      rules = request.rules ? new RuleEngine(request.rules) : null;
      return;
    case "login": {
      // A token costs one SHA-256: a fleet's token logins never wait behind
      // passwords. A few password verifications at a time: each scrypt holds
      // 32 MiB, so a storm of logins must queue instead of multiplying memory.
      const verified = request.username === TOKEN_LOGIN_USER
        ? login(request)
        : verifying.acquire().then(() => login(request).finally(() => verifying.release()));
      verified.catch((error) =>
        reply({ kind: "failed", jobId: request.jobId, message: (error as Error).message })
      );
      return;
    }
  }
};

// Tells start-up that loading (and, under `deno test`, type checking) is over.
reply({ kind: "loaded" });
