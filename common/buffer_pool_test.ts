import assert from "node:assert/strict";
import { BufferPool } from "./buffer_pool.ts";

Deno.test("BufferPool.take() reuses a buffer given back and counts those taken", () => {
  const pool = new BufferPool(1024, 2);
  const first = pool.take();
  assert.equal(first.length, 1024);
  assert.equal(pool.taken, 1);
  pool.give(first);
  assert.equal(pool.taken, 0);
  assert.equal(pool.pooled, 1);
  assert.equal(pool.take(), first);
});

Deno.test("BufferPool.give() keeps at most maxPooled free buffers and drops other sizes", () => {
  const pool = new BufferPool(16, 2);
  const taken = [pool.take(), pool.take(), pool.take()];
  for (const buffer of taken) pool.give(buffer);
  assert.equal(pool.pooled, 2);
  assert.equal(pool.taken, 0);
  pool.take();
  pool.give(new Uint8Array(32));
  assert.equal(pool.pooled, 1);
});

Deno.test("BufferPool rejects invalid sizes with RangeError", () => {
  assert.throws(() => new BufferPool(0, 1), RangeError);
  assert.throws(() => new BufferPool(16, -1), RangeError);
});
