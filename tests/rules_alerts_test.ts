/**
 * Detection rules, end to end: realistic auth.log sequences sent over TCP to a real
 * server come out as exactly the expected alerts (and benign ones as none).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type AlertRecord,
  type NmsServer,
  silentLogger,
  startServer,
  type Store,
} from "../server/mod.ts";
import type { ServerOptions } from "../server/server.ts";
import { BUILTIN_RULE_IDS as R } from "../server/rules/builtin_rules.ts";
import { parseRulesText } from "../server/rules/rules_file.ts";
import type { WebhookPayload } from "../server/rules/webhook.ts";
import { addUser, signIn } from "./_harness/console.ts";
import { LineClient } from "./_harness/line_client.ts";
import { waitFor } from "./_harness/wait_for.ts";

interface Running extends AsyncDisposable {
  readonly server: NmsServer;
  readonly store: Store;
  readonly port: number;
}

async function start(options: ServerOptions = {}): Promise<Running> {
  const dir = await Deno.makeTempDir({ prefix: "nms-rules-" });
  let server: NmsServer;
  try {
    server = await startServer({
      port: 0,
      hostname: "127.0.0.1",
      dbPath: join(dir, "nms.db"),
      workers: 2,
      adminPassword: "admin",
      log: silentLogger,
      ...options,
    });
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return {
    server,
    store: server.store,
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A logged-in protocol client. */
async function login(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  assert.equal(await client.readLine(), "ACK OK Login successful");
  return client;
}

/** Sends lines as BATCH_EVENT and waits for every ACK (so they are committed). */
async function send(client: LineClient, lines: readonly string[]): Promise<void> {
  for (const line of lines) await client.send(`BATCH_EVENT ${line}`);
  const acks = await client.readLines(lines.length);
  assert.deepEqual(acks, lines.map(() => "ACK OK Event received"));
}

/** Alerts by rule id, oldest first. */
async function alertsByRule(store: Store): Promise<Map<number, AlertRecord[]>> {
  const all = (await store.listAlerts({ limit: 1000 })).reverse();
  const byRule = new Map<number, AlertRecord[]>();
  for (const alert of all) byRule.set(alert.ruleId, [...byRule.get(alert.ruleId) ?? [], alert]);
  return byRule;
}

const AUTH = "Nov 23 19:43";
const failed = (second: number, user = "root", ip = "203.0.113.7", port = 52100 + second) =>
  `${AUTH}:${
    String(second).padStart(2, "0")
  } web-01 sshd[812]: Failed password for ${user} from ${ip} port ${port} ssh2`;

Deno.test("server raises sshd brute force from failures spread over two connections, then success after failures", async () => {
  await using srv = await start();
  await using a = await login(srv.port);
  await using b = await login(srv.port);
  await send(a, [failed(1), failed(2, "admin"), failed(3), failed(4)]);
  await send(b, [
    `${AUTH}:04 web-01 sshd[812]: Invalid user oracle from 203.0.113.7 port 52104`,
    failed(5, "oracle"),
    failed(6, "test"),
    failed(7),
    failed(8),
  ]);
  await send(a, [
    `${AUTH}:20 web-01 sshd[812]: Accepted password for deploy from 203.0.113.7 port 52200 ssh2`,
  ]);
  const byRule = await alertsByRule(srv.store);
  assert.deepEqual(
    [...byRule.keys()].sort(),
    [
      R.sshdPasswordFailed,
      R.sshdInvalidUser,
      R.sshdAccepted,
      R.sshdBruteForce,
      R.successAfterFailures,
    ].sort(),
  );
  const failures = byRule.get(R.sshdPasswordFailed)!;
  assert.equal(failures.length, 1, "eight failures fold into one alert");
  assert.equal(failures[0]!.count, 8);
  assert.deepEqual(failures[0]!.fields, { host: "web-01", srcip: "203.0.113.7" });
  const [brute] = byRule.get(R.sshdBruteForce)!;
  assert.equal(brute!.level, 10);
  assert.equal(brute!.count, 1);
  assert.deepEqual(brute!.fields, { srcip: "203.0.113.7" });
  assert.equal(brute!.eventIds.length, 8);
  assert.equal(brute!.lastSeen - brute!.firstSeen, 7000, "from :01 to :08, event time");
  // The event ids are the stored failures.
  for (const id of brute!.eventIds) {
    const [event] = await srv.store.queryEvents({ afterId: id - 1, limit: 1 });
    assert.equal(event?.id, id);
    assert.match(event!.message, /^Failed password for \S+ from 203\.0\.113\.7 /);
  }
  const [after] = byRule.get(R.successAfterFailures)!;
  assert.equal(after!.level, 12);
  assert.deepEqual(after!.fields, { srcip: "203.0.113.7", user: "deploy" });
  assert.equal(after!.eventIds.length, 2, "the brute force's last failure and the success");
});

