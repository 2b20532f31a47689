/**
 * The conformance suite every {@linkcode SecurityStore} must pass:
 * tokens, lockout counters, the password-hash compare-and-set and the audit
 * trail, including injection payloads that must be stored as plain values.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Store } from "./store.ts";
import { StoreError } from "./store.ts";
import type { LoginFailurePolicy } from "./security_store.ts";

/** A store to test and how to release it. */
export interface SecurityStoreFixture {
  readonly store: Store;
  cleanup(): Promise<void>;
}

/** Options of {@linkcode securityStoreConformance}. */
export interface SecurityConformanceOptions {
  /** Set to ignore the suite (e.g. no PostgreSQL reachable), with the reason. */
  readonly ignoreReason?: string;
}

const POLICY: LoginFailurePolicy = { maxFailures: 3, windowMs: 60_000, lockMs: 120_000 };

/** Payloads that would change a statement if spliced into SQL. */
const INJECTIONS = [
  "x' OR '1'='1",
  "'; DROP TABLE users; --",
  'a"b\\c%_*',
  "nul\0byte",
];

/**
 * Registers the suite's tests for one backend.
 *
 * @param name Backend name shown in the test names.
 * @param open Opens a fresh, empty store for one test.
 * @param options Ignore reason.
 * @example
 * ```ts
 * securityStoreConformance("SqliteStore", async () => {
 *   const store = await openSqliteStore(":memory:");
 *   return { store, cleanup: () => store.close() };
 * });
 * ```
 */
