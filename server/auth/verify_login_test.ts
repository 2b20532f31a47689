import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../store/sqlite_store.ts";
import { lockoutPolicy } from "./lockout.ts";
import { hashPassword } from "./password.ts";
import { generateToken, TOKEN_USE_RESOLUTION_MS } from "./tokens.ts";
import { verifyLogin } from "./verify_login.ts";

Deno.test("a fleet logging in with one token writes its last use once per interval and no lockout counter", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-verify-login-" });
  const store = await openSqliteStore(join(dir, "nms.db"));
  try {
    const { token, record } = await generateToken("fleet", { createdBy: "test" });
    await store.security.createToken(record);
    const writes: string[] = [];
    const security = store.security;
    for (const name of ["reserveLoginAttempt", "releaseLoginAttempt", "markTokenUsed"] as const) {
      const original = security[name].bind(security) as (...args: unknown[]) => Promise<unknown>;
      // deno-lint-ignore no-explicit-any -- counting calls on the real store's methods
      (security as any)[name] = (...args: unknown[]) => {
        writes.push(name);
        return original(...args);
      };
    }
    const policy = lockoutPolicy({});
    const login = async (password: string, i: number, at: number) => {
      const result = await verifyLogin(store, {
        username: "@token",
        password,
        address: `127.0.0.${i}:4000`,
        ip: `127.0.0.${i}`,
        at,
        lockout: policy,
      });
      await result.finish();
      return result.verdict.ok;
    };
    for (let i = 1; i <= 100; i++) assert.ok(await login(token, i, 1_000 + i));
    assert.deepEqual(writes, ["markTokenUsed"], "one write for 100 logins");
    assert.ok(await login(token, 1, 1_000 + TOKEN_USE_RESOLUTION_MS + 1));
    assert.deepEqual(writes, ["markTokenUsed", "markTokenUsed"], "and one more an interval later");
    writes.length = 0;
    // A wrong token is still counted against its address and locks it.
    for (let i = 0; i < 5; i++) assert.equal(await login(token + "x", 200, 5_000 + i), false);
    assert.ok(writes.includes("reserveLoginAttempt"));
    assert.equal(
      await login(token, 200, 5_010),
      false,
      "the address is locked, even for a good token",
    );
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a password login goes through when the store cannot prune expired lockout counters", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-verify-login-" });
  const path = join(dir, "nms.db");
  const store = await openSqliteStore(path);
  const other = new DatabaseSync(path);
  try {
    await store.createUser("fleet", await hashPassword("fleet-password", { logN: 10 }), "agent");
    // An expired counter, whose pruning fails inside SQLite as it does when
    // a long write holds the lock past the busy timeout.
    other.exec(`INSERT INTO login_failures (key, failures, window_start, locked_until)
                VALUES ('addr:10.9.9.9', 1, 0, NULL)`);
    other.exec(`CREATE TRIGGER refuse_prune BEFORE DELETE ON login_failures
                WHEN old.key = 'addr:10.9.9.9'
                BEGIN SELECT RAISE(ABORT, 'database is locked'); END`);
    const result = await verifyLogin(store, {
      username: "fleet",
      password: "fleet-password",
      address: "127.0.0.9:4000",
      ip: "127.0.0.9",
      at: Date.now(),
      lockout: lockoutPolicy({}),
    });
    await result.finish();
    assert.equal(result.verdict.ok, true);
    // The attempt was still counted, and given back once the password matched.
    const row = other.prepare("SELECT failures FROM login_failures WHERE key = ?")
      .get("addr:127.0.0.9") as { failures: number } | undefined;
    assert.equal(row?.failures, 0);
  } finally {
    other.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
