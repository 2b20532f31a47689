import assert from "node:assert/strict";
import { WELCOME_LINE } from "../protocol/mod.ts";
import { clientEvents } from "./_harness/events.ts";
import { LineClient } from "./_harness/line_client.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

Deno.test("server answers the paper's conversation byte for byte and stores the event", async () => {
  await using srv = await startTestServer({ adminPassword: "admin" });
  await using client = await LineClient.connect(srv.port);
  assert.equal(await client.readLine(), WELCOME_LINE);
  await client.send("LOGIN admin admin");
  assert.equal(await client.readLine(), "ACK OK Login successful");
  await client.send("REGISTER 1.0 PyQt6-Client Linux");
  assert.equal(await client.readLine(), "ACK OK Registration successful");
  await client.send("BATCH_EVENT 2025-12-11T16:00:00 sshd: session opened");
  assert.equal(await client.readLine(), "ACK OK Event received");
  await client.send("HEARTBEAT 3600");
  assert.equal(await client.readLine(), "ACK OK Heartbeat received");

  const [event] = await clientEvents(srv.store);
  assert.ok(event);
  const stored = (await srv.store.queryEvents({ program: "sshd" }))[0]!;
  assert.equal(stored.raw, "2025-12-11T16:00:00 sshd: session opened");
  assert.equal(stored.message, "session opened");
  assert.equal(stored.ts, Date.UTC(2025, 11, 11, 16, 0, 0));
  assert.equal(stored.host, "PyQt6-Client");
  const [agent] = await srv.store.listAgents();
  assert.equal(agent?.hostname, "PyQt6-Client");
  assert.equal(agent?.os, "Linux");
  assert.equal(agent?.uptimeSeconds, 3600);
});

Deno.test("server answers a wrong password with ACK FAIL and stores nothing the client sends", async () => {
  await using srv = await startTestServer({ adminPassword: "admin" });
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin wrong");
  assert.equal(await client.readLine(), "ACK FAIL Invalid credentials");
  await client.send("REGISTER 1.0 host Linux");
  assert.equal(await client.readLine(), "ACK FAIL Not logged in");
  await client.send("BATCH_EVENT 2025-12-11T16:00:00 sshd: should not be stored");
  assert.equal(await client.readLine(), "ACK FAIL Not logged in");
  // A connection that has not logged in gets three bad lines, then it is closed.
  await client.send("HEARTBEAT 1").catch(() => {});
  assert.equal(await client.readLine(), null);
  assert.deepEqual(await clientEvents(srv.store), []);
  assert.deepEqual(await srv.store.listAgents(), []);
  // The attempt itself is kept as a security event.
  const audit = await waitFor(async () => {
    const found = await srv.store.queryEvents({
      contains: "Failed login for user admin from 127.0.0.1",
    });
    return found.length > 0 ? found : null;
  }, { message: "the failed login security event" });
  assert.equal(audit.length, 1);
});

Deno.test("server accepts CRLF line endings and case-insensitive verbs", async () => {
  await using srv = await startTestServer();
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.sendRaw(
    new TextEncoder().encode("login admin admin\r\nBATCH_EVENT hello world\r\n"),
  );
  assert.deepEqual(await client.readLines(2), ["ACK OK Login successful", "ACK OK Event received"]);
  const [event] = await clientEvents(srv.store);
  assert.equal(event?.raw, "hello world");
});

Deno.test("server stores an EVENT origin once and answers a resend with Duplicate event", async () => {
  await using srv = await startTestServer();
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  await client.readLine();
  await client.send("EVENT s1 10 first line");
  await client.send("EVENT s1 20 second line");
  assert.deepEqual(await client.readLines(2), ["ACK OK Event received", "ACK OK Event received"]);
  await client.send("EVENT s1 10 first line");
  await client.send("EVENT s1 20 second line");
  await client.send("EVENT s1 30 third line");
  await client.send("EVENT s2 10 other stream");
  assert.deepEqual(await client.readLines(4), [
    "ACK OK Duplicate event",
    "ACK OK Duplicate event",
    "ACK OK Event received",
    "ACK OK Event received",
  ]);
  assert.equal((await clientEvents(srv.store)).length, 4);
});

Deno.test("server marks an agent stopped after BYE and closes the connection", async () => {
  await using srv = await startTestServer();
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  await client.send("REGISTER 2.0 web-01 Debian GNU/Linux 12");
  await client.send("BYE");
  assert.deepEqual(await client.readLines(3), [
    "ACK OK Login successful",
    "ACK OK Registration successful",
    "ACK OK Goodbye",
  ]);
  assert.equal(await client.readLine(), null);
  const [agent] = await srv.store.listAgents();
  assert.equal(agent?.os, "Debian GNU/Linux 12");
  assert.ok(agent?.stoppedAt);
});
