import assert from "node:assert/strict";
import { FAIL } from "../../protocol/mod.ts";
import { PRE_LOGIN_EVICTION_GRACE_MS, PreLoginBudget } from "./pre_login.ts";

class Client {
  closed: string | null = null;
  verifyingLogin = false;
  constructor(readonly ip: string) {}
  abort(reason: string): void {
    this.closed = reason;
  }
}

Deno.test("PreLoginBudget evicts the oldest idle connection only once it is past its grace", () => {
  const budget = new PreLoginBudget<Client>(2, Infinity);
  const [a, b] = [new Client("10.0.0.1"), new Client("10.0.0.2")];
  budget.add(a, 0);
  budget.add(b, 500);
  assert.ok(budget.full);
  // A fleet arriving at once: the newcomer is refused, nobody's LOGIN is cut short.
  assert.equal(budget.evictOldest(FAIL.tooManyConnections, PRE_LOGIN_EVICTION_GRACE_MS - 1), null);
  assert.equal(a.closed, null);
  // A client that held its slot past the grace goes, oldest first.
  assert.equal(budget.evictOldest(FAIL.tooManyConnections, PRE_LOGIN_EVICTION_GRACE_MS), a);
  assert.equal(a.closed, FAIL.tooManyConnections);
  assert.equal(budget.size, 1);
  assert.equal(budget.evicted, 1);
});

Deno.test("PreLoginBudget skips connections whose LOGIN is being verified", () => {
  const budget = new PreLoginBudget<Client>(2, Infinity);
  const [a, b] = [new Client("10.0.0.1"), new Client("10.0.0.2")];
  budget.add(a, 0);
  budget.add(b, 0);
  a.verifyingLogin = true;
  assert.equal(budget.evictOldest(FAIL.tooManyConnections, 10 * PRE_LOGIN_EVICTION_GRACE_MS), b);
  assert.equal(a.closed, null);
});

Deno.test("PreLoginBudget tells how long a newcomer waits, and when a slot is freed", async () => {
  const budget = new PreLoginBudget<Client>(2, Infinity);
  const [a, b] = [new Client("10.0.0.1"), new Client("10.0.0.2")];
  budget.add(a, 0);
  assert.equal(budget.waitMs(100), 0, "room left");
  budget.add(b, 400);
  assert.equal(budget.waitMs(100), PRE_LOGIN_EVICTION_GRACE_MS - 100, "the rest of a's grace");
  assert.equal(budget.waitMs(PRE_LOGIN_EVICTION_GRACE_MS + 5), 0, "a may go");
  a.verifyingLogin = true;
  assert.equal(budget.waitMs(100), PRE_LOGIN_EVICTION_GRACE_MS + 300, "b's grace, a is verifying");
  b.verifyingLogin = true;
  assert.equal(budget.waitMs(100), Infinity, "nobody may go");
  const freed = budget.freed();
  budget.remove(a);
  await freed;
  assert.equal(budget.waitMs(100), 0);
});
