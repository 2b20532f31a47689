import assert from "node:assert/strict";
import { join } from "node:path";
import { hashPassword } from "../auth/password.ts";
import { silentLogger } from "../log.ts";
import { ServerMetrics } from "../metrics.ts";
import { openSqliteStore } from "../store/sqlite_store.ts";
import type { Store } from "../store/store.ts";
import { createDashboardHandler } from "./api.ts";
import type { DashboardContext, SecurityEventInput } from "./context.ts";
import { CONTENT_SECURITY_POLICY } from "./http.ts";
import { LiveHub } from "./live_stream.ts";
import { LoginThrottle } from "./login_throttle.ts";
import { SessionStore } from "./session.ts";
import { StatsCollector } from "./stats_collector.ts";

const BASE = "http://console.test";

async function withHandler(
  fn: (
    handle: (request: Request) => Promise<Response>,
    context: { store: Store; events: SecurityEventInput[] },
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nms-api-" });
  const store = await openSqliteStore(join(dir, "nms.db"), { sync: "normal" });
  const events: SecurityEventInput[] = [];
  const ctx: DashboardContext = {
    store,
    sessions: new SessionStore(),
    throttle: new LoginThrottle(),
    live: new LiveHub(store),
    stats: new StatsCollector(store),
    metrics: new ServerMetrics(),
    heartbeatSeconds: 30,
    secure: false,
    cookieName: "nms_session",
    connectedAgentIds: () => new Set(),
    protocolGauges: () => ({ queueDepth: 0, connections: 0 }),
    recordSecurityEvent: (event) => events.push(event),
    recordLoginEvents: (_ip, login) =>
      events.push(...login.map(({ severity, message }) => ({ severity, message }))),
    databaseIntegrity: () => ({ status: "skipped" }),
    components: () => ({ writer: true, listeners: {} }),
    log: silentLogger,
    shutdownSignal: new AbortController().signal,
    now: Date.now,
  };
  const handler = createDashboardHandler(ctx);
  try {
    await fn((request) => handler(request, "192.0.2.10"), { store, events });
  } finally {
    ctx.stats.close();
    ctx.live.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const login = (username: string, password: string) =>
  new Request(`${BASE}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });

Deno.test("createDashboardHandler() sends the security headers with every response, errors included", async () => {
  await withHandler(async (handle) => {
    for (const path of ["/login", "/nope", "/api/logs", "/healthz"]) {
      const response = await handle(new Request(`${BASE}${path}`));
      await response.body?.cancel();
      assert.equal(response.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY, path);
      assert.equal(response.headers.get("x-frame-options"), "DENY", path);
    }
    const unknown = await handle(new Request(`${BASE}/etc/passwd`));
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: "Not found" });
    const method = await handle(new Request(`${BASE}/api/users`, { method: "PUT" }));
    assert.equal(method.status, 405);
    assert.equal(method.headers.get("allow"), "GET, POST");
    await method.body?.cancel();
  });
});

Deno.test("createDashboardHandler() signs in a viewer, keeps it out of admin routes and records the attempts", async () => {
  await withHandler(async (handle, { store, events }) => {
    await store.createUser("vera", await hashPassword("vera-pass-1", { logN: 10 }), "viewer");
    const bad = await handle(login("vera", "wrong"));
    assert.equal(bad.status, 401);
    await bad.body?.cancel();
    const ok = await handle(login("vera", "vera-pass-1"));
    assert.equal(ok.status, 200);
    const cookie = ok.headers.get("set-cookie")!.split(";")[0]!;
    await ok.body?.cancel();
    const me = await handle(new Request(`${BASE}/api/me`, { headers: { cookie } }));
    assert.deepEqual(await me.json(), { username: "vera", role: "viewer", heartbeatSeconds: 30 });
    const users = await handle(new Request(`${BASE}/api/users`, { headers: { cookie } }));
    assert.equal(users.status, 403);
    await users.body?.cancel();
    const page = await handle(new Request(`${BASE}/`, { headers: { cookie } }));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>NMS console<\/title>/);
    assert.deepEqual(events.map((e) => e.message), [
      'Failed login for user "vera" from 192.0.2.10 (web console)',
      'Successful login for user "vera" from 192.0.2.10 (web console)',
    ]);
    // A removed user loses access at the next request.
    await store.removeUser("vera");
    const gone = await handle(new Request(`${BASE}/api/me`, { headers: { cookie } }));
    assert.equal(gone.status, 401);
    await gone.body?.cancel();
  });
});

Deno.test("createDashboardHandler() answers hostile input with 4xx, never 500", async () => {
  await withHandler(async (handle) => {
    const requests = [
      new Request(`${BASE}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{",
      }),
      new Request(`${BASE}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "[1]",
      }),
      new Request(`${BASE}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: 1, password: null }),
      }),
      new Request(`${BASE}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "x".repeat(100_000),
      }),
      new Request(`${BASE}/api/users/%E0%A4%A`, { method: "DELETE" }),
      new Request(`${BASE}/metrics`, { headers: { authorization: "Basic !!!" } }),
      new Request(`${BASE}/api/me`, { headers: { cookie: "nms_session=" + "A".repeat(5000) } }),
    ];
    for (const request of requests) {
      const response = await handle(request);
      await response.body?.cancel();
      assert.ok(
        response.status >= 400 && response.status < 500,
        `${request.method} ${request.url}: ${response.status}`,
      );
    }
  });
});
