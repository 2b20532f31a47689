/**
 * A fleet that vanishes at once: hundreds of real loopback connections log in
 * with one token and register, then every socket is dropped together. Each
 * node must be shown Disconnected, with the time its connection was lost
 * recorded, and the console's paged API must count and filter them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatAck, OK } from "../protocol/mod.ts";
import { generateToken } from "../server/auth/tokens.ts";
import { statusCutoffs } from "../server/liveness/agent_status.ts";
import { LineClient } from "./_harness/line_client.ts";
import { signIn } from "./_harness/console.ts";
import { startSecureServer } from "./_harness/secure_server.ts";
import { waitFor } from "./_harness/wait_for.ts";

/** Nodes of the fleet: enough that one write per change would show, bounded for a test. */
const NODES = 400;
/** Connections opened at once while the fleet logs in (below the pre-login budget). */
const CONNECT_BATCH = 50;
const HEARTBEAT_SECONDS = 30;

Deno.test("a fleet of loopback agents that vanishes at once is shown Disconnected, node by node", async () => {
  await using srv = await startSecureServer({
    limits: { maxConnectionsPerIp: 0 },
    httpPort: 0,
    httpHostname: "127.0.0.1",
    heartbeatSeconds: HEARTBEAT_SECONDS,
  });
  const { token, record } = await generateToken("fleet", { createdBy: "test" });
  await srv.server.store.security.createToken(record);
  const clients: LineClient[] = [];
  try {
    for (let start = 0; start < NODES; start += CONNECT_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(CONNECT_BATCH, NODES - start) }, async (_, i) => {
          const client = await LineClient.connect(srv.port);
          clients.push(client);
          await client.readLine(); // welcome
          await client.send(`LOGIN @token ${token}`);
          await client.send(`REGISTER 1.0 fleet-${String(start + i).padStart(4, "0")} Linux`);
          await client.send("HEARTBEAT 10 lag=0");
          return [await client.readLine(), await client.readLine(), await client.readLine()];
        }),
      );
      for (const answers of batch) {
        assert.equal(answers[1], formatAck(true, OK.register), answers.join(" | "));
        assert.equal(answers[2], formatAck(true, OK.heartbeat));
      }
    }
    const store = srv.server.store;
    const counts = async () =>
      (await store.queryAgents({ cutoffs: statusCutoffs(Date.now(), HEARTBEAT_SECONDS) })).counts;
    assert.equal((await counts()).alive, NODES);

    const dropped = Date.now();
    for (const client of clients.splice(0)) client.close();
    // The bound of docs/SCALING.md is well under a second; the margin is for a loaded machine.
    await waitFor(async () => (await counts()).disconnected === NODES, { timeoutMs: 20_000 });
    const after = Date.now();
    assert.deepEqual(await counts(), {
      alive: 0,
      late: 0,
      disconnected: NODES,
      stopped: 0,
      never_seen: 0,
    });
    // Each node's loss is recorded with when it happened; its last heartbeat is kept.
    const cutoffs = statusCutoffs(Date.now(), HEARTBEAT_SECONDS);
    for (let offset = 0; offset < NODES; offset += 200) {
      const page = await store.queryAgents({ cutoffs, offset, limit: 200 });
      for (const node of page.agents) {
        assert.equal(node.status, "disconnected", node.hostname);
        assert.ok(node.disconnectedAt! >= dropped && node.disconnectedAt! <= after, node.hostname);
        assert.ok(node.lastHeartbeat! <= dropped, node.hostname);
      }
    }

    // The console pages and counts the fleet.
    const api = await signIn(`http://127.0.0.1:${srv.server.httpAddr!.port}`, "admin", "admin");
    const response = await api.fetch(
      "/api/agents?status=disconnected&limit=50&offset=350&order=desc",
    );
    const body = await response.json();
    assert.equal(body.total, NODES);
    assert.equal(body.agents.length, 50);
    assert.equal(body.agents[0].hostname, "fleet-0049");
    assert.equal(body.agents[0].connected, false);
    assert.equal(body.counts.disconnected, NODES);
  } finally {
    for (const client of clients) client.close();
  }
});