export function securityStoreConformance(
  name: string,
  open: () => Promise<SecurityStoreFixture>,
  options: SecurityConformanceOptions = {},
): void {
  const test = (title: string, fn: (store: Store) => Promise<void>) =>
    Deno.test({
      name: `${name}.security ${title}`,
      ignore: options.ignoreReason !== undefined,
      async fn() {
        const fixture = await open();
        try {
          await fn(fixture.store);
        } finally {
          await fixture.cleanup();
        }
      },
    });

  test("stores, finds, lists and revokes tokens", async (store) => {
    const security = store.security;
    const base = { secretHash: "ab".repeat(32), boundHostname: null, createdBy: "cli:root" };
    await security.createToken({ ...base, id: "aaaa", name: "web-01", createdAt: 1 });
    await security.createToken({
      ...base,
      id: "bbbb",
      name: "db-01",
      boundHostname: "db-01",
      createdAt: 2,
    });
    await assert.rejects(
      security.createToken({ ...base, id: "aaaa", name: "again", createdAt: 3 }),
      (error) => error instanceof StoreError && error.code === "conflict",
    );
    assert.deepEqual((await security.listTokens()).map((t) => t.id), ["bbbb", "aaaa"]);
    const found = await security.findToken("bbbb");
    assert.equal(found?.boundHostname, "db-01");
    assert.equal(found?.revokedAt, null);
    assert.equal(await security.findToken("cccc"), undefined);
    await security.markTokenUsed("aaaa", 50);
    assert.equal((await security.findToken("aaaa"))?.lastUsedAt, 50);
    assert.equal(await security.revokeToken("aaaa", 60), true);
    assert.equal(await security.revokeToken("aaaa", 70), false, "already revoked");
    assert.equal(await security.revokeToken("zzzz", 70), false, "unknown");
    assert.equal((await security.findToken("aaaa"))?.revokedAt, 60);
  });

  test("locks a key at the failure limit within the window, and unlocks it later", async (store) => {
    const security = store.security;
    const keys = ["user:admin", "addr:10.0.0.9"];
    assert.deepEqual(await security.recordLoginFailure(keys, 1_000, POLICY), []);
    assert.deepEqual(await security.recordLoginFailure(keys, 2_000, POLICY), []);
    assert.equal(await security.lockedUntil(keys, 2_000), null);
    assert.deepEqual(await security.recordLoginFailure(keys, 3_000, POLICY), keys);
    assert.equal(await security.lockedUntil(keys, 3_000), 123_000);
    assert.equal(await security.lockedUntil(["addr:10.0.0.9"], 50_000), 123_000);
    assert.equal(await security.lockedUntil(["user:other"], 50_000), null);
    assert.equal(await security.lockedUntil(keys, 123_000), null, "the lock has ended");
    // After the lock, counting starts again at 1.
    assert.deepEqual(await security.recordLoginFailure(keys, 130_000, POLICY), []);
    assert.equal(await security.lockedUntil(keys, 130_000), null);
  });

  test("starts a new window when the old one has passed", async (store) => {
    const security = store.security;
    const keys = ["user:bob"];
    await security.recordLoginFailure(keys, 0, POLICY);
    await security.recordLoginFailure(keys, 1, POLICY);
    // 60 s later the window is over: this is failure 1 of a new window.
    assert.deepEqual(await security.recordLoginFailure(keys, 60_001, POLICY), []);
    assert.deepEqual(await security.recordLoginFailure(keys, 60_002, POLICY), []);
    assert.deepEqual(await security.recordLoginFailure(keys, 60_003, POLICY), keys);
  });

  test("clears and prunes login failures", async (store) => {
    const security = store.security;
    await security.recordLoginFailure(["user:a", "addr:1"], 0, POLICY);
    await security.clearLoginFailures(["user:a"]);
    await security.recordLoginFailure(["user:a"], 1, POLICY);
    await security.recordLoginFailure(["user:a"], 2, POLICY);
    assert.equal(await security.lockedUntil(["user:a"], 2), null, "cleared: 2 failures, not 3");
    assert.equal(await security.pruneLoginFailures(1), 1, "addr:1 started at 0");
    assert.equal(await security.pruneLoginFailures(1), 0);
  });

  test("counts concurrent failures without losing any", async (store) => {
    const security = store.security;
    const policy = { ...POLICY, maxFailures: 20 };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => security.recordLoginFailure(["addr:x"], 10 + i, policy)),
    );
    assert.equal(results.flat().length, 1, "exactly one failure reached the limit");
    assert.ok((await security.lockedUntil(["addr:x"], 100)) !== null);
  });

  test("replaces a password hash only when it is unchanged", async (store) => {
    await store.createUser("carol", "old", "viewer");
    assert.equal(await store.security.replacePasswordHash("carol", "stale", "new"), false);
    assert.equal((await store.findUser("carol"))?.passwordHash, "old");
    assert.equal(await store.security.replacePasswordHash("carol", "old", "new"), true);
    assert.equal((await store.findUser("carol"))?.passwordHash, "new");
  });

  test("appends and pages the audit trail, newest first", async (store) => {
    const security = store.security;
    for (let i = 0; i < 5; i++) {
      await security.appendAudit({
        at: i,
        actor: "cli:root",
        action: "user.add",
        target: `u${i}`,
        detail: i === 0 ? null : `role=viewer`,
      });
    }
    const page = await security.listAudit({ limit: 2 });
    assert.deepEqual(page.map((a) => a.target), ["u4", "u3"]);
    const older = await security.listAudit({ beforeId: page[1]!.id, limit: 10 });
    assert.deepEqual(older.map((a) => a.target), ["u2", "u1", "u0"]);
    assert.equal(older[2]!.detail, null);
  });

  test("stores injection payloads as plain values", async (store) => {
    const security = store.security;
    for (const [i, payload] of INJECTIONS.entries()) {
      await security.createToken({
        id: `id${i}`,
        name: payload,
        secretHash: "00",
        boundHostname: payload,
        createdAt: i,
        createdBy: payload,
      });
      await security.appendAudit({
        at: i,
        actor: payload,
        action: "token.create",
        target: payload,
        detail: payload,
      });
      await security.recordLoginFailure([`user:${payload}`], i, POLICY);
      assert.equal(await security.findToken(payload), undefined);
    }
    const names = (await security.listTokens()).map((t) => t.name.replaceAll("\uFFFD", "\0"));
    assert.deepEqual(names.sort(), [...INJECTIONS].sort());
    assert.equal((await security.listAudit()).length, INJECTIONS.length);
    assert.equal(await store.countUsers(), 0, "the users table is intact");
  });
}
