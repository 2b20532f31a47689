/**
 * The web console's JSON API over real HTTP against a real server.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CONTENT_SECURITY_POLICY } from "../server/dashboard/http.ts";
import { MAX_FAILED_LOGINS_PER_ADDRESS } from "../server/dashboard/login_throttle.ts";
import { addUser, connectAgent, sampleLines, sendEvents, signIn } from "./_harness/console.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

const AGENT = { username: "collector", password: "agent-pass-1" };

async function get(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, { redirect: "manual", ...init });
  await response.body?.cancel();
  return response;
}

Deno.test("console API: nothing but the login page, its assets and /healthz is reachable without a session", async () => {
  await using srv = await startTestServer({ httpPort: 0 });
  const base = srv.httpUrl!;
  const root = await get(`${base}/`);
  assert.equal(root.status, 303);
  assert.equal(root.headers.get("location"), "/login");
  for (
    const path of ["/api/logs", "/api/agents", "/api/stats", "/api/users", "/api/me", "/metrics"]
  ) {
    assert.equal((await get(`${base}${path}`)).status, 401, path);
  }
  assert.equal((await get(`${base}/static/app.js`)).status, 401);
  assert.equal((await get(`${base}/static/uPlot.iife.min.js`)).status, 401);
  assert.equal((await get(`${base}/static/../server.ts`)).status, 404);
  assert.equal((await get(`${base}/static/%2e%2e/mod.ts`)).status, 404);
  assert.equal((await get(`${base}/healthz`)).status, 200);
  assert.equal((await get(`${base}/static/style.css`)).status, 200);

  const login = await fetch(`${base}/login`);
  const html = await login.text();
  assert.equal(login.status, 200);
  assert.equal(login.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
  assert.equal(login.headers.get("x-content-type-options"), "nosniff");
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
  // No inline script or handler: every <script> has a src.
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i);
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
});

Deno.test("console API: login sets a strict HttpOnly cookie, logout ends the session, agents and wrong passwords are refused", async () => {
  await using srv = await startTestServer({ httpPort: 0, adminPassword: "admin-pass-1" });
  const base = srv.httpUrl!;
  await addUser(srv.store, AGENT.username, "agent", AGENT.password);
  const post = (body: unknown, headers: HeadersInit = {}) =>
    fetch(`${base}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  const wrong = await post({ username: "admin", password: "nope" });
  assert.equal(wrong.status, 401);
  assert.deepEqual(await wrong.json(), { error: "Invalid user name or password" });
  const agent = await post(AGENT);
  assert.equal(agent.status, 403);
  assert.match((await agent.json()).error, /Agent accounts cannot sign in/);
  const notJson = await fetch(`${base}/api/login`, { method: "POST", body: "username=admin" });
  assert.equal(notJson.status, 400);
  await notJson.body?.cancel();
  const crossSite = await post({ username: "admin", password: "admin-pass-1" }, {
    origin: "https://evil.example",
  });
  assert.equal(crossSite.status, 403);
  await crossSite.body?.cancel();

  const ok = await post({ username: "admin", password: "admin-pass-1" });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { username: "admin", role: "admin" });
  const cookie = ok.headers.get("set-cookie")!;
  assert.match(cookie, /^nms_session=[A-Za-z0-9_-]{43};/);
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Strict/);
  assert.match(cookie, /; Path=\//);
  assert.doesNotMatch(cookie, /Secure/, "plain HTTP: no Secure flag");

  const session = cookie.split(";")[0]!;
  const me = await fetch(`${base}/api/me`, { headers: { cookie: session } });
  assert.equal((await me.json()).username, "admin");
  const out = await fetch(`${base}/api/logout`, { method: "POST", headers: { cookie: session } });
  assert.match(out.headers.get("set-cookie")!, /Max-Age=0/);
  await out.body?.cancel();
  assert.equal((await get(`${base}/api/me`, { headers: { cookie: session } })).status, 401);

  // Every attempt is an NMS security event.
  await waitFor(async () =>
    (await srv.store.queryEvents({ contains: 'Failed login for user "admin"' })).length === 1 &&
    (await srv.store.queryEvents({ contains: "Refused console login for agent" })).length === 1
  );
});

Deno.test("console API: an address that keeps failing to log in is throttled with 429", async () => {
  await using srv = await startTestServer({ httpPort: 0, adminPassword: "admin-pass-1" });
  const attempt = (password: string) =>
    fetch(`${srv.httpUrl}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password }),
    });
  // The per-address throttle, or the stricter account lockout when configured, stops guessing.
  let failures = 0;
  for (;;) {
    const response = await attempt(`guess-${failures}`);
    await response.body?.cancel();
    if (response.status === 429) break;
    assert.equal(response.status, 401);
    failures++;
    assert.ok(failures <= MAX_FAILED_LOGINS_PER_ADDRESS, "throttled after at most 10 failures");
  }
  const refused = await attempt("admin-pass-1");
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get("retry-after")) > 0);
  await refused.body?.cancel();
});

Deno.test("console API: search, count, cursor pages and exports return what an agent sent", async () => {
  await using srv = await startTestServer({ httpPort: 0, adminPassword: "admin-pass-1" });
  await addUser(srv.store, AGENT.username, "agent", AGENT.password);
  await using agent = await connectAgent(srv.port, AGENT, "web-01");
  const now = Date.now();
  await sendEvents(agent, "web-01.syslog", sampleLines(50, now));
  await sendEvents(agent, "web-01.app", [
    `${new Date(now).toISOString()} web-01 app[1]: =HYPERLINK("http://x") "quoted", comma`,
    `${new Date(now).toISOString()} web-01 app[1]: needle one`,
    `${new Date(now).toISOString()} web-01 app[1]: needle two`,
    `${new Date(now).toISOString()} web-01 app[1]: needle three`,
  ]);
  const api = await signIn(srv.httpUrl!, "admin", "admin-pass-1");

  type Page = {
    events: { id: number; message: string; host: string }[];
    nextCursor: string | null;
  };
  const first = await api.json<Page>("/api/logs?q=needle&limit=2");
  assert.deepEqual(first.events.map((e) => e.message), ["needle three", "needle two"]);
  assert.ok(first.nextCursor);
  const second = await api.json<Page>(`/api/logs?q=needle&limit=2&cursor=${first.nextCursor}`);
  assert.deepEqual(second.events.map((e) => e.message), ["needle one"]);
  assert.equal(second.nextCursor, null);
  assert.deepEqual(await api.json("/api/logs/count?q=needle"), { count: 3, capped: false });

  const bySeverity = await api.json<Page>("/api/logs?severity=err&host=db-01&limit=1000");
  assert.ok(bySeverity.events.length > 0);
  assert.ok(bySeverity.events.every((e) => e.host === "db-01" && e.message.includes("ERROR")));
  const window = await api.json<Page>(`/api/logs?from=${now - 60_000}&to=${now + 1}&limit=1000`);
  assert.ok(window.events.length >= 4 && window.events.length < 54);

  assert.equal((await api.fetch("/api/logs?severity=loud")).status, 400);
  assert.equal((await api.fetch("/api/logs?limit=0")).status, 400);
  assert.equal((await api.fetch("/api/logs?from=yesterday")).status, 400);
  assert.equal((await api.fetch("/api/logs?cursor=-1")).status, 400);

  const ndjson = await (await api.fetch("/api/logs/export?format=ndjson&q=needle")).text();
  const lines = ndjson.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((e) => e.message), ["needle three", "needle two", "needle one"]);
  const csvResponse = await api.fetch("/api/logs/export?format=csv&q=HYPERLINK");
  assert.match(
    csvResponse.headers.get("content-disposition")!,
    /attachment; filename="nms-logs-.*\.csv"/,
  );
  const csv = await csvResponse.text();
  const [header, row] = csv.split("\r\n");
  assert.equal(header, "id,time,received,host,program,pid,severity,facility,message,raw");
  // Formula injection is defused and quotes are doubled.
  assert.match(row!, /,"'=HYPERLINK\(""http:\/\/x""\) ""quoted"", comma",/);
});

Deno.test("console API: the live stream delivers a new event as Server-Sent Events", async () => {
  await using srv = await startTestServer({ httpPort: 0, adminPassword: "admin-pass-1" });
  await addUser(srv.store, AGENT.username, "agent", AGENT.password);
  const api = await signIn(srv.httpUrl!, "admin", "admin-pass-1");
  const response = await api.fetch("/api/logs/stream?host=web");
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  try {
    await using agent = await connectAgent(srv.port, AGENT, "web-01");
    await sendEvents(
      agent,
      "s",
      ["ignored from another host"].map((m) => `${new Date().toISOString()} db-01 app[1]: ${m}`),
    );
    await sendEvents(agent, "t", [`${new Date().toISOString()} web-01 app[1]: streamed line`]);
    let text = "";
    await waitFor(async () => {
      const { value } = await reader.read();
      text += value ?? "";
      return text.includes("streamed line");
    }, { timeoutMs: 10_000 });
    const message = text.split("\n\n").find((m) => m.includes("streamed line"))!;
    assert.match(message, /^id: \d+\nevent: events\ndata: /m);
    const data = JSON.parse(message.slice(message.indexOf("data: ") + 6));
    assert.equal(data.events[0].host, "web-01");
    assert.doesNotMatch(text, /ignored from another host/);
  } finally {
    await reader.cancel();
  }
});

Deno.test("console API: agents show Alive, Disconnected at once when the connection drops, and Stopped after BYE", async () => {
  await using srv = await startTestServer({ httpPort: 0, heartbeatSeconds: 30 });
  await addUser(srv.store, AGENT.username, "agent", AGENT.password);
  const api = await signIn(srv.httpUrl!, "admin", "admin");
  type Agents = {
    agents: { hostname: string; status: string; connected: boolean; lagBytes: number | null }[];
  };
  const status = async (host: string) =>
    (await api.json<Agents>("/api/agents")).agents.find((a) => a.hostname === host);

  const alive = await connectAgent(srv.port, AGENT, "alive-01");
  await alive.send("HEARTBEAT 120 lag=512");
  assert.equal(await alive.readLine(), "ACK OK Heartbeat received");
  const row = await status("alive-01");
  assert.equal(row?.status, "alive");
  assert.equal(row?.connected, true);
  assert.equal(row?.lagBytes, 512);

  alive.close();
  await waitFor(async () => (await status("alive-01"))?.status === "disconnected");

  await using stopping = await connectAgent(srv.port, AGENT, "bye-01");
  await stopping.send("HEARTBEAT 5");
  await stopping.send("BYE");
  assert.deepEqual(await stopping.readLines(2), ["ACK OK Heartbeat received", "ACK OK Goodbye"]);
  await waitFor(async () => (await status("bye-01"))?.status === "stopped");

  const metrics = await (await api.fetch("/metrics")).text();
  assert.match(metrics, /^nms_agents\{status="disconnected"\} 1$/m);
  assert.match(metrics, /^nms_agents\{status="stopped"\} 1$/m);
});

Deno.test("console API: statistics count events by severity, host and failed logins", async () => {
  await using srv = await startTestServer({ httpPort: 0 });
  await addUser(srv.store, AGENT.username, "agent", AGENT.password);
  await using agent = await connectAgent(srv.port, AGENT, "web-01");
  await sendEvents(agent, "s", sampleLines(100, Date.now()));
  const api = await signIn(srv.httpUrl!, "admin", "admin");
  type Stats = {
    complete: boolean;
    total: number;
    failedLogins: number[];
    topHosts: { name: string; count: number }[];
    perMinuteBySeverity: number[][];
  };
  const stats = await waitFor(async () => {
    const s = await api.json<Stats>("/api/stats?range=hour");
    return s.complete && s.total >= 100 ? s : null;
  });
  assert.equal(stats.perMinuteBySeverity.length, 9);
  assert.equal(stats.failedLogins.reduce((a, b) => a + b, 0), 10);
  assert.equal(stats.topHosts.find((h) => h.name === "web-01")?.count, 20);
  const day = await api.json<Stats>("/api/stats?range=day");
  assert.equal(day.failedLogins.length, 144);
  assert.equal((await api.fetch("/api/stats?range=year")).status, 400);
});

Deno.test("console API: only admins manage users; changes end the user's sessions", async () => {
  await using srv = await startTestServer({ httpPort: 0, adminPassword: "admin-pass-1" });
  await addUser(srv.store, "viewer1", "viewer", "viewer-pass-1");
  const admin = await signIn(srv.httpUrl!, "admin", "admin-pass-1");
  const viewer = await signIn(srv.httpUrl!, "viewer1", "viewer-pass-1");
  const send = (method: string, body: unknown) => ({
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

  assert.equal((await viewer.fetch("/api/users")).status, 403);
  assert.equal(
    (await viewer.fetch(
      "/api/users",
      send("POST", { username: "x", password: "12345678", role: "admin" }),
    ))
      .status,
    403,
  );
  const { users } = await admin.json<{ users: Record<string, unknown>[] }>("/api/users");
  assert.deepEqual(users.map((u) => u.username), ["admin", "viewer1"]);
  assert.ok(users.every((u) => !("passwordHash" in u)));

  await admin.json(
    "/api/users",
    send("POST", { username: "ops", password: "ops-pass-1", role: "viewer" }),
    201,
  );
  await admin.json(
    "/api/users",
    send("POST", { username: "ops", password: "ops-pass-1", role: "viewer" }),
    409,
  );
  await admin.json(
    "/api/users",
    send("POST", { username: "bad name", password: "ops-pass-1", role: "viewer" }),
    400,
  );
  await admin.json(
    "/api/users",
    send("POST", { username: "short", password: "123", role: "viewer" }),
    400,
  );

  // Promoting viewer1 ends its session; the new role applies at the next login.
  await admin.json("/api/users/viewer1", send("PATCH", { role: "admin" }));
  assert.equal((await viewer.fetch("/api/me")).status, 401);
  const promoted = await signIn(srv.httpUrl!, "viewer1", "viewer-pass-1");
  assert.equal((await promoted.json<{ role: string }>("/api/me")).role, "admin");

  await admin.json("/api/users/viewer1", send("PATCH", { password: "new-pass-123" }));
  assert.equal((await promoted.fetch("/api/me")).status, 401);
  await signIn(srv.httpUrl!, "viewer1", "new-pass-123");

  await admin.json("/api/users/admin", send("DELETE", {}), 409); // own account
  await admin.json("/api/users/viewer1", send("DELETE", {}));
  await admin.json("/api/users/viewer1", send("DELETE", {}), 404);
  await admin.json("/api/users/admin", send("PATCH", { role: "viewer" }), 409); // last admin
  const cross = await admin.fetch("/api/users/ops", {
    ...send("DELETE", {}),
    headers: { origin: "http://evil.example", "content-type": "application/json" },
  });
  assert.equal(cross.status, 403);
  await cross.body?.cancel();
});

Deno.test("console API: /metrics speaks Prometheus and accepts HTTP Basic credentials", async () => {
  await using srv = await startTestServer({ httpPort: 0, adminPassword: "admin-pass-1" });
  await addUser(srv.store, AGENT.username, "agent", AGENT.password);
  await using agent = await connectAgent(srv.port, AGENT, "web-01");
  await sendEvents(agent, "s", sampleLines(10, Date.now()));
  await sendEvents(agent, "s", sampleLines(2, Date.now())); // resends of positions 1-2
  const basic = (user: string, password: string) => ({
    authorization: `Basic ${btoa(`${user}:${password}`)}`,
  });
  const denied = await get(`${srv.httpUrl}/metrics`, { headers: basic("admin", "wrong") });
  assert.equal(denied.status, 401);
  assert.match(denied.headers.get("www-authenticate")!, /^Basic/);
  const response = await fetch(`${srv.httpUrl}/metrics`, {
    headers: basic("admin", "admin-pass-1"),
  });
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await response.text();
  assert.match(text, /^nms_events_received_total 12$/m);
  assert.match(text, /^nms_events_committed_total 10$/m);
  assert.match(text, /^nms_events_duplicate_total 2$/m);
  assert.match(text, /^nms_connections 1$/m);
  assert.match(text, /^nms_queue_depth \d+$/m);
  assert.match(text, /^nms_agents\{status="alive"\} \d+$/m);
  assert.match(text, /^# TYPE nms_http_request_duration_seconds histogram$/m);
  assert.equal(
    (await get(`${srv.httpUrl}/metrics`, { headers: basic(AGENT.username, AGENT.password) }))
      .status,
    403,
  );
});

Deno.test("console: static files go out gzipped to a client that accepts gzip", async () => {
  await using srv = await startTestServer({ httpPort: 0 });
  // A raw request, since fetch() would decompress the body and hide what was sent.
  const headOf = async (encoding: string) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.server.httpAddr!.port });
    await conn.write(new TextEncoder().encode(
      `GET /static/style.css HTTP/1.1\r\nHost: x\r\nAccept-Encoding: ${encoding}\r\n` +
        "Connection: close\r\n\r\n",
    ));
    const text = new TextDecoder("latin1").decode(await new Response(conn.readable).arrayBuffer());
    return text.slice(0, text.indexOf("\r\n\r\n")).toLowerCase();
  };
  const size = (head: string) => Number(/content-length: (\d+)/.exec(head)?.[1]);
  const zipped = await headOf("gzip");
  const plain = await headOf("identity");
  assert.match(zipped, /content-encoding: gzip/);
  assert.doesNotMatch(plain, /content-encoding/);
  assert.ok(size(zipped) * 3 < size(plain), `${size(zipped)} vs ${size(plain)}`);
});

Deno.test("console API: /api/agents pages by cursor, matches prefixes, and refuses a bad cursor in one line", async () => {
  await using srv = await startTestServer({ httpPort: 0 });
  const now = Date.now();
  await srv.store.applyAgentChanges(Array.from({ length: 12 }, (_, i) => ({
    kind: "register" as const,
    registration: {
      hostname: i % 2 === 0 ? `web-${String(i).padStart(2, "0")}` : `db-${i}`,
      version: "1.0",
      os: "Linux",
      address: `10.0.0.${i}:4000`,
      at: now,
    },
  })));
  const api = await signIn(srv.httpUrl!, "admin", "admin");
  type Page = { agents: { hostname: string }[]; total: number; next: string | null };
  const seen: string[] = [];
  let path = "/api/agents?limit=5&order=desc";
  for (let n = 0; n < 5; n++) {
    const page = await api.json<Page>(path);
    assert.equal(page.total, 12);
    seen.push(...page.agents.map((a) => a.hostname));
    if (page.next === null) break;
    path = `/api/agents?limit=5&order=desc&after=${page.next}`;
  }
  const all = (await api.json<Page>("/api/agents?order=desc")).agents.map((a) => a.hostname);
  assert.equal(all.length, 12);
  assert.deepEqual(seen, all);

  const prefix = await api.json<Page>("/api/agents?name=WEB-0&match=prefix");
  assert.deepEqual(prefix.agents.map((a) => a.hostname), [
    "web-00",
    "web-02",
    "web-04",
    "web-06",
    "web-08",
  ]);
  const { next } = await api.json<Page>("/api/agents?limit=1");
  for (
    const query of [
      "after=not%20base64",
      `after=${"A".repeat(2_000)}`,
      "after=eyJ4IjoxfQ",
      `after=${next}&sort=lastSeen`,
      `after=${next}&offset=3`,
      "match=regex",
    ]
  ) {
    const response = await api.fetch(`/api/agents?${query}`);
    assert.equal(response.status, 400, query);
    const { error } = await response.json();
    assert.match(error, /^[^\n]{1,120}$/, query);
  }
});
