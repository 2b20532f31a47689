import assert from "node:assert/strict";
import { SessionStore } from "./session.ts";

const USER = { id: 1, username: "alice", role: "admin" as const, passwordHash: "scrypt$h" };

Deno.test("SessionStore.get() finds a session by its token and keeps only the token's digest", async () => {
  const sessions = new SessionStore();
  const { token, session } = (await sessions.create(USER))!;
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.match(session.id, /^[0-9a-f]{64}$/);
  assert.notEqual(session.id, token);
  assert.equal((await sessions.get(token))?.username, "alice");
  assert.equal(await sessions.get(token + "x"), undefined);
  assert.equal(await sessions.get(undefined), undefined);
  assert.equal(await sessions.get("x".repeat(10_000)), undefined);
});

Deno.test("SessionStore expires a session after the idle time and after the absolute lifetime", async () => {
  let now = 0;
  const sessions = new SessionStore({ idleSeconds: 60, maxAgeSeconds: 300, now: () => now });
  const { token, session } = (await sessions.create(USER))!;
  for (now = 50_000; now < 290_000; now += 50_000) {
    assert.ok(await sessions.get(token), `used at ${now} ms`);
  }
  now = 300_000;
  assert.equal(await sessions.get(token), undefined, "absolute lifetime");
  const idle = (await sessions.create(USER))!;
  now += 61_000;
  assert.equal(sessions.isValid(idle.session.id), false, "idle");
  assert.equal(sessions.isValid(session.id), false);
  assert.equal(sessions.size, 0);
});

Deno.test("SessionStore.destroyUser() ends every session of that user only", async () => {
  const sessions = new SessionStore();
  const a1 = (await sessions.create(USER))!;
  const a2 = (await sessions.create(USER))!;
  const b = (await sessions.create({ ...USER, id: 2, username: "bob" }))!;
  assert.equal(sessions.destroyUser("alice"), 2);
  assert.equal(await sessions.get(a1.token), undefined);
  assert.equal(await sessions.get(a2.token), undefined);
  assert.ok(await sessions.get(b.token));
  sessions.destroy(b.session.id);
  assert.equal(await sessions.get(b.token), undefined);
});
