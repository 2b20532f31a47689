/**
 * Login lockout (per user and per address, surviving a restart),
 * security events for every attempt, the transparent re-hash of weak password
 * hashes, and injection payloads in LOGIN.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FAIL, formatAck, OK } from "../../protocol/mod.ts";
import { hashPassword } from "../../server/auth/password.ts";
import { EVENT_FLAGS } from "../../server/mod.ts";
import { LineClient } from "../_harness/line_client.ts";
import { startSecureServer } from "../_harness/secure_server.ts";
import { waitFor } from "../_harness/wait_for.ts";

const LOCKED = formatAck(false, FAIL.tooManyFailures);
const INVALID = formatAck(false, FAIL.invalidCredentials);
const LOGIN_OK = formatAck(true, OK.login);

async function login(port: number, user: string, password: string): Promise<string | null> {
  await using client = await LineClient.connect(port);
  await client.readLine();
  await client.send(`LOGIN ${user} ${password}`);
  return await client.readLine();
}

async function securityMessages(
  store: { queryEvents(q: { limit: number }): Promise<{ flags: number; message: string }[]> },
) {
  return (await store.queryEvents({ limit: 1000 }))
    .filter((e) => e.flags & EVENT_FLAGS.internal)
    .map((e) => e.message);
}

Deno.test("LOGIN is refused with a distinct reason after 5 failures for a user, even with the right password, and the lock survives a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-lockout-" });
  try {
    {
      await using srv = await startSecureServer({}, dir);
      for (let i = 0; i < 5; i++) {
        assert.equal(await login(srv.port, "admin", `guess${i}`), INVALID);
      }
      assert.equal(
        await login(srv.port, "admin", "admin"),
        LOCKED,
        "locked: the password is not even checked",
      );
      const messages = await waitFor(async () => {
        const all = await securityMessages(srv.server.store);
        return all.some((m) => m.startsWith("Logins locked for user admin")) ? all : null;
      });
      assert.equal(messages.filter((m) => m.startsWith("Failed login for user admin")).length, 5);
      assert.ok(messages.some((m) => m.startsWith("Logins locked for address 127.0.0.1")));
      await waitFor(async () =>
        (await securityMessages(srv.server.store)).some((m) =>
          /^Refused login for user admin from 127\.0\.0\.1:\d+: locked out$/.test(m)
        )
      );
    }
    // A restart on the same database keeps the counters.
    await using again = await startSecureServer({}, dir);
    assert.equal(await login(again.port, "admin", "admin"), LOCKED);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LOGIN from an address that failed 5 times is refused for every user, and other addresses' users are not", async () => {
  await using srv = await startSecureServer({ lockout: { maxFailures: 5 } });
  const hash = await hashPassword("viewer-pw", { logN: 10 });
  await srv.server.store.createUser("carol", hash, "viewer");
  for (let i = 0; i < 5; i++) assert.equal(await login(srv.port, `nobody${i}`, "x"), INVALID);
  assert.equal(await login(srv.port, "carol", "viewer-pw"), LOCKED);
  // Counted per user: carol herself had no failure, so the lock is the address's.
  const keys = await srv.server.store.security.lockedUntil(["user:carol"], Date.now());
  assert.equal(keys, null);
});

Deno.test("LOGIN with the lockout off (maxFailures 0) keeps checking passwords", async () => {
  await using srv = await startSecureServer({ lockout: { maxFailures: 0 } });
  for (let i = 0; i < 7; i++) assert.equal(await login(srv.port, "admin", "nope"), INVALID);
  assert.equal(await login(srv.port, "admin", "admin"), LOGIN_OK);
});

Deno.test("a successful LOGIN re-hashes a password hash weaker than the current default", async () => {
  await using srv = await startSecureServer();
  const weak = await hashPassword("s3cret pass", { logN: 10 });
  await srv.server.store.createUser("dave", weak, "agent");
  assert.equal(await login(srv.port, "dave", "s3cret pass"), LOGIN_OK);
  const upgraded = await waitFor(async () => {
    const user = await srv.server.store.findUser("dave");
    return user && user.passwordHash !== weak ? user.passwordHash : null;
  });
  assert.match(upgraded, /^scrypt\$15\$8\$1\$/);
  assert.equal(await login(srv.port, "dave", "s3cret pass"), LOGIN_OK, "the new hash verifies");
});

Deno.test("LOGIN with SQL injection payloads as user name or password is refused and changes nothing", async () => {
  await using srv = await startSecureServer({ lockout: { maxFailures: 0 } });
  const payloads = [
    ["admin'--", "x"],
    ["admin", "' OR '1'='1"],
    ["x'||(SELECT password_hash FROM users)||'", "y"],
    ["admin;DROP", "TABLE users; --"],
    ['"admin"', "admin"],
  ];
  for (const [user, password] of payloads) {
    assert.equal(await login(srv.port, user!, password!), INVALID, `${user} ${password}`);
  }
  assert.deepEqual((await srv.server.store.listUsers()).map((u) => u.username), ["admin"]);
  assert.equal(await login(srv.port, "admin", "admin"), LOGIN_OK);
});
