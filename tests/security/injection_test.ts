/**
 * SQL and full-text injection payloads in hostnames, messages and
 * search terms are stored and matched as plain text: every statement is
 * parameterized, full-text keywords are quoted before they reach FTS5, and
 * literal searches use no LIKE wildcards.
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatAck, OK } from "../../protocol/mod.ts";
import { clientEvents } from "../_harness/events.ts";
import { LineClient } from "../_harness/line_client.ts";
import { startSecureServer } from "../_harness/secure_server.ts";

const PAYLOADS = [
  "x' OR '1'='1",
  "'; DROP TABLE logs; --",
  '"; DELETE FROM users; --',
  "100% match_all",
  "NEAR(a b) OR c* AND NOT d",
  "text:secret ^start",
  "back\\slash",
  "<img src=x onerror=alert(1)>",
];

Deno.test("hostnames and messages with SQL payloads are stored verbatim and harm no table", async () => {
  await using srv = await startSecureServer();
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  assert.equal(await client.readLine(), formatAck(true, OK.login));
  await client.send("REGISTER 1.0 evil';DROP-TABLE-agents;-- Linux'); DELETE FROM users; --");
  assert.equal(await client.readLine(), formatAck(true, OK.register));
  for (const payload of PAYLOADS) {
    await client.send(`BATCH_EVENT ${payload}`);
    assert.equal(await client.readLine(), formatAck(true, OK.event));
  }
  const store = srv.server.store;
  const stored = await clientEvents(store);
  assert.deepEqual(stored.map((e) => e.raw), PAYLOADS);
  const agents = await store.listAgents();
  assert.equal(agents[0]!.hostname, "evil';DROP-TABLE-agents;--");
  assert.equal(agents[0]!.os, "Linux'); DELETE FROM users; --");
  assert.equal(await store.countUsers(), 1);
});

Deno.test("queryEvents() matches search payloads literally in full-text, substring, host and program filters", async () => {
  await using srv = await startSecureServer();
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  await client.readLine();
  const lines = [...PAYLOADS, "plain line without specials", "another 100 percent line"];
  for (const line of lines) {
    await client.send(`BATCH_EVENT ${line}`);
    assert.equal(await client.readLine(), formatAck(true, OK.event));
  }
  const store = srv.server.store;
  // Half the searches run on the full-text index, half on the unindexed tail.
  await store.indexText?.(4);
  const raws = async (query: Parameters<typeof store.queryEvents>[0]) =>
    (await store.queryEvents({ ...query, limit: 100 }))
      .filter((e) => e.program !== "nms-server")
      .map((e) => e.raw)
      .sort();

  for (const payload of PAYLOADS) {
    // A literal substring finds exactly the lines containing it.
    assert.deepEqual(
      await raws({ contains: payload }),
      lines.filter((l) => l.includes(payload)).sort(),
      `contains ${payload}`,
    );
    // Keywords never fail and never match everything.
    const found = await raws({ text: payload });
    assert.ok(found.length < lines.length, `text ${payload} matched ${found.length}`);
    assert.ok(found.every((raw) => lines.includes(raw)));
  }
  assert.deepEqual(await raws({ contains: "%" }), ["100% match_all"]);
  assert.deepEqual(await raws({ contains: "_" }), ["100% match_all"]);
  assert.deepEqual(await raws({ text: "*" }), ["NEAR(a b) OR c* AND NOT d"], "* is no wildcard");
  assert.deepEqual(await raws({ host: "' OR '1'='1" }), []);
  assert.deepEqual(await raws({ program: "x' OR 1=1 --" }), []);
  assert.equal(await store.countEvents({ contains: "' OR '1'='1" }), 1);
});
