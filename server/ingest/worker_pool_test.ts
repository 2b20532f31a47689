import assert from "node:assert/strict";
import { join } from "node:path";
import type { LineBatch } from "./line_batch.ts";
import { WireLinesBuilder } from "./wire_lines.ts";
import { Writer } from "./writer.ts";
import {
  CPUS_RESERVED_FOR_WRITER,
  defaultWorkerCount,
  type IngestLane,
  loginConcurrency,
  MAX_BATCHES_PER_MESSAGE,
  MAX_BATCHES_PER_WORKER,
  MAX_LINES_PER_MESSAGE,
  type QueuedBatch,
  takeMessage,
  WorkerPool,
} from "./worker_pool.ts";
import { LaneTurns } from "./lane_turns.ts";
import { APPEND_STATUS, openSqliteStore } from "../store/mod.ts";
import { generateToken, hashPassword } from "../auth/mod.ts";
import { TOKEN_LOGIN_USER } from "../../protocol/mod.ts";

Deno.test("the default pool leaves one CPU to the writer and never has fewer than one worker", () => {
  assert.equal(CPUS_RESERVED_FOR_WRITER, 1);
  assert.equal(defaultWorkerCount(1), 1);
  assert.equal(defaultWorkerCount(2), 1);
  assert.equal(defaultWorkerCount(4), 3);
  assert.equal(defaultWorkerCount(16), 15);
  assert.equal(defaultWorkerCount(), Math.max(1, navigator.hardwareConcurrency - 1));
});

Deno.test("the pool as a whole verifies at least one password per CPU at once, whatever its size", () => {
  for (const cpus of [1, 2, 3, 4, 8, 16]) {
    for (const workers of [1, 2, 3, 4, 7, 64]) {
      const perWorker = loginConcurrency(cpus, workers);
      assert.ok(perWorker >= 1, `${cpus} CPUs, ${workers} workers`);
      assert.ok(perWorker * workers >= cpus, `${cpus} CPUs, ${workers} workers`);
      // No more than one extra per worker: the memory of a login storm stays bounded.
      assert.ok((perWorker - 1) * workers < cpus, `${cpus} CPUs, ${workers} workers`);
    }
  }
  assert.equal(loginConcurrency(2, defaultWorkerCount(2)), 2);
});

/** A batch of `lines` agent event lines tagged `tag`. */
function agentBatch(tag: string, lines: number): LineBatch {
  const wire = new WireLinesBuilder();
  for (let i = 0; i < lines; i++) {
    wire.appendText(`BATCH_EVENT Nov 23 19:43:33 web-01 app[1]: ${tag} request ${i} served`);
  }
  return {
    source: "agent",
    receivedAt: Date.now(),
    agentId: null,
    defaultHost: "h",
    wire: wire.take(),
  };
}

