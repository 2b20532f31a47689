/**
 * Idle agent connections hold no shared buffer: a connection reads into a
 * small buffer of its own while it waits, and takes a large read buffer or
 * batch buffer only while data is arriving (docs/SCALING.md).
 *
 * @module
 */

import assert from "node:assert/strict";
import { connectionBufferStats } from "../server/agent_port/mod.ts";
import { generateToken } from "../server/auth/mod.ts";
import { LineClient } from "./_harness/line_client.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

/** Connections opened by the test; enough that per-connection buffers would show. */
const AGENTS = 40;

Deno.test("Connection holds no shared read or batch buffer while a logged-in agent is idle", async () => {
  await using server = await startTestServer({
    limits: { maxConnections: 0, maxConnectionsPerIp: 0 },
  });
  const { token, record } = await generateToken("fleet", { createdBy: "test" });
  await server.store.security.createToken(record);
  const clients: LineClient[] = [];
  try {
    for (let i = 0; i < AGENTS; i++) {
      const client = await LineClient.connect(server.port);
      clients.push(client);
      await client.readLine(); // welcome
      // A burst larger than the idle buffer, so the shared buffers are used.
      const events = Array.from(
        { length: 20 },
        (_, n) =>
          `BATCH_EVENT host-${i} 2024-11-23T19:43:33Z app[1]: event ${n} ${"x".repeat(200)}`,
      );
      await client.send(
        [`LOGIN @token ${token}`, `REGISTER 1.0 host-${i} Linux`, ...events].join("\n"),
      );
      for (let n = 0; n < 2 + events.length; n++) {
        assert.match((await client.readLine())!, /^ACK OK/);
      }
    }
    // Every agent is now idle, waiting in read().
    await waitFor(() => connectionBufferStats().readTaken === 0);
    const stats = connectionBufferStats();
    assert.equal(stats.readTaken, 0);
    assert.equal(stats.batchTaken, 0);
  } finally {
    for (const client of clients) client.close();
  }
});
