/**
 * Connections that have not logged in cannot hold the agent listener's
 * slots: they get a deadline to log in whatever they send, a few bad lines,
 * a budget of their own, and they are the first to go when slots run out,
 * so logged-in agents and new agents keep working. Refusals print one
 * summary line per kind and interval, not one per socket.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FAIL, formatAck, OK, WELCOME_LINE } from "../../protocol/mod.ts";
import { createLogger } from "../../server/log.ts";
import { LineClient } from "../_harness/line_client.ts";
import { startSecureServer } from "../_harness/secure_server.ts";
import { PRE_LOGIN_EVICTION_GRACE_MS } from "../../server/agent_port/pre_login.ts";
import { SourceClient } from "../_harness/source_client.ts";

const encoder = new TextEncoder();

/** Logs in as admin and registers `hostname`. */
async function agent(port: number, hostname: string): Promise<LineClient> {
  const client = await LineClient.connect(port);
  assert.equal(await client.readLine(), WELCOME_LINE);
  await client.send("LOGIN admin admin");
  await client.send(`REGISTER 1.0 ${hostname} Linux`);
  assert.deepEqual(await client.readLines(2), [
    formatAck(true, OK.login),
    formatAck(true, OK.register),
  ]);
  return client;
}

/**
 * Opens `count` connections from `{network}.1`, `{network}.2`, … that never
 * log in, each welcomed; returns them and when the first was welcomed (the
 * server counted it before that moment).
 */
async function idleClients(
  port: number,
  network: string,
  count: number,
): Promise<{ idle: SourceClient[]; firstIdleAt: number }> {
  const idle: SourceClient[] = [];
  let firstIdleAt = 0;
  for (let i = 0; i < count; i++) {
    const client = await SourceClient.connect(port, `${network}.${i + 1}`);
    idle.push(client);
    assert.equal(await client.readLine(), WELCOME_LINE);
    if (i === 0) firstIdleAt = Date.now();
  }
  return { idle, firstIdleAt };
}

Deno.test("a connection that has not logged in is closed at the login deadline, however busy it keeps its socket", async () => {
  await using srv = await startSecureServer({
    limits: { loginTimeoutSeconds: 1, lineTimeoutSeconds: 30, idleTimeoutSeconds: 300 },
  });
  await using client = await LineClient.connect(srv.port);
  assert.equal(await client.readLine(), WELCOME_LINE);
  // One byte every 200 ms of a line that never ends: neither idle nor (for 30 s) slow.
  const started = Date.now();
  const trickle = setInterval(() => client.sendRaw(encoder.encode("x")).catch(() => {}), 200);
  try {
    assert.equal(await client.readLine(), formatAck(false, FAIL.loginTimeout));
    assert.equal(await client.readLine(), null);
  } finally {
    clearInterval(trickle);
  }
  assert.ok(Date.now() - started < 5_000, `closed after ${Date.now() - started} ms`);
});

Deno.test("a connection that has not logged in is closed after its third bad line", async () => {
  await using srv = await startSecureServer();
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  const answers: (string | null)[] = [];
  for (const line of ["HEARTBEAT 1", "LOGIN  admin secret", "NOPE"]) {
    await client.send(line);
    answers.push(await client.readLine());
  }
  assert.deepEqual(answers, [
    formatAck(false, FAIL.notLoggedIn),
    formatAck(false, FAIL.usageLogin),
    formatAck(false, FAIL.unknownCommand),
  ]);
  assert.equal(await client.readLine(), null);
});

Deno.test("when the slots run out, the oldest connection not logged in goes, and logged-in agents never do", async () => {
  await using srv = await startSecureServer({ limits: { maxConnections: 6 } });
  await using first = await agent(srv.port, "web-01");
  const { idle, firstIdleAt } = await idleClients(srv.port, "127.0.5", 5);
  try {
    // The listener is full, and a connection that just arrived keeps its slot for a grace:
    // once the oldest idle one is past it, a new agent takes its slot.
    await untilPast(firstIdleAt + PRE_LOGIN_EVICTION_GRACE_MS);
    await using second = await agent(srv.port, "web-02");
    assert.equal(await idle[0]!.readLine(), formatAck(false, FAIL.tooManyConnections));
    assert.equal(await idle[0]!.readLine(), null);
    for (const client of [first, second]) {
      await client.send("HEARTBEAT 5");
      assert.equal(await client.readLine(), formatAck(true, OK.heartbeat));
    }
  } finally {
    for (const client of idle) client.close();
  }
});

Deno.test("while the budget of connections not logged in is spent, a newcomer waits for a slot instead of being refused", async () => {
  await using srv = await startSecureServer({ limits: { maxPreLoginConnections: 2 } });
  // The server counts the first idle connection after this moment.
  const before = Date.now();
  const { idle } = await idleClients(srv.port, "127.0.7", 2);
  try {
    // Both slots are taken and within their grace: the newcomer is not answered
    // at once, it is accepted when the oldest idle one has held its slot too long.
    await using newcomer = await LineClient.connect(srv.port);
    assert.equal(await newcomer.readLine(), WELCOME_LINE);
    assert.ok(Date.now() >= before + PRE_LOGIN_EVICTION_GRACE_MS, "not before the grace");
    assert.equal(await idle[0]!.readLine(), formatAck(false, FAIL.tooManyConnections));
    await newcomer.send("LOGIN admin admin");
    assert.equal(await newcomer.readLine(), formatAck(true, OK.login));
    // A login frees a slot: the next one is let in.
    await using next = await LineClient.connect(srv.port);
    assert.equal(await next.readLine(), WELCOME_LINE);
  } finally {
    for (const client of idle) client.close();
  }
});

Deno.test("2,000 idle sockets from 40 addresses do not lock out a real agent, and their refusals print a few lines", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", write: (line) => lines.push(line) });
  await using srv = await startSecureServer({ log }); // the default limits
  await using working = await agent(srv.port, "web-01");
  const logBefore = lines.length;
  const sockets: SourceClient[] = [];
  try {
    let firstIdleAt = 0;
    for (let i = 0; i < 2_000; i++) {
      sockets.push(await SourceClient.connect(srv.port, `127.0.6.${(i % 40) + 1}`));
      // Welcomed: the server counted it before this moment.
      if (i === 0) firstIdleAt = (await sockets[0]!.readLine(), Date.now());
    }
    // Every socket has been accepted (or refused) once a late one gets its first line.
    await sockets.at(-1)!.readLine();
    await untilPast(firstIdleAt + PRE_LOGIN_EVICTION_GRACE_MS);
    await using late = await agent(srv.port, "web-02");
    for (const client of [working, late]) {
      await client.send("HEARTBEAT 5");
      assert.equal(await client.readLine(), formatAck(true, OK.heartbeat));
    }
    const flood = lines.slice(logBefore);
    assert.ok(flood.length <= 12, `${flood.length} log lines:\n${flood.join("\n")}`);
  } finally {
    for (const client of sockets) client.close();
  }
});

/** Resolves once the clock has passed `at` (ms since the epoch): the grace is a span of time. */
function untilPast(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now() + 1)));
}
