import assert from "node:assert/strict";
import { type BudgetHolder, OpenFileBudget } from "./open_file_budget.ts";

class Holder implements BudgetHolder {
  open = true;
  busy = false;
  constructor(readonly name: string) {}
  release(): boolean {
    if (this.busy) return false;
    this.open = false;
    return true;
  }
}

Deno.test("OpenFileBudget closes the least recently used files beyond the budget", () => {
  const budget = new OpenFileBudget(2);
  const [a, b, c] = [new Holder("a"), new Holder("b"), new Holder("c")];
  budget.opened(a);
  budget.opened(b);
  budget.used(a);
  budget.opened(c);
  assert.deepEqual([a.open, b.open, c.open], [true, false, true], "b was used longest ago");
  assert.equal(budget.open, 2);
  assert.equal(budget.evictions, 1);
  budget.closed(a);
  assert.equal(budget.open, 1);
});

Deno.test("OpenFileBudget skips busy holders and catches up when a file is next used", () => {
  const budget = new OpenFileBudget(1);
  const [a, b] = [new Holder("a"), new Holder("b")];
  budget.opened(a);
  a.busy = true;
  budget.opened(b);
  assert.equal(budget.open, 2, "a is reading: over the budget for now");
  assert.ok(a.open);
  a.busy = false;
  budget.used(b);
  assert.equal(budget.open, 1);
  assert.equal(a.open, false);
  assert.throws(() => new OpenFileBudget(0), RangeError);
});

Deno.test("OpenFileBudget gives at most its size of turns at once, first come first served", async () => {
  const budget = new OpenFileBudget(2);
  const order: string[] = [];
  await budget.enter();
  await budget.enter();
  assert.equal(budget.active, 2);
  const third = budget.enter().then(() => order.push("third"));
  const fourth = budget.enter().then(() => order.push("fourth"));
  await Promise.resolve();
  assert.deepEqual(order, [], "no turn is free");
  budget.leave();
  await third;
  assert.deepEqual(order, ["third"]);
  assert.equal(budget.active, 2, "the turn was handed over");
  budget.leave();
  await fourth;
  budget.leave();
  budget.leave();
  assert.equal(budget.active, 0);
});
