/**
 * Connection limits of the agent listener: total and per-address
 * connection counts, the idle timeout, the slow-loris line timeout, the short
 * timeout before LOGIN, and the per-connection rate limit (backpressure, never
 * loss).
 *
 * @module
 */

import assert from "node:assert/strict";
import { FAIL, formatAck, OK, WELCOME_LINE } from "../../protocol/mod.ts";
import { hashPassword, verifyPassword } from "../../server/auth/password.ts";
import { clientEvents } from "../_harness/events.ts";
import { LineClient } from "../_harness/line_client.ts";
import { startSecureServer } from "../_harness/secure_server.ts";
import { waitFor } from "../_harness/wait_for.ts";

const encoder = new TextEncoder();

Deno.test("the listener refuses a connection over the per-address limit with one ACK FAIL line, and accepts again when one closes", async () => {
  await using srv = await startSecureServer({ limits: { maxConnectionsPerIp: 2 } });
  await using a = await LineClient.connect(srv.port);
  await using b = await LineClient.connect(srv.port);
  assert.equal(await a.readLine(), WELCOME_LINE);
  assert.equal(await b.readLine(), WELCOME_LINE);
  await using c = await LineClient.connect(srv.port);
  assert.equal(await c.readLine(), formatAck(false, FAIL.tooManyConnectionsFromAddress));
  assert.equal(await c.readLine(), null);
  a.close();
  const d = await waitFor(async () => {
    const client = await LineClient.connect(srv.port);
    if (await client.readLine() === WELCOME_LINE) return client;
    client.close();
    return null;
  });
  d.close();
});

Deno.test("the listener refuses a connection over the total limit when every slot is logged in", async () => {
  await using srv = await startSecureServer({ limits: { maxConnections: 1 } });
  await using a = await LineClient.connect(srv.port);
  assert.equal(await a.readLine(), WELCOME_LINE);
  await a.send("LOGIN admin admin");
  assert.equal(await a.readLine(), formatAck(true, OK.login));
  await using b = await LineClient.connect(srv.port);
  assert.equal(await b.readLine(), formatAck(false, FAIL.tooManyConnections));
  assert.equal(await b.readLine(), null);
});

Deno.test("a logged-in connection that sends nothing for the idle timeout is told why and closed", async () => {
  await using srv = await startSecureServer({
    limits: { idleTimeoutSeconds: 0.5, lineTimeoutSeconds: 30 },
  });
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  assert.equal(await client.readLine(), formatAck(true, OK.login));
  assert.equal(await client.readLine(), formatAck(false, FAIL.idleTimeout));
  assert.equal(await client.readLine(), null);
});

Deno.test("a connection that does not log in is closed after the (short) line timeout", async () => {
  await using srv = await startSecureServer({
    limits: { idleTimeoutSeconds: 300, lineTimeoutSeconds: 0.5 },
  });
  await using client = await LineClient.connect(srv.port);
  assert.equal(await client.readLine(), WELCOME_LINE);
  assert.equal(await client.readLine(), formatAck(false, FAIL.idleTimeout));
  assert.equal(await client.readLine(), null);
});

Deno.test("a connection that trickles an incomplete line (slow-loris) is closed after the line timeout, while its complete lines are answered", async () => {
  await using srv = await startSecureServer({
    limits: { idleTimeoutSeconds: 300, lineTimeoutSeconds: 1 },
  });
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  assert.equal(await client.readLine(), formatAck(true, OK.login));
  await client.sendRaw(encoder.encode("BATCH_EVENT complete\nBATCH_EVENT never ends"));
  assert.equal(await client.readLine(), formatAck(true, OK.event));
  // One byte at a time keeps the connection busy but never finishes the line.
  const trickle = setInterval(() => client.sendRaw(encoder.encode(".")).catch(() => {}), 100);
  try {
    assert.equal(await client.readLine(), formatAck(false, FAIL.lineTimeout));
    assert.equal(await client.readLine(), null);
  } finally {
    clearInterval(trickle);
  }
  const stored = await clientEvents(srv.server.store);
  assert.deepEqual(stored.map((e) => e.raw), ["complete"]);
});

Deno.test("a line held while the server verifies a queue of logins is not a slow-loris: the line timeout counts only time spent waiting for the client", async () => {
  // The pool verifies one password (scrypt) per CPU at a time: enough
  // connections for about 4 s of verifications on this machine (timed here,
  // after a first scrypt that warms up) make the last of them wait far longer
  // than the line timeout for its LOGIN answer, holding an incomplete line the
  // server has not asked for yet.
  const hash = await hashPassword("admin");
  const started = performance.now();
  await verifyPassword("admin", hash);
  const perLogin = Math.max(1, performance.now() - started);
  const count = Math.ceil((4_000 / perLogin) * navigator.hardwareConcurrency);
  await using srv = await startSecureServer({
    limits: { idleTimeoutSeconds: 300, lineTimeoutSeconds: 0.5, maxConnectionsPerIp: 0 },
  });
  const clients = await Promise.all(
    Array.from({ length: count }, () => LineClient.connect(srv.port)),
  );
  try {
    const loginsStarted = performance.now();
    await Promise.all(clients.map(async (client, i) => {
      assert.equal(await client.readLine(), WELCOME_LINE);
      await client.sendRaw(encoder.encode(`LOGIN admin admin\nBATCH_EVENT held ${i}`));
      assert.equal(await client.readLine(), formatAck(true, OK.login), `client ${i}`);
      await client.sendRaw(encoder.encode(" done\n"));
      assert.equal(await client.readLine(), formatAck(true, OK.event), `client ${i}`);
    }));
    // Only meaningful if the queue outlasted the line timeout (and its once-a-second check).
    assert.ok(
      performance.now() - loginsStarted > 1_500,
      `${count} logins took longer than the line timeout`,
    );
  } finally {
    for (const client of clients) client.close();
  }
  const stored = await clientEvents(srv.server.store);
  assert.equal(stored.length, count);
  assert.ok(stored.every((e) => /^held \d+ done$/.test(e.raw)));
});

Deno.test("a connection over the events-per-second limit is slowed down, and every event is still stored", async () => {
  const perSecond = 500;
  await using srv = await startSecureServer({ limits: { maxEventsPerSecond: perSecond } });
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  await client.readLine();
  const count = 2_000;
  const started = performance.now();
  // 1 KiB lines: the server reads them in many chunks of about 64 lines.
  const padding = "x".repeat(1000);
  const lines = Array.from(
    { length: count },
    (_, i) => `EVENT rate-test ${i + 1} ${i} ${padding}\n`,
  );
  const sending = client.sendRaw(encoder.encode(lines.join("")));
  const acks = await client.readLines(count);
  await sending;
  const elapsedMs = performance.now() - started;
  assert.ok(acks.every((a) => a === formatAck(true, OK.event)));
  assert.equal((await clientEvents(srv.server.store)).length, count);
  // One second's worth and one read may burst: a busy connection reads up to
  // 256 KiB at once, about 256 of these 1 KiB lines (server/agent_port/connection.ts). The
  // rest takes at least (count - burst) / rate; without the limit it takes ~0.1 s.
  const burst = perSecond + 256 + 100;
  assert.ok(elapsedMs >= ((count - burst) / perSecond) * 1000, `${elapsedMs} ms`);
});