Deno.test("WorkerPool: a lane that floods the pool delays another lane's batch by at most one turn", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-pool-" });
  const store = { url: join(dir, "nms.db"), sync: "normal" } as const;
  const writer = await Writer.start({ store });
  const pool = await WorkerPool.start({ store, writer, workers: 1 });
  try {
    const flood = pool.openLane();
    const quiet = pool.openLane();
    const answered: string[] = [];
    const send = async (lane: IngestLane, tag: string) => {
      await pool.acquireBatchCredit(1000);
      const statuses = await pool.ingest(agentBatch(tag, 1000), lane);
      assert.equal(statuses.length, 1000);
      answered.push(tag);
    };
    const floods = Array.from({ length: 20 }, (_, i) => send(flood, `flood ${i}`));
    // The flood has queued all its batches: the quiet lane's one batch comes after them.
    const quietDone = send(quiet, "quiet");
    await Promise.all([...floods, quietDone]);
    const ahead = answered.indexOf("quiet");
    // The worker holds MAX_BATCHES_PER_WORKER of the flood already; then one turn each.
    assert.ok(
      ahead <= MAX_BATCHES_PER_WORKER + 1,
      `the quiet batch was answered after ${ahead} flood batches`,
    );
    // Each lane's batches are answered in the order sent.
    const order = answered.filter((tag) => tag !== "quiet");
    assert.deepEqual(order, order.map((_, i) => `flood ${i}`));
  } finally {
    await pool.close();
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A queued batch of `lines` lines, its job id `jobId`. */
function queued(jobId: number, lines: number): QueuedBatch {
  return { jobId, batch: agentBatch(`job ${jobId}`, lines) };
}

Deno.test("takeMessage takes one small batch of each lane in turn order, the rest in the next message", () => {
  const turns = new LaneTurns<QueuedBatch>();
  const [a, b, c] = [turns.open(), turns.open(), turns.open()];
  turns.push(a, queued(1, 1));
  turns.push(a, queued(2, 1));
  turns.push(a, queued(3, 1));
  turns.push(b, queued(4, 2));
  turns.push(c, queued(5, 1));
  const ids = () => takeMessage(turns, () => true).map((turn) => turn.item.jobId);
  assert.deepEqual(ids(), [1, 4, 5]);
  assert.deepEqual(ids(), [2]);
  assert.deepEqual(ids(), [3]);
  assert.equal(turns.waiting, 0);
  assert.deepEqual(ids(), []);
});

Deno.test("takeMessage stops at MAX_BATCHES_PER_MESSAGE batches and MAX_LINES_PER_MESSAGE lines", () => {
  const turns = new LaneTurns<QueuedBatch>();
  const count = MAX_BATCHES_PER_MESSAGE + 10;
  for (let i = 0; i < count; i++) turns.push(turns.open(), queued(i, 1));
  assert.equal(takeMessage(turns, () => true).length, MAX_BATCHES_PER_MESSAGE);
  assert.equal(takeMessage(turns, () => true).length, 10);
  // A full batch goes alone; the small one behind it waits for the next message.
  const [big, small] = [turns.open(), turns.open()];
  turns.push(big, queued(100, MAX_LINES_PER_MESSAGE));
  turns.push(small, queued(101, 1));
  assert.deepEqual(takeMessage(turns, () => true).map((turn) => turn.item.jobId), [100]);
  // A batch that would take the message past the line limit keeps its place in turn.
  const [half, more, tiny] = [turns.open(), turns.open(), turns.open()];
  turns.push(half, queued(102, MAX_LINES_PER_MESSAGE / 2));
  turns.push(more, queued(103, MAX_LINES_PER_MESSAGE / 2 + 1));
  turns.push(tiny, queued(104, 1));
  assert.deepEqual(takeMessage(turns, () => true).map((turn) => turn.item.jobId), [101, 102, 104]);
  assert.deepEqual(takeMessage(turns, () => true).map((turn) => turn.item.jobId), [103]);
});

Deno.test("takeMessage leaves the lanes mayJoin refuses in their place", () => {
  const turns = new LaneTurns<QueuedBatch>();
  const [busy, free, other] = [turns.open(), turns.open(), turns.open()];
  turns.push(busy, queued(1, 1));
  turns.push(free, queued(2, 1));
  turns.push(other, queued(3, 1));
  const taken = takeMessage(turns, (lane) => lane !== busy).map((turn) => turn.item.jobId);
  assert.deepEqual(taken, [2, 3]);
  assert.deepEqual(takeMessage(turns, () => true).map((turn) => turn.item.jobId), [1]);
});

Deno.test("takeMessage looks at each lane once per message, however many it passes by", () => {
  // Thousands of lanes bound to a full worker ahead of the ones that may join:
  // a message of MAX_BATCHES_PER_MESSAGE batches walks past them once.
  const turns = new LaneTurns<QueuedBatch>();
  const bound = new Set<unknown>();
  const blocked = 5_000;
  for (let i = 0; i < blocked; i++) {
    const lane = turns.open();
    bound.add(lane);
    turns.push(lane, queued(i, 1));
  }
  for (let i = 0; i < MAX_BATCHES_PER_MESSAGE; i++) {
    turns.push(turns.open(), queued(blocked + i, 1));
  }
  let asked = 0;
  const taken = takeMessage(turns, (lane) => {
    asked++;
    return !bound.has(lane);
  });
  assert.equal(taken.length, MAX_BATCHES_PER_MESSAGE);
  assert.deepEqual(taken.map((turn) => turn.item.jobId).slice(0, 2), [blocked, blocked + 1]);
  assert.ok(asked <= blocked + MAX_BATCHES_PER_MESSAGE, `mayJoin asked ${asked} times`);
  // The lanes passed by kept their place at the front.
  assert.equal(takeMessage(turns, () => true)[0]!.item.jobId, 0);
});

Deno.test("WorkerPool: tiny batches of many lanes travel a few per message, each answered with its own lines' statuses", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-pool-" });
  const store = { url: join(dir, "nms.db"), sync: "normal" } as const;
  const writer = await Writer.start({ store });
  const pool = await WorkerPool.start({ store, writer, workers: 1 });
  try {
    const lanes = 300;
    const results = await Promise.all(Array.from({ length: lanes }, async (_, i) => {
      const lane = pool.openLane();
      const wire = new WireLinesBuilder();
      // Every third lane sends a line the worker rejects between two good ones.
      wire.appendText(`BATCH_EVENT lane ${i} first`);
      if (i % 3 === 0) wire.appendText("EVENT not-a-position x");
      wire.appendText(`BATCH_EVENT lane ${i} last`);
      await pool.acquireBatchCredit(i % 3 === 0 ? 3 : 2);
      const batch = {
        source: "agent",
        receivedAt: Date.now(),
        agentId: null,
        defaultHost: `h${i}`,
        wire: wire.take(),
      } as const;
      return [...await pool.ingest(batch, lane)];
    }));
    results.forEach((statuses, i) => {
      assert.equal(statuses.length, i % 3 === 0 ? 3 : 2, `lane ${i}`);
      assert.equal(statuses[0], APPEND_STATUS.stored, `lane ${i}`);
      assert.equal(statuses.at(-1), APPEND_STATUS.stored, `lane ${i}`);
      if (i % 3 === 0) assert.notEqual(statuses[1], APPEND_STATUS.stored, `lane ${i}`);
    });
    assert.ok(
      pool.parseMessages <= lanes / 10,
      `${lanes} batches took ${pool.parseMessages} messages`,
    );
  } finally {
    await pool.close();
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WorkerPool: a token login is answered while password logins queue for their hashes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-pool-" });
  const store = { url: join(dir, "nms.db"), sync: "normal" } as const;
  const writer = await Writer.start({ store });
  const pool = await WorkerPool.start({ store, writer, workers: 1 });
  const db = await openSqliteStore(store.url);
  try {
    await db.createUser("fleet", await hashPassword("a-password"), "agent");
    const { token, record } = await generateToken("fleet", { createdBy: "test" });
    await db.security.createToken(record);
    const answered: string[] = [];
    // More password logins than the worker verifies at once: the last ones wait for a turn.
    const passwords = Array.from(
      { length: 4 * loginConcurrency(navigator.hardwareConcurrency, 1) },
      (_, i) =>
        pool.login("fleet", "a-password", `127.0.0.1:${i}`).then((o) => {
          assert.ok(o.ok);
          answered.push("password");
        }),
    );
    const tokenLogin = pool.login(TOKEN_LOGIN_USER, token, "127.0.0.2:1").then((o) => {
      assert.ok(o.ok);
      answered.push("token");
    });
    await Promise.all([...passwords, tokenLogin]);
    assert.notEqual(answered.at(-1), "token", answered.join(" "));
    assert.ok(answered.indexOf("token") < passwords.length / 2, answered.join(" "));
  } finally {
    await db.close();
    await pool.close();
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});
