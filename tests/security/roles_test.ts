/**
 * Roles over HTTP and the lockout shared by the web console and the
 * agent protocol. An agent credential (password or token) cannot use the
 * HTTP API; a viewer reads but cannot manage users; failed console logins
 * lock the agent protocol out too, and the other way round.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FAIL, formatAck } from "../../protocol/mod.ts";
import { hashPassword } from "../../server/auth/password.ts";
import { generateToken } from "../../server/auth/tokens.ts";
import { LineClient } from "../_harness/line_client.ts";
import { startSecureServer } from "../_harness/secure_server.ts";

function basic(user: string, password: string): HeadersInit {
  return { authorization: `Basic ${btoa(`${user}:${password}`)}` };
}

async function status(response: Promise<Response>): Promise<number> {
  const r = await response;
  await r.body?.cancel();
  return r.status;
}

async function consoleLogin(base: string, username: string, password: string): Promise<Response> {
  return await fetch(`${base}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
}

Deno.test("an agent credential cannot use the HTTP API, and a viewer cannot manage users", async () => {
  await using srv = await startSecureServer({ httpPort: 0, lockout: { maxFailures: 0 } });
  const store = srv.server.store;
  await store.createUser("agent1", await hashPassword("agent password", { logN: 10 }), "agent");
  await store.createUser("viewer1", await hashPassword("viewer password", { logN: 10 }), "viewer");
  const { token, record } = await generateToken("web-01", { createdBy: "test" });
  await store.security.createToken(record);
  const base = `http://127.0.0.1:${srv.server.httpAddr!.port}`;

  // Agent: neither HTTP Basic nor a console session.
  assert.ok(
    [401, 403].includes(
      await status(fetch(`${base}/metrics`, { headers: basic("agent1", "agent password") })),
    ),
  );
  assert.equal(await status(consoleLogin(base, "agent1", "agent password")), 403);
  // A token is no user: refused as unknown credentials.
  assert.equal(await status(fetch(`${base}/metrics`, { headers: basic("@token", token) })), 401);
  assert.equal(await status(consoleLogin(base, "@token", token)), 401);

  // Viewer: reads, but user management is admin-only.
  const login = await consoleLogin(base, "viewer1", "viewer password");
  assert.equal(login.status, 200);
  await login.body?.cancel();
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  const asViewer = (path: string, init: RequestInit = {}) =>
    status(fetch(`${base}${path}`, { ...init, headers: { cookie, ...init.headers } }));
  assert.equal(await asViewer("/api/logs"), 200);
  assert.equal(await asViewer("/api/users"), 403);
  const json = { "content-type": "application/json" };
  assert.equal(
    await asViewer("/api/users", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ username: "mallory", password: "mallory password", role: "admin" }),
    }),
    403,
  );
  assert.equal(
    await asViewer("/api/users/viewer1", {
      method: "PATCH",
      headers: json,
      body: JSON.stringify({ role: "admin" }),
    }),
    403,
  );
  assert.equal(await asViewer("/api/users/admin", { method: "DELETE" }), 403);
  assert.deepEqual((await store.listUsers()).map((u) => [u.username, u.role]), [
    ["admin", "admin"],
    ["agent1", "agent"],
    ["viewer1", "viewer"],
  ]);
});

Deno.test("failed web console logins lock that user out of the agent protocol and the console", async () => {
  await using srv = await startSecureServer({ httpPort: 0, lockout: { maxFailures: 3 } });
  const base = `http://127.0.0.1:${srv.server.httpAddr!.port}`;
  for (let i = 0; i < 3; i++) {
    assert.equal(await status(consoleLogin(base, "admin", `bad${i}`)), 401);
  }
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  assert.equal(await client.readLine(), formatAck(false, FAIL.tooManyFailures));
  // The console refuses the right password too, without checking it.
  const refused = await consoleLogin(base, "admin", "admin");
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get("retry-after")) > 0);
  await refused.body?.cancel();
});

Deno.test("failed agent-protocol logins lock that user out of the web console", async () => {
  await using srv = await startSecureServer({ httpPort: 0, lockout: { maxFailures: 3 } });
  const base = `http://127.0.0.1:${srv.server.httpAddr!.port}`;
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  for (let i = 0; i < 3; i++) {
    await client.send(`LOGIN admin bad${i}`);
    assert.equal(await client.readLine(), formatAck(false, FAIL.invalidCredentials));
  }
  assert.equal(await status(consoleLogin(base, "admin", "admin")), 429);
});

Deno.test("user changes made in the web console are written to the audit trail", async () => {
  await using srv = await startSecureServer({ httpPort: 0 });
  const base = `http://127.0.0.1:${srv.server.httpAddr!.port}`;
  const login = await consoleLogin(base, "admin", "admin");
  await login.body?.cancel();
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  const response = await fetch(`${base}/api/users`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ username: "frank", password: "frank password", role: "viewer" }),
  });
  assert.equal(response.status, 201);
  await response.body?.cancel();
  const audit = await srv.server.store.security.listAudit();
  assert.deepEqual(audit.map((a) => [a.actor, a.action, a.target, a.detail]), [
    ["console:admin", "user.add", "frank", "role=viewer"],
  ]);
});
