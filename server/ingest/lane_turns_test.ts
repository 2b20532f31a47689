import assert from "node:assert/strict";
import { LaneTurns } from "./lane_turns.ts";

Deno.test("LaneTurns: a flooding lane cannot delay another lane's batch by more than one turn", () => {
  const turns = new LaneTurns<string>();
  const flood = turns.open();
  const quiet = turns.open();
  for (let i = 0; i < 30; i++) turns.push(flood, `flood ${i}`);
  // The quiet lane's batches arrive one at a time, each once the last was taken.
  const order: string[] = [];
  for (let round = 0; round < 5; round++) {
    turns.push(quiet, `quiet ${round}`);
    const before = order.length;
    for (;;) {
      const item = turns.take(() => true)!.item;
      order.push(item);
      if (item.startsWith("quiet")) break;
    }
    assert.ok(order.length - before <= 2, `quiet ${round} waited behind ${order.slice(before)}`);
  }
  // The flood keeps its own order.
  const floods = order.filter((item) => item.startsWith("flood"));
  assert.deepEqual(floods, floods.map((_, i) => `flood ${i}`));
});

Deno.test("LaneTurns takes lanes round-robin, each lane's items in order", () => {
  const turns = new LaneTurns<string>();
  const [a, b, c] = [turns.open(), turns.open(), turns.open()];
  for (let i = 0; i < 3; i++) turns.push(a, `a${i}`);
  turns.push(b, "b0");
  for (let i = 0; i < 2; i++) turns.push(c, `c${i}`);
  assert.equal(turns.waiting, 6);
  const order: string[] = [];
  for (let turn = turns.take(() => true); turn; turn = turns.take(() => true)) {
    order.push(turn.item);
  }
  assert.deepEqual(order, ["a0", "b0", "c0", "a1", "c1", "a2"]);
  assert.equal(turns.waiting, 0);
});

Deno.test("LaneTurns: a lane that may not run keeps its place and goes first once it may", () => {
  const turns = new LaneTurns<string>();
  const [busy, other] = [turns.open(), turns.open()];
  turns.push(busy, "busy 0");
  turns.push(other, "other 0");
  turns.push(other, "other 1");
  // The busy lane's worker is full: the other lane runs meanwhile.
  assert.equal(turns.take((lane) => lane !== busy)?.item, "other 0");
  // Room again: the busy lane is still at the front.
  assert.equal(turns.take(() => true)?.item, "busy 0");
  assert.equal(turns.take(() => true)?.item, "other 1");
  assert.equal(turns.take(() => true), null);
});

Deno.test("LaneTurns.clear() empties every lane and returns what waited", () => {
  const turns = new LaneTurns<number>();
  const [a, b] = [turns.open(), turns.open()];
  turns.push(a, 1);
  turns.push(b, 2);
  turns.push(a, 3);
  assert.deepEqual(turns.clear().sort(), [1, 2, 3]);
  assert.equal(turns.waiting, 0);
  assert.equal(turns.take(() => true), null);
  turns.push(b, 4);
  assert.equal(turns.take(() => true)?.item, 4);
});
