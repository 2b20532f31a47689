import assert from "node:assert/strict";
import { LineClient } from "./_harness/line_client.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

Deno.test("queryEvents({ text }) finds events before and after the full-text index catches up", async () => {
  await using srv = await startTestServer();
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  await client.readLine();
  const lines = [
    "Nov 23 19:43:33 web-01 sshd[812]: Failed password for invalid user oracle from 203.0.113.7 port 52144 ssh2",
    "Nov 23 19:43:34 web-01 sshd[812]: Accepted publickey for deploy from 198.51.100.4 port 50022 ssh2",
    "Nov 23 19:43:35 web-02 CRON[99]: (root) CMD (run-parts /etc/cron.hourly)",
  ];
  let payload = "";
  for (const line of lines) payload += `BATCH_EVENT ${line}\n`;
  await client.sendRaw(new TextEncoder().encode(payload));
  await client.readLines(lines.length);
  const FAILED_MSG = "Failed password for invalid user oracle from 203.0.113.7 port 52144 ssh2";
  const ACCEPTED_MSG = "Accepted publickey for deploy from 198.51.100.4 port 50022 ssh2";
  const CRON_MSG = "(root) CMD (run-parts /etc/cron.hourly)";
  // Whether or not the indexer has run yet, the answers are the same.
  const search = async (text: string) =>
    (await srv.store.queryEvents({ text })).map((e) => e.message).sort();
  assert.deepEqual(await search("oracle"), [FAILED_MSG]);
  assert.deepEqual(await search("FAILED 203.0.113.7"), [FAILED_MSG]);
  assert.deepEqual(await search("publickey deploy"), [ACCEPTED_MSG]);
  await waitFor(async () => (await srv.store.indexText?.(100)) === 0, {
    message: "index complete",
  });
  assert.deepEqual(await search("oracle"), [FAILED_MSG]);
  assert.deepEqual(await search("fail"), [FAILED_MSG], "a word prefix matches");
  assert.deepEqual(await search("203.0.113.7"), [FAILED_MSG]);
  assert.deepEqual(await search("cron.hourly"), [CRON_MSG]);
  assert.deepEqual(await search("nomatch"), []);
  // FTS5 syntax in user input is never interpreted.
  assert.deepEqual(await search('"oracle" OR NEAR(x y) *'), []);
  assert.deepEqual(await search("sshd oracle"), [FAILED_MSG], "the program is searchable");
});
