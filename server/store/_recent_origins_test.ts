import assert from "node:assert/strict";
import { RecentOrigins } from "./_recent_origins.ts";

Deno.test("RecentOrigins holds committed origins until the index passes their commit", () => {
  const recent = new RecentOrigins();
  recent.add(1, 10);
  recent.add(2, 10);
  recent.commit(100);
  recent.add(1, 20);
  recent.commit(200);
  assert.equal(recent.size, 3);
  assert.equal(recent.highest(1), 20);
  // A step that stops between the two commits keeps the second one's origins.
  recent.indexedUpTo(150);
  assert.equal(recent.has(1, 10), false);
  assert.equal(recent.has(2, 10), false);
  assert.equal(recent.has(1, 20), true);
  assert.equal(recent.highest(2), -1);
  recent.indexedUpTo(200);
  assert.equal(recent.size, 0);
});

Deno.test("RecentOrigins forgets only the open transaction's origins on rollback", () => {
  const recent = new RecentOrigins();
  recent.add(1, 10);
  recent.commit(100);
  recent.add(1, 20);
  recent.add(3, 5);
  assert.equal(recent.has(1, 20), true, "seen by the rest of its transaction");
  recent.rollback();
  assert.deepEqual([recent.has(1, 10), recent.has(1, 20), recent.has(3, 5)], [true, false, false]);
  assert.equal(recent.size, 1);
  // Nothing open: a commit adds no empty entry, and the next step drops what was committed.
  recent.commit(150);
  recent.indexedUpTo(120);
  assert.equal(recent.size, 0);
});
