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

  test("reserves attempts up to the limit, and locks a key once its last attempt failed", async (store) => {
    const security = store.security;
    const keys = ["addr:10.0.0.9", "user:admin"];
    assert.equal(await security.reserveLoginAttempt(keys, 1_000, POLICY), null);
    assert.equal(await security.reserveLoginAttempt(keys, 2_000, POLICY), null);
    assert.deepEqual(await security.lockExhausted(keys, 2_000, POLICY), [], "2 of 3");
    assert.equal(await security.reserveLoginAttempt(keys, 3_000, POLICY), null);
    // A fourth attempt while the third is still being checked: refused, not counted.
    assert.equal(await security.reserveLoginAttempt(keys, 3_500, POLICY), 123_500);
    assert.equal(await security.lockedUntil(keys, 3_500), null, "not locked before a failure");
    assert.deepEqual(await security.lockExhausted(keys, 4_000, POLICY), keys);
    assert.deepEqual(await security.lockExhausted(keys, 4_000, POLICY), [], "already locked");
    assert.equal(await security.lockedUntil(keys, 4_000), 124_000);
    assert.equal(await security.reserveLoginAttempt(keys, 50_000, POLICY), 124_000);
    assert.equal(await security.lockedUntil(["user:other"], 50_000), null);
    assert.equal(await security.lockedUntil(keys, 124_000), null, "the lock has ended");
    // After the lock, counting starts again at 1.
    assert.equal(await security.reserveLoginAttempt(keys, 130_000, POLICY), null);
    assert.deepEqual(await security.lockExhausted(keys, 130_000, POLICY), []);
  });

  test("starts a new window when the old one has passed", async (store) => {
    const security = store.security;
    const keys = ["user:bob"];
    assert.equal(await security.reserveLoginAttempt(keys, 0, POLICY), null);
    assert.equal(await security.reserveLoginAttempt(keys, 1, POLICY), null);
    // 60 s later the window is over: this is attempt 1 of a new window.
    for (const at of [60_001, 60_002, 60_003]) {
      assert.equal(await security.reserveLoginAttempt(keys, at, POLICY), null, `at ${at}`);
    }
    assert.notEqual(await security.reserveLoginAttempt(keys, 60_004, POLICY), null);
  });

  test("releases a reserved attempt, and a refused attempt counts against no key", async (store) => {
    const security = store.security;
    for (let i = 0; i < 3; i++) await security.reserveLoginAttempt(["user:u"], i, POLICY);
    assert.notEqual(await security.reserveLoginAttempt(["user:u"], 3, POLICY), null);
    await security.releaseLoginAttempt(["user:u"]);
    assert.equal(await security.reserveLoginAttempt(["user:u"], 4, POLICY), null, "released");
    // The address key comes first; the user key refuses, so the address is not counted.
    for (let i = 0; i < 5; i++) {
      assert.notEqual(await security.reserveLoginAttempt(["addr:a", "user:u"], 5, POLICY), null);
    }
    for (let i = 0; i < 3; i++) {
      assert.equal(await security.reserveLoginAttempt(["addr:a"], 6, POLICY), null, `${i}`);
    }
  });

  test("clears and prunes login failures", async (store) => {
    const security = store.security;
    await security.reserveLoginAttempt(["addr:1", "user:a"], 0, POLICY);
    await security.clearLoginFailures(["user:a"]);
    for (let i = 1; i <= 3; i++) {
      assert.equal(await security.reserveLoginAttempt(["user:a"], i, POLICY), null, "cleared");
    }
    assert.equal(await security.pruneLoginFailures(1), 1, "addr:1 started at 0");
    assert.equal(await security.pruneLoginFailures(1), 0);
  });

  test("reserves concurrent attempts without letting more than the limit through", async (store) => {
    const security = store.security;
    const policy = { ...POLICY, maxFailures: 5 };
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => security.reserveLoginAttempt(["addr:x"], 10 + i, policy),
      ),
    );
    assert.equal(results.filter((r) => r === null).length, 5, "exactly 5 attempts reserved");
    assert.deepEqual(await security.lockExhausted(["addr:x"], 100, policy), ["addr:x"]);
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
      await security.reserveLoginAttempt([`user:${payload}`], i, POLICY);
      assert.equal(await security.findToken(payload), undefined);
    }
    const names = (await security.listTokens()).map((t) => t.name.replaceAll("\uFFFD", "\0"));
    assert.deepEqual(names.sort(), [...INJECTIONS].sort());
    assert.equal((await security.listAudit()).length, INJECTIONS.length);
    assert.equal(await store.countUsers(), 0, "the users table is intact");
  });
}
