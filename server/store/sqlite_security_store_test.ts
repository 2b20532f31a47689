import assert from "node:assert/strict";
import { join } from "node:path";
import type { LoginFailurePolicy } from "./security_store.ts";
import { openSqliteStore } from "./sqlite_store.ts";

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

Deno.test("a login's lockout write that finds the database locked is tried again, not failed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-security-busy-" });
  const path = join(dir, "nms.db");
  // No busy timeout: SQLite answers "database is locked" at once, as it
  // sometimes does under load whatever the timeout.
  const store = await openSqliteStore(path, { busyTimeoutMs: 0 });
  const url = URL.createObjectURL(new Blob([LOCK_HOLDER], { type: "text/javascript" }));
  const holder = new Worker(url, { type: "module" });
  const message = () => new Promise((resolve) => holder.onmessage = (event) => resolve(event.data));
  try {
    holder.postMessage({ path });
    assert.equal(await message(), "locked");
    const policy: LoginFailurePolicy = { maxFailures: 2, windowMs: 60_000, lockMs: 60_000 };
    // The first try runs, and is refused, before the call returns: the lock is still held.
    const reserved = store.security.reserveLoginAttempt(["addr:10.0.0.1"], Date.now(), policy);
    holder.postMessage({});
    assert.equal(await message(), "released");
    assert.equal(await reserved, null, "the attempt is counted, not refused");
    // Counted once, though it was tried more than once: one more fits a limit of two.
    const again = () => store.security.reserveLoginAttempt(["addr:10.0.0.1"], Date.now(), policy);
    assert.equal(await again(), null);
    assert.notEqual(await again(), null, "a third attempt is over the limit of two");
  } finally {
    holder.terminate();
    URL.revokeObjectURL(url);
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
