import assert from "node:assert/strict";
import { Semaphore } from "./semaphore.ts";

/** Lets every already-queued promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

Deno.test("Semaphore hands out up to capacity permits at once", async () => {
  const semaphore = new Semaphore(3);
  assert.equal(semaphore.capacity, 3);
  assert.equal(semaphore.inUse, 0);
  await semaphore.acquire();
  await semaphore.acquire();
  await semaphore.acquire();
  assert.equal(semaphore.inUse, 3);
});

Deno.test("Semaphore.acquire() waits while every permit is taken", async () => {
  const semaphore = new Semaphore(1);
  await semaphore.acquire();
  let acquired = false;
  const waiting = semaphore.acquire().then(() => acquired = true);
  await settle();
  assert.equal(acquired, false);
  semaphore.release();
  await waiting;
  assert.equal(acquired, true);
  assert.equal(semaphore.inUse, 1, "the permit passed straight to the waiter");
});

Deno.test("Semaphore wakes waiters in FIFO order, one per release", async () => {
  const semaphore = new Semaphore(1);
  await semaphore.acquire();
  const order: number[] = [];
  const waiters = [1, 2, 3].map((n) => semaphore.acquire().then(() => order.push(n)));
  await settle();
  assert.deepEqual(order, []);
  semaphore.release();
  await settle();
  assert.deepEqual(order, [1]);
  semaphore.release();
  semaphore.release();
  await Promise.all(waiters);
  assert.deepEqual(order, [1, 2, 3]);
  assert.equal(semaphore.inUse, 1);
});

Deno.test("Semaphore.release() returns permits for later acquires", async () => {
  const semaphore = new Semaphore(2);
  await semaphore.acquire();
  await semaphore.acquire();
  semaphore.release();
  semaphore.release();
  assert.equal(semaphore.inUse, 0);
  await semaphore.acquire();
  assert.equal(semaphore.inUse, 1);
});

Deno.test("Semaphore constructor rejects a capacity that is not a positive integer", () => {
  for (const capacity of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => new Semaphore(capacity), RangeError, String(capacity));
  }
});

Deno.test("Semaphore hands several permits at once to a waiter in FIFO order, never overtaken by a smaller one", async () => {
  const semaphore = new Semaphore(10);
  await semaphore.acquire(8);
  const order: string[] = [];
  const big = semaphore.acquire(5).then(() => order.push("big"));
  const small = semaphore.acquire(1).then(() => order.push("small"));
  await settle();
  assert.deepEqual(order, [], "the small one waits behind the big one");
  semaphore.release(4);
  await big;
  await small;
  assert.deepEqual(order, ["big", "small"]);
  assert.equal(semaphore.inUse, 10);
  assert.throws(() => semaphore.acquire(11), RangeError);
});

Deno.test("Semaphore.tryAcquire() takes free permits at once and never passes a waiter", async () => {
  const credits = new Semaphore(3);
  assert.equal(credits.tryAcquire(2), true);
  assert.equal(credits.tryAcquire(2), false); // one left
  const waiting = credits.acquire(3);
  credits.release(1); // two free now, but the waiter came first and wants three
  assert.equal(credits.tryAcquire(1), false);
  credits.release(1);
  await waiting;
  assert.equal(credits.inUse, 3);
  credits.release(3);
  assert.equal(credits.tryAcquire(3), true);
  assert.throws(() => credits.tryAcquire(4), RangeError);
});
