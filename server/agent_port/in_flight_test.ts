import assert from "node:assert/strict";
import { InFlight } from "./in_flight.ts";

Deno.test("InFlight settles once every tracked piece of work has settled, rejected ones too", async () => {
  const inFlight = new InFlight();
  await inFlight.settled(); // nothing tracked: at once
  const first = Promise.withResolvers<void>();
  const second = Promise.withResolvers<void>();
  inFlight.track(first.promise);
  inFlight.track(second.promise);
  let settled = false;
  const waiting = inFlight.settled().then(() => settled = true);
  first.resolve();
  await first.promise;
  await Promise.resolve();
  assert.equal(settled, false);
  assert.equal(inFlight.count, 1);
  second.reject(new Error("store down"));
  await waiting;
  assert.equal(inFlight.count, 0);
});

Deno.test("InFlight waits for work tracked after settled() was asked", async () => {
  const inFlight = new InFlight();
  const first = Promise.withResolvers<void>();
  inFlight.track(first.promise);
  let settled = false;
  const waiting = inFlight.settled().then(() => settled = true);
  const later = Promise.withResolvers<void>();
  inFlight.track(later.promise);
  first.resolve();
  // Every reaction to the first piece has run by the next macrotask.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(settled, false);
  later.resolve();
  await waiting;
  assert.equal(settled, true);
});
