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
  MAX_BATCHES_PER_WORKER,
  WorkerPool,
} from "./worker_pool.ts";

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
      await pool.acquireBatchCredit();
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
