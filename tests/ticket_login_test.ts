/**
 * Resumption tickets (server/auth/tickets.ts): after a password LOGIN an
 * agent asks `TICKET`, and its next connection logs in with
 * `LOGIN @ticket <ticket>`, checked with one HMAC and no password hash. A
 * forged, tampered, over-long or revoked ticket is answered like a wrong
 * password; tickets are never logged; the paper's LOGIN is unchanged.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, SILENT_LOGGER } from "../agent/mod.ts";
import { FAIL, formatAck, MAX_TICKET_CHARS, OK, ticketFromAck } from "../protocol/mod.ts";
import { generateToken, hashPassword } from "../server/auth/mod.ts";
import { createLogger } from "../server/log.ts";
import { LineClient } from "./_harness/line_client.ts";
import { startTestServer, type TestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

const PASSWORD = "shared fleet password";

/** A server with a shared-password agent account `fleet`, logging into `lines`. */
async function fleetServer(lines: string[], dataDir?: string, port?: number): Promise<TestServer> {
  const log = createLogger({ level: "debug", write: (line) => lines.push(line) });
  const server = await startTestServer({
    log,
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(port === undefined ? {} : { port }),
  });
  if (!await server.store.findUser("fleet")) {
    await server.store.createUser("fleet", await hashPassword(PASSWORD, { logN: 10 }), "agent");
  }
  return server;
}

/** Opens a connection and reads the welcome line. */
async function connect(server: TestServer): Promise<LineClient> {
  const client = await LineClient.connect(server.port);
  await client.readLine();
  return client;
}

/** Logs in with the password and asks for a ticket. */
async function passwordTicket(server: TestServer): Promise<string> {
  const client = await connect(server);
  try {
    await client.send(`LOGIN fleet ${PASSWORD}`);
    assert.equal(await client.readLine(), formatAck(true, OK.login));
    await client.send("TICKET");
    const answer = (await client.readLine())!;
    assert.ok(answer.startsWith(formatAck(true, OK.ticket) + " "), answer);
    const ticket = ticketFromAck(answer.slice("ACK OK ".length));
    assert.ok(ticket !== null, answer);
    return ticket;
  } finally {
    client.close();
  }
}

/** The server's answer to `LOGIN @ticket <ticket>` on a new connection. */
async function ticketLogin(server: TestServer, ticket: string): Promise<string | null> {
  const client = await connect(server);
  try {
    await client.send(`LOGIN @ticket ${ticket}`);
    return await client.readLine();
  } finally {
    client.close();
  }
}

Deno.test("LOGIN @ticket logs in with a ticket from TICKET, without a password hash", async () => {
  const lines: string[] = [];
  await using server = await fleetServer(lines);
  const metrics = server.server.metrics;
  const ticket = await passwordTicket(server);
  assert.equal(metrics.ticketsIssued, 1);
  const checks = metrics.passwordChecks.agent;

  const client = await connect(server);
  try {
    await client.send(`LOGIN @ticket ${ticket}`);
    assert.equal(await client.readLine(), formatAck(true, OK.login));
    await client.send("REGISTER 1.0 host-1 Linux");
    assert.equal(await client.readLine(), formatAck(true, OK.register));
    // A ticket session gets no new ticket: a stolen one cannot be renewed.
    await client.send("TICKET");
    assert.equal(await client.readLine(), formatAck(false, FAIL.noTicket));
  } finally {
    client.close();
  }
  assert.equal(metrics.passwordChecks.agent, checks, "no scrypt for the ticket login");
  assert.equal(metrics.ticketLogins.ok, 1);
  assert.ok(lines.every((line) => !line.includes(ticket.slice(-20))), "the ticket is never logged");
});

Deno.test("LOGIN @ticket refuses forged, tampered and over-long tickets with ACK FAIL", async () => {
  await using server = await fleetServer([]);
  const ticket = await passwordTicket(server);
  const mac = ticket.slice(ticket.lastIndexOf(".") + 1);
  const flipped = ticket.slice(0, -mac.length) + (mac[0] === "A" ? "B" : "A") + mac.slice(1);
  const parts = ticket.split(".");
  const longer = [parts[0], parts[1], String(Number(parts[2]) + 3600), parts[3], parts[4]].join(
    ".",
  );
  for (
    const bad of [
      flipped,
      longer,
      "t1.ZmxlZXQ.1.x.y",
      "x".repeat(MAX_TICKET_CHARS + 1),
      ticket + "A",
    ]
  ) {
    assert.equal(await ticketLogin(server, bad), formatAck(false, FAIL.invalidCredentials), bad);
  }
  assert.equal(server.server.metrics.ticketLogins.failed, 5);
  // The genuine ticket still works.
  assert.equal(await ticketLogin(server, ticket), formatAck(true, OK.login));
});

Deno.test("LOGIN @ticket refuses a ticket after the account's password changed", async () => {
  await using server = await fleetServer([]);
  const ticket = await passwordTicket(server);
  assert.equal(await ticketLogin(server, ticket), formatAck(true, OK.login));
  await server.store.setPasswordHash("fleet", await hashPassword("a new password", { logN: 10 }));
  assert.equal(await ticketLogin(server, ticket), formatAck(false, FAIL.invalidCredentials));
});

Deno.test("TICKET is refused before LOGIN and after a token login", async () => {
  await using server = await fleetServer([]);
  const { token, record } = await generateToken("host-1", { createdBy: "test" });
  await server.store.security.createToken(record);
  const client = await connect(server);
  try {
    await client.send("TICKET");
    assert.equal(await client.readLine(), formatAck(false, FAIL.notLoggedIn));
    await client.send(`LOGIN @token ${token}`);
    assert.equal(await client.readLine(), formatAck(true, OK.login));
    await client.send("TICKET");
    assert.equal(await client.readLine(), formatAck(false, FAIL.noTicket));
  } finally {
    client.close();
  }
});

Deno.test("runAgent() resumes with its ticket after a server restart: no password hash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-ticket-agent-" });
  try {
    const path = join(dir, "app.log");
    await Deno.writeTextFile(path, "");
    const dataDir = join(dir, "server");
    await Deno.mkdir(dataDir);
    const first = await fleetServer([], dataDir);
    const port = first.port;
    await using agent = await runAgent({
      hostname: "127.0.0.1",
      port,
      username: "fleet",
      password: PASSWORD,
      paths: [path],
      logger: SILENT_LOGGER,
      host: { version: "0.1.0", hostname: "host-1", os: "Test OS" },
      backoffInitialMs: 20,
      backoffMaxMs: 200,
    });
    await waitFor(() => agent.state === "connected");
    assert.equal(first.server.metrics.ticketsIssued, 1);
    assert.equal(agent.stats.ticketLogins, 0);
    await first.stop();

    await using second = await fleetServer([], dataDir, port);
    await waitFor(() => agent.stats.connects >= 2, { timeoutMs: 30_000 });
    assert.equal(agent.stats.ticketLogins, 1);
    assert.equal(second.server.metrics.passwordChecks.agent, 0);
    assert.equal(second.server.metrics.ticketLogins.ok, 1);
    await Deno.writeTextFile(path, "after the restart\n", { append: true });
    await waitFor(() => agent.stats.linesStored === 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
