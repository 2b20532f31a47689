import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../store/sqlite_store.ts";
import { makeBatch } from "../store/store_conformance.ts";
import type { Store } from "../store/store.ts";
import {
  ASSUMED_TEXT_INDEX_RATE,
  keepTextIndexLagBounded,
  MIN_TIMED_RUN_ROWS,
  TEXT_INDEX_STEP_ROWS,
  TextIndexLagBound,
} from "./text_index_lag.ts";

/** A bound of `maxEvents` unindexed events only. */
const events = (maxEvents: number) => new TextIndexLagBound({ maxEvents, maxCatchupSeconds: 0 });

async function withStoredEvents(count: number, work: (store: Store) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const store = await openSqliteStore(join(dir, "nms.db"));
  try {
    const events = Array.from({ length: count }, (_, i) => ({ message: `event ${i} w${i}x` }));
    await store.appendEvents([makeBatch(events)]);
    await work(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a stored batch is not full-text indexed until the writer indexes it", async () => {
  await withStoredEvents(1_000, async (store) => {
    assert.equal(await store.textIndexLag!(), 1_000);
    assert.equal(await store.indexText!(400), 400);
    assert.equal(await store.textIndexLag!(), 600);
  });
});

Deno.test("beyond the lag bound, a group commit is followed by a step as large as the group", async () => {
  const stored = 3 * TEXT_INDEX_STEP_ROWS;
  await withStoredEvents(stored, async (store) => {
    const group = 2 * TEXT_INDEX_STEP_ROWS;
    assert.equal(await keepTextIndexLagBounded(store, group, events(1_000)), group);
    assert.equal(await store.textIndexLag!(), stored - group);
    // A small group still gets a whole idle-sized step.
    assert.equal(await keepTextIndexLagBounded(store, 10, events(1_000)), TEXT_INDEX_STEP_ROWS);
    assert.equal(await store.textIndexLag!(), 0);
    // Indexed events are found through the index.
    const found = await store.queryEvents({ text: "w7x", limit: 10 });
    assert.deepEqual(found.map((e) => e.message), ["event 7 w7x"]);
  });
});

Deno.test("within the lag bound, or with the bound off, ingest never waits for indexing", async () => {
  await withStoredEvents(2_000, async (store) => {
    assert.equal(await keepTextIndexLagBounded(store, 2_000, events(2_000)), 0, "at the bound");
    assert.equal(await keepTextIndexLagBounded(store, 2_000, events(0)), 0, "bound off");
    assert.equal(await store.textIndexLag!(), 2_000);
  });
});

/** Feeds `bound` a run of idle steps indexing `rows` events at `rate` events/s, caught up at the end. */
function catchUp(bound: TextIndexLagBound, rows: number, rate: number, from = 0): void {
  let at = from;
  for (let left = rows; left >= 0; left -= TEXT_INDEX_STEP_ROWS) {
    const step = Math.min(left, TEXT_INDEX_STEP_ROWS);
    const ms = (step / rate) * 1000;
    bound.idleStep(step, at, at + ms);
    at += ms + 1; // the pause between steps counts too
  }
}

Deno.test("the catch-up bound is the seconds given times the rate at which idle steps last caught up", () => {
  const bound = new TextIndexLagBound({ maxEvents: 0, maxCatchupSeconds: 2 });
  // Before any run, the assumed rate.
  assert.equal(bound.maxEvents(), 2 * ASSUMED_TEXT_INDEX_RATE);
  catchUp(bound, 1_000_000, 500_000);
  // 200 steps of 10 ms with 1 ms between them: 1,000,000 events in 2.2 s.
  assert.ok(Math.abs(bound.rate - 1_000_000 / 2.2) < 2_000, `rate ${bound.rate}`);
  assert.ok(Math.abs(bound.maxEvents() - 2 * 1_000_000 / 2.2) < 4_000, `${bound.maxEvents()}`);
});

Deno.test("a short run of idle steps, or one that ingest interrupted early, leaves the rate alone", () => {
  const bound = new TextIndexLagBound({ maxEvents: 0, maxCatchupSeconds: 1 });
  catchUp(bound, MIN_TIMED_RUN_ROWS - TEXT_INDEX_STEP_ROWS, 10_000);
  assert.equal(bound.rate, ASSUMED_TEXT_INDEX_RATE);
  bound.idleStep(TEXT_INDEX_STEP_ROWS, 0, 1);
  bound.endRun(); // a commit came
  assert.equal(bound.rate, ASSUMED_TEXT_INDEX_RATE);
  // A long run that a commit ends is timed up to its last step.
  for (let i = 0; i < 20; i++) bound.idleStep(TEXT_INDEX_STEP_ROWS, i * 10, i * 10 + 10);
  bound.endRun();
  assert.equal(bound.rate, 500_000);
});

Deno.test("with both bounds set the smaller applies, and with both at 0 there is none", () => {
  const both = new TextIndexLagBound({ maxEvents: 300_000, maxCatchupSeconds: 2 });
  catchUp(both, 1_000_000, 500_000); // 2 s at about 450,000 events/s
  assert.equal(both.maxEvents(), 300_000);
  // Slower runs pull the rate down: 2 s of it is then under 300,000.
  for (let i = 0; i < 5; i++) catchUp(both, 100_000, 10_000);
  assert.ok(both.maxEvents() < 300_000, `bound ${both.maxEvents()}`);
  assert.equal(new TextIndexLagBound({ maxEvents: 0, maxCatchupSeconds: 0 }).maxEvents(), 0);
});

Deno.test("a catch-up bound shorter than the stored backlog makes a group commit index after it", async () => {
  const stored = 4 * TEXT_INDEX_STEP_ROWS;
  await withStoredEvents(stored, async (store) => {
    const bound = new TextIndexLagBound({ maxEvents: 0, maxCatchupSeconds: 0.001 });
    const group = 2 * TEXT_INDEX_STEP_ROWS;
    assert.equal(await keepTextIndexLagBounded(store, group, bound), group);
    assert.equal(await store.textIndexLag!(), stored - group);
    // A catch-up bound of an hour is far above this backlog: no indexing.
    const loose = new TextIndexLagBound({ maxEvents: 0, maxCatchupSeconds: 3_600 });
    assert.equal(await keepTextIndexLagBounded(store, group, loose), 0);
  });
});