Deno.test("server raises no alert for a benign auth.log sequence", async () => {
  await using srv = await start();
  await using client = await login(srv.port);
  await send(client, [
    `${AUTH}:01 web-01 sshd[900]: Server listening on 0.0.0.0 port 22.`,
    `${AUTH}:02 web-01 sshd[901]: pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)`,
    `${AUTH}:03 web-01 systemd-logind[400]: New session 12 of user deploy.`,
    `${AUTH}:04 web-01 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by deploy(uid=1001)`,
    `${AUTH}:05 web-01 CRON[2222]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
    `${AUTH}:06 web-01 sshd[901]: Received disconnect from 192.0.2.10 port 50022:11: disconnected by user`,
    `${AUTH}:07 web-01 sshd[901]: pam_unix(sshd:session): session closed for user deploy`,
    `${AUTH}:08 web-01 systemd[1]: Started session-12.scope - Session 12 of User deploy.`,
  ]);
  // Sessions opened and closed are informational (level 3, as in Wazuh); nothing above.
  assert.deepEqual(await srv.store.listAlerts({ minLevel: 4 }), []);
  assert.deepEqual(
    [...new Set((await srv.store.listAlerts()).map((a) => a.ruleId))].sort(),
    [R.pamSessionOpened, R.pamSessionClosed].sort(),
  );
});

Deno.test("server reports a typo then a login as a failure and a success, not an attack", async () => {
  await using srv = await start();
  await using client = await login(srv.port);
  await send(client, [
    failed(10, "alice", "192.0.2.11"),
    `${AUTH}:14 web-01 sshd[812]: Accepted password for alice from 192.0.2.11 port 50100 ssh2`,
  ]);
  const byRule = await alertsByRule(srv.store);
  assert.deepEqual([...byRule.keys()].sort(), [R.sshdPasswordFailed, R.sshdAccepted].sort());
});

Deno.test("server counts a resent EVENT once towards brute force", async () => {
  await using srv = await start();
  await using client = await login(srv.port);
  const lines = [1, 2, 3, 4, 5, 6, 7].map((s) => failed(s));
  for (const [i, line] of lines.entries()) await client.send(`EVENT auth-log-1 ${i * 100} ${line}`);
  await client.readLines(7);
  // The agent lost the ACKs and sends again: duplicates, not new failures.
  for (const [i, line] of lines.entries()) await client.send(`EVENT auth-log-1 ${i * 100} ${line}`);
  assert.deepEqual(await client.readLines(7), lines.map(() => "ACK OK Duplicate event"));
  assert.equal((await alertsByRule(srv.store)).has(R.sshdBruteForce), false);
  await client.send(`EVENT auth-log-1 700 ${failed(8)}`);
  await client.readLines(1);
  const byRule = await alertsByRule(srv.store);
  assert.equal(byRule.get(R.sshdPasswordFailed)?.[0]?.count, 8);
  assert.equal(byRule.get(R.sshdBruteForce)?.length, 1);
});

Deno.test("server raises an alert for repeated failed logins to NMS itself", async () => {
  await using srv = await start();
  // One connection per attempt: a connection that has not logged in gets three bad lines.
  for (let i = 0; i < 5; i++) {
    await using client = await LineClient.connect(srv.port);
    await client.readLine();
    await client.send("LOGIN admin wrong-password");
    assert.equal(await client.readLine(), "ACK FAIL Invalid credentials");
  }
  const byRule = await waitFor(async () => {
    const found = await alertsByRule(srv.store);
    return found.has(R.nmsRepeatedFailedLogins) ? found : null;
  }, { timeoutMs: 20_000, message: "the repeated failed logins alert" });
  assert.deepEqual(byRule.get(R.nmsRepeatedFailedLogins)![0]!.fields, { srcip: "127.0.0.1" });
  assert.equal(byRule.get(R.nmsFailedLogin)![0]!.count, 5);
});

Deno.test("server raises one alert for a new agent and one when it falls silent", async () => {
  await using srv = await start({ heartbeatSeconds: 0.2 });
  {
    await using client = await login(srv.port);
    await client.send("REGISTER 1.0 web-07 Debian GNU/Linux 12 (bookworm)");
    assert.equal(await client.readLine(), "ACK OK Registration successful");
    await client.send("HEARTBEAT 10");
    assert.equal(await client.readLine(), "ACK OK Heartbeat received");
    // Registering again (a reconnect) is not a new agent.
    await client.send("REGISTER 1.0 web-07 Debian GNU/Linux 12 (bookworm)");
    assert.equal(await client.readLine(), "ACK OK Registration successful");
  }
  const silent = await waitFor(async () => {
    const found = await alertsByRule(srv.store);
    return found.get(R.nmsAgentSilent);
  }, { timeoutMs: 20_000, message: "the agent silent alert" });
  assert.equal(silent.length, 1);
  assert.deepEqual(silent[0]!.fields, { agent: "web-07" });
  const byRule = await alertsByRule(srv.store);
  assert.equal(byRule.get(R.nmsAgentRegistered)?.length, 1);
  assert.equal(byRule.get(R.nmsAgentRegistered)![0]!.count, 1);
  assert.deepEqual(byRule.get(R.nmsAgentRegistered)![0]!.fields, { agent: "web-07" });
});

Deno.test("server POSTs alerts to the webhook and retries after a failure", async () => {
  const received: WebhookPayload[] = [];
  let calls = 0;
  await using receiver = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      calls++;
      const body = await req.json() as WebhookPayload;
      if (calls === 1) return new Response("try later", { status: 503 });
      received.push(body);
      return new Response(null, { status: 204 });
    },
  );
  await using srv = await start({
    alertWebhook: { url: `http://127.0.0.1:${receiver.addr.port}/hook`, minLevel: 10 },
  });
  await using client = await login(srv.port);
  await send(client, [1, 2, 3, 4, 5, 6, 7, 8].map((s) => failed(s, "root", "198.51.100.9")));
  const payload = await waitFor(
    () => received.find((p) => p.alert.ruleId === R.sshdBruteForce),
    { timeoutMs: 20_000, message: "the brute force alert at the webhook" },
  );
  assert.equal(payload.type, "alert.created");
  assert.equal(payload.alert.level, 10);
  assert.deepEqual(payload.alert.fields, { srcip: "198.51.100.9" });
  assert.ok(calls >= 2, "the first attempt failed and was retried");
  // Level 5 failures are below the webhook's minimum level.
  assert.equal(received.some((p) => p.alert.ruleId === R.sshdPasswordFailed), false);
});

