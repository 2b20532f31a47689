import assert from "node:assert/strict";
import {
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_MAX_CONNECTIONS_PER_IP,
  isLoopback,
  RateLimiter,
  resolveLimits,
} from "./connection_limits.ts";

Deno.test("resolveLimits() fills defaults, turns 0 into no limit and rejects negative values", () => {
  const limits = resolveLimits({ maxConnections: 0, lineTimeoutSeconds: 0.5 });
  assert.equal(limits.maxConnections, Infinity);
  assert.equal(limits.maxConnectionsPerIp, DEFAULT_MAX_CONNECTIONS_PER_IP);
  assert.equal(limits.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_SECONDS * 1000);
  assert.equal(limits.lineTimeoutMs, 500);
  assert.throws(() => resolveLimits({ maxEventsPerSecond: -1 }), RangeError);
  assert.throws(() => resolveLimits({ idleTimeoutSeconds: NaN }), RangeError);
});

Deno.test("RateLimiter lets one second's worth through, then asks for pauses that keep the average rate", () => {
  const rate = new RateLimiter(100);
  assert.equal(rate.take(100, 1_000), 0, "the first second's worth is free");
  assert.equal(rate.take(50, 1_000), 500, "50 over: half a second");
  assert.equal(rate.take(0, 1_000), 0);
  // After the pause the bucket is back at zero: 10 more lines cost 100 ms.
  assert.equal(rate.take(10, 1_500), 100);
  assert.equal(rate.take(100_000, 2_000), 1_000, "pauses are capped at a second");
  assert.equal(new RateLimiter(Infinity).take(1e9, 0), 0);
});

Deno.test("isLoopback() recognises loopback listen addresses only", () => {
  assert.ok(isLoopback("127.0.0.1") && isLoopback("127.1.2.3") && isLoopback("::1"));
  assert.ok(isLoopback("localhost"));
  assert.ok(!isLoopback("0.0.0.0") && !isLoopback("::") && !isLoopback("10.0.0.1"));
});
