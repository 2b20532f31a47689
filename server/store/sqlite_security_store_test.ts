import assert from "node:assert/strict";
import { join } from "node:path";
import type { LoginFailurePolicy } from "./security_store.ts";
import { openSqliteStore } from "./sqlite_store.ts";
import type { Store } from "./store.ts";

/** A Worker that holds the database's write lock until told to let go. */
const LOCK_HOLDER = `
import { DatabaseSync } from "node:sqlite";
self.onmessage = (event) => {
  if (event.data.path) {
    const db = new DatabaseSync(event.data.path);
    db.exec("BEGIN IMMEDIATE");
    self.db = db;
    self.postMessage("locked");
  } else {
    self.db.exec("COMMIT");
    self.db.close();
    self.postMessage("released");
  }
};
`;

/**
 * A store with no busy timeout, so SQLite answers "database is locked" at
 * once, as it does within tens of milliseconds whatever the timeout when
 * signals cut its busy handler's sleeps short (a CPU profiler); and a Worker
 * that holds the write lock while `whileLocked` starts its writes, then lets
 * go. The writes' first tries run, and are refused, before they return.
 */
async function withLockedStore(
  whileLocked: (store: Store) => Promise<unknown>[],
  after: (store: Store, results: unknown[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nms-security-busy-" });
  const path = join(dir, "nms.db");
  const store = await openSqliteStore(path, { busyTimeoutMs: 0 });
  const url = URL.createObjectURL(new Blob([LOCK_HOLDER], { type: "text/javascript" }));
  const holder = new Worker(url, { type: "module" });
  const message = () => new Promise((resolve) => holder.onmessage = (event) => resolve(event.data));
  try {
    await store.createUser("fleet", "old-hash", "agent");
    holder.postMessage({ path });
    assert.equal(await message(), "locked");
    const writes = whileLocked(store);
    holder.postMessage({});
    assert.equal(await message(), "released");
    await after(store, await Promise.all(writes));
  } finally {
    holder.terminate();
    URL.revokeObjectURL(url);
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a login's lockout write that finds the database locked is tried again, not failed", async () => {
  const policy: LoginFailurePolicy = { maxFailures: 2, windowMs: 60_000, lockMs: 60_000 };
  const reserve = (store: Store) =>
    store.security.reserveLoginAttempt(["addr:10.0.0.1"], Date.now(), policy);
  await withLockedStore((store) => [reserve(store)], async (store, [reserved]) => {
    assert.equal(reserved, null, "the attempt is counted, not refused");
    // Counted once, though it was tried more than once: one more fits a limit of two.
    assert.equal(await reserve(store), null);
    assert.notEqual(await reserve(store), null, "a third attempt is over the limit of two");
  });
});

Deno.test("a login's re-hash that finds the database locked is tried again, not failed", async () => {
  await withLockedStore(
    (store) => [store.security.replacePasswordHash("fleet", "old-hash", "new-hash")],
    async (store, [replaced]) => {
      assert.equal(replaced, true);
      assert.equal((await store.findUser("fleet"))?.passwordHash, "new-hash");
    },
  );
});
