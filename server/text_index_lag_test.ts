import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "./store/sqlite_store.ts";
import { makeBatch } from "./store/store_conformance.ts";
import type { Store } from "./store/store.ts";
import { keepTextIndexLagBounded, TEXT_INDEX_STEP_ROWS } from "./text_index_lag.ts";

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
  const events = 3 * TEXT_INDEX_STEP_ROWS;
  await withStoredEvents(events, async (store) => {
    const group = 2 * TEXT_INDEX_STEP_ROWS;
    assert.equal(await keepTextIndexLagBounded(store, group, 1_000), group);
    assert.equal(await store.textIndexLag!(), events - group);
    // A small group still gets a whole idle-sized step.
    assert.equal(await keepTextIndexLagBounded(store, 10, 1_000), TEXT_INDEX_STEP_ROWS);
    assert.equal(await store.textIndexLag!(), 0);
    // Indexed events are found through the index.
    const found = await store.queryEvents({ text: "w7x", limit: 10 });
    assert.deepEqual(found.map((e) => e.message), ["event 7 w7x"]);
  });
});

Deno.test("within the lag bound, or with the bound off, ingest never waits for indexing", async () => {
  await withStoredEvents(2_000, async (store) => {
    assert.equal(await keepTextIndexLagBounded(store, 2_000, 2_000), 0, "at the bound");
    assert.equal(await keepTextIndexLagBounded(store, 2_000, 0), 0, "bound off");
    assert.equal(await store.textIndexLag!(), 2_000);
  });
});
