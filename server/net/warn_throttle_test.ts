import assert from "node:assert/strict";
import { silentLogger } from "../log.ts";
import { WARN_INTERVAL_MS, WarnThrottle } from "./warn_throttle.ts";
import { waitFor } from "../../tests/_harness/wait_for.ts";

function recorder() {
  const logged: [string, string, Record<string, unknown> | undefined][] = [];
  const log = {
    ...silentLogger,
    warn: (m: string, f?: Record<string, unknown>) => logged.push(["warn", m, f]),
    info: (m: string, f?: Record<string, unknown>) => logged.push(["info", m, f]),
  };
  return { log, logged };
}

Deno.test("WarnThrottle logs a key once per interval and reports what it held back", () => {
  const { log, logged } = recorder();
  let now = 0;
  const throttle = new WarnThrottle(log, { now: () => now });
  throttle.warn("k", "Dropped", { address: "a" });
  throttle.warn("k", "Dropped", { address: "b" });
  throttle.info("other", "Other", {});
  now = WARN_INTERVAL_MS;
  throttle.warn("k", "Dropped", { address: "c" });
  throttle.close();
  assert.deepEqual(logged, [
    ["warn", "Dropped", { address: "a" }],
    ["info", "Other", {}],
    ["warn", "Dropped", { address: "c", suppressed: 1 }],
  ]);
});

Deno.test("WarnThrottle writes one summary line per key when the interval ends, even if nothing else comes", async () => {
  const { log, logged } = recorder();
  const throttle = new WarnThrottle(log, { intervalMs: 50 });
  try {
    for (let i = 0; i < 1000; i++) throttle.warn("refused", "Refused connection", { n: i });
    assert.equal(logged.length, 1);
    await waitFor(() => logged.length === 2);
  } finally {
    throttle.close();
  }
  assert.deepEqual(logged.at(-1), ["warn", "Refused connection", { n: 999, suppressed: 999 }]);
  assert.equal(logged.length, 2);
});

Deno.test("WarnThrottle folds keys beyond its memory into one line", () => {
  const { log, logged } = recorder();
  const throttle = new WarnThrottle(log, { now: () => 0 });
  for (let i = 0; i < 5000; i++) throttle.warn(`denied ${i}`, "Denied", { address: i });
  throttle.close();
  // One line per remembered key, one for the overflow, one summary of the overflow.
  assert.equal(logged.length, 1024 + 2);
  assert.deepEqual(logged.at(-1)![2], { address: 4999, suppressed: 5000 - 1024 - 1 });
});
