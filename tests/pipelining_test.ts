import assert from "node:assert/strict";
import { clientEvents } from "./_harness/events.ts";
import { LineClient } from "./_harness/line_client.ts";
import { startTestServer } from "./_harness/server.ts";

const CLIENTS = 20;
const EVENTS_PER_CLIENT = 1000;

Deno.test("server stores 20 clients x 1,000 pipelined events exactly once, each ACKed once in order", async () => {
  await using srv = await startTestServer();
  const runClient = async (c: number) => {
    await using client = await LineClient.connect(srv.port);
    await client.readLine();
    let payload = "LOGIN admin admin\n";
    for (let i = 0; i < EVENTS_PER_CLIENT; i++) {
      payload += `EVENT client${c} ${
        i + 1
      } Nov 23 19:43:33 host-${c} app[${c}]: message ${c}-${i}\n`;
    }
    // Everything at once, without waiting for a single ACK.
    await client.sendRaw(new TextEncoder().encode(payload));
    const acks = await client.readLines(EVENTS_PER_CLIENT + 1);
    assert.equal(acks[0], "ACK OK Login successful");
    assert.ok(acks.slice(1).every((a) => a === "ACK OK Event received"));
    client.close();
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => runClient(c)));
  const events = await clientEvents(srv.store);
  assert.equal(events.length, CLIENTS * EVENTS_PER_CLIENT);
  const messages = new Set(events.map((e) => e.message));
  assert.equal(messages.size, CLIENTS * EVENTS_PER_CLIENT);
  // Per client, the ids follow the order the lines were sent in.
  for (let c = 0; c < CLIENTS; c++) {
    const mine = events.filter((e) => e.host === `host-${c}`).sort((a, b) => a.id - b.id);
    assert.deepEqual(mine.map((e) => e.message), mine.map((_, i) => `message ${c}-${i}`));
  }
});