Deno.test("server with rules off raises nothing, and setRules() turns user rules on without a restart", async () => {
  await using srv = await start({ rules: "off" });
  await using client = await login(srv.port);
  await send(client, [1, 2, 3, 4, 5, 6, 7, 8].map((s) => failed(s)));
  assert.equal(await srv.store.countAlerts(), 0);
  srv.server.setRules(parseRulesText(
    `rules:
  - id: 100001
    level: 9
    description: "cron: job died"
    match: { program: CRON, regex: 'job (?<job>\\S+) died' }
`,
    "rules.yaml",
  ));
  await waitFor(async () => {
    await send(client, [`${AUTH}:30 web-01 CRON[77]: job backup died`]);
    return (await srv.store.countAlerts()) > 0;
  }, { timeoutMs: 20_000, message: "the user rule's alert" });
  const [alert] = await srv.store.listAlerts();
  assert.equal(alert!.ruleId, 100001);
  assert.deepEqual(alert!.fields, { host: "web-01", job: "backup" });
});

Deno.test("GET /api/alerts lists alerts for a viewer, filtered by level, and rejects a bad level", async () => {
  await using srv = await start({ httpPort: 0 });
  await addUser(srv.store, "watcher", "viewer", "watcher-password");
  await using client = await login(srv.port);
  await send(client, [1, 2, 3, 4, 5, 6, 7, 8].map((s) => failed(s)));
  const base = `http://127.0.0.1:${srv.server.httpAddr!.port}`;
  const api = await signIn(base, "watcher", "watcher-password");
  const all = await api.json<{ total: number; alerts: AlertRecord[] }>("/api/alerts");
  assert.equal(all.total, 2);
  const high = await api.json<{ total: number; alerts: AlertRecord[] }>(
    `/api/alerts?minLevel=10&since=${Date.now() - 60_000}&limit=10`,
  );
  assert.deepEqual(high.alerts.map((a) => a.ruleId), [R.sshdBruteForce]);
  assert.equal(high.total, 1);
  await api.json("/api/alerts?minLevel=99", {}, 400);
  const anonymous = await fetch(`${base}/api/alerts`);
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
});
