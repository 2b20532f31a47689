import assert from "node:assert/strict";
import { CPUS_RESERVED_FOR_WRITER, defaultWorkerCount, loginConcurrency } from "./worker_pool.ts";

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
