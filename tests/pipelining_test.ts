import assert from "node:assert/strict";
import { FAIL, OK } from "../protocol/mod.ts";
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

Deno.test("malformed event lines among good ones in one read are answered ACK FAIL in their place, and the good ones stored", async () => {
  await using srv = await startTestServer();
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  assert.equal(await client.readLine(), `ACK OK ${OK.login}`);
  // One write: the lines reach the server in one read and travel as one batch.
  const lines = [
    "EVENT s1 10 first good line",
    "EVENT s1 not-a-number bad position",
    "EVENT s1 20 second good line",
    "EVENT s1 10 first good line",
    `EVENT ${"s".repeat(65)} 30 stream id too long`,
    "BATCH_EVENT a plain line",
  ];
  await client.sendRaw(new TextEncoder().encode(lines.map((line) => line + "\n").join("")));
  assert.deepEqual(await client.readLines(lines.length), [
    `ACK OK ${OK.event}`,
    `ACK FAIL ${FAIL.usageEvent}`,
    `ACK OK ${OK.event}`,
    `ACK OK ${OK.duplicate}`,
    `ACK FAIL ${FAIL.usageEvent}`,
    `ACK OK ${OK.event}`,
  ]);
  const messages = (await clientEvents(srv.store)).map((e) => e.message).sort();
  assert.deepEqual(messages, ["a plain line", "first good line", "second good line"]);
});
