import assert from "node:assert/strict";
import { Backoff } from "./backoff.ts";

Deno.test("Backoff.nextDelayMs() doubles the ceiling from the initial delay up to the cap", () => {
  const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 1_000, random: () => 0.5 });
  const delays = Array.from({ length: 6 }, () => backoff.nextDelayMs());
  assert.deepEqual(delays, [50, 100, 200, 400, 500, 500]);
  assert.equal(backoff.attempt, 6);
});

Deno.test("Backoff.nextDelayMs() applies full jitter between zero and the ceiling", () => {
  const randoms = [0, 0.999999, 0.25];
  const backoff = new Backoff({
    initialDelayMs: 1_000,
    maxDelayMs: 30_000,
    random: () => randoms.shift()!,
  });
  assert.equal(backoff.nextDelayMs(), 0);
  assert.equal(backoff.nextDelayMs(), 1_999);
  assert.equal(backoff.nextDelayMs(), 1_000);
});

Deno.test("Backoff.nextDelayMs() stays capped after very many failures", () => {
  const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 30_000, random: () => 0.999 });
  for (let i = 0; i < 5_000; i++) backoff.nextDelayMs();
  assert.equal(backoff.ceilingMs(), 30_000);
  assert.equal(backoff.nextDelayMs(), 29_970);
});

Deno.test("Backoff.nextDelayMs() treats an out-of-range random value as zero", () => {
  const backoff = new Backoff({ random: () => 1.5 });
  assert.equal(backoff.nextDelayMs(), 0);
});

Deno.test("Backoff.reset() starts over from the initial delay", () => {
  const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 30_000, random: () => 0.5 });
  backoff.nextDelayMs();
  backoff.nextDelayMs();
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.equal(backoff.nextDelayMs(), 50);
});

Deno.test("Backoff defaults to 100 ms doubling to a 30 s cap", () => {
  const backoff = new Backoff({ random: () => 0.5 });
  assert.equal(backoff.ceilingMs(), 100);
  for (let i = 0; i < 20; i++) backoff.nextDelayMs();
  assert.equal(backoff.ceilingMs(), 30_000);
});

Deno.test("Backoff rejects invalid options with RangeError", () => {
  assert.throws(() => new Backoff({ initialDelayMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ initialDelayMs: 100, maxDelayMs: 50 }), RangeError);
  assert.throws(() => new Backoff({ multiplier: 0.5 }), RangeError);
  assert.throws(() => new Backoff({ initialDelayMs: Number.NaN }), RangeError);
});

Deno.test("Backoff.spreadDelayMs() applies full jitter over the reconnect spread", () => {
  const randoms = [0, 0.5, 0.999999];
  const backoff = new Backoff({
    initialDelayMs: 100,
    maxDelayMs: 30_000,
    reconnectSpreadMs: 5_000,
    random: () => randoms.shift()!,
  });
  assert.equal(backoff.spreadDelayMs(), 0);
  assert.equal(backoff.spreadDelayMs(), 2_500);
  assert.equal(backoff.spreadDelayMs(), 4_999);
});

Deno.test("Backoff.spreadDelayMs() spreads a seeded fleet evenly, not within the first ceiling", () => {
  // A small linear congruential generator: the same sequence on every run.
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const buckets = new Array<number>(5).fill(0);
  for (let agent = 0; agent < 10_000; agent++) {
    const delay = new Backoff({ random }).spreadDelayMs();
    buckets[Math.floor(delay / 1_000)]!++;
  }
  // Every second of the 5 s spread gets about a fifth of the fleet.
  for (const count of buckets) assert.ok(count > 1_600 && count < 2_400, `${buckets}`);
});

Deno.test("Backoff.spreadDelayMs() is capped by the largest delay and counts as an attempt", () => {
  const backoff = new Backoff({
    initialDelayMs: 10,
    maxDelayMs: 200,
    reconnectSpreadMs: 5_000,
    random: () => 0.5,
  });
  assert.equal(backoff.spreadDelayMs(), 100);
  assert.equal(backoff.attempt, 1);
  assert.equal(backoff.nextDelayMs(), 10);
  assert.throws(() => new Backoff({ reconnectSpreadMs: -1 }), RangeError);
});
