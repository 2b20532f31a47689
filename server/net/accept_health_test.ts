import assert from "node:assert/strict";
import { ACCEPT_FAILURES_UNHEALTHY, AcceptHealth } from "./accept_health.ts";

Deno.test("AcceptHealth fails after ACCEPT_FAILURES_UNHEALTHY failures in a row and recovers on a success", () => {
  const health = new AcceptHealth();
  for (let i = 1; i < ACCEPT_FAILURES_UNHEALTHY; i++) health.failed();
  assert.equal(health.ok, true, "a few failed accepts are retried, not reported");
  health.failed();
  assert.equal(health.ok, false);
  health.accepted();
  assert.equal(health.ok, true);
});
