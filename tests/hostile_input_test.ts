import assert from "node:assert/strict";
import { clientEvents } from "./_harness/events.ts";
import { MAX_CONSECUTIVE_BAD_LINES } from "../protocol/mod.ts";
import { LineClient } from "./_harness/line_client.ts";
import { startTestServer } from "./_harness/server.ts";

const encoder = new TextEncoder();

Deno.test("server answers garbage, a 1 MiB line, NULs and invalid UTF-8 with ACK FAIL or storage while a legitimate client keeps working", async () => {
  await using srv = await startTestServer();
  await using good = await LineClient.connect(srv.port);
  await good.readLine();
  await good.send("LOGIN admin admin");
  assert.equal(await good.readLine(), "ACK OK Login successful");

  await using evil = await LineClient.connect(srv.port);
  await evil.readLine();
  await evil.send("LOGIN admin admin");
  assert.equal(await evil.readLine(), "ACK OK Login successful");
  await evil.send("HELLO there");
  assert.equal(await evil.readLine(), "ACK FAIL Unknown command");
  await evil.send("LOGIN");
  assert.equal(await evil.readLine(), "ACK FAIL Usage: LOGIN <username> <password>");
  await evil.send("LOGIN admin admin");
  assert.equal(await evil.readLine(), "ACK FAIL Already logged in");
  await evil.send("BATCH_EVENT");
  assert.equal(await evil.readLine(), "ACK FAIL Usage: BATCH_EVENT <log_message>");
  await evil.sendRaw(encoder.encode("BATCH_EVENT " + "x".repeat(1 << 20) + "\n"));
  assert.equal(await evil.readLine(), "ACK FAIL Line too long");
  await evil.sendRaw(encoder.encode("BATCH_EVENT nul\0inside\n"));
  assert.equal(await evil.readLine(), "ACK FAIL NUL byte in line");
  await evil.sendRaw(Uint8Array.of(...encoder.encode("BATCH_EVENT bad "), 0xff, 0xfe, 0xc3, 10));
  assert.equal(await evil.readLine(), "ACK OK Event received");
  await evil.sendRaw(Uint8Array.of(0x00, 0x01, 0x02, 0x80, 0xff, 10));
  assert.equal(await evil.readLine(), "ACK FAIL NUL byte in line");
  await evil.send("");
  assert.equal(await evil.readLine(), "ACK FAIL Empty line");

  await good.send("BATCH_EVENT still working");
  assert.equal(await good.readLine(), "ACK OK Event received");

  const events = await clientEvents(srv.store);
  assert.deepEqual(events.map((e) => e.raw).sort(), ["bad \uFFFD\uFFFD\uFFFD", "still working"]);
});

Deno.test("server closes a logged-in connection after 100 consecutive bad lines, answering each first", async () => {
  await using srv = await startTestServer();
  await using evil = await LineClient.connect(srv.port);
  await evil.readLine();
  await evil.send("LOGIN admin admin");
  assert.equal(await evil.readLine(), "ACK OK Login successful");
  await evil.sendRaw(encoder.encode("NOPE\n".repeat(MAX_CONSECUTIVE_BAD_LINES + 50)));
  const acks: string[] = [];
  for (let line = await evil.readLine(); line !== null; line = await evil.readLine()) {
    acks.push(line);
  }
  assert.equal(acks.length, MAX_CONSECUTIVE_BAD_LINES);
  assert.ok(acks.every((a) => a === "ACK FAIL Unknown command"));
});

Deno.test("server keeps a connection whose bad lines are interleaved with good ones", async () => {
  await using srv = await startTestServer();
  await using client = await LineClient.connect(srv.port);
  await client.readLine();
  await client.send("LOGIN admin admin");
  await client.readLine();
  let payload = "";
  for (let i = 0; i < 3 * MAX_CONSECUTIVE_BAD_LINES; i++) {
    payload += "NOPE\nBATCH_EVENT ok " + i + "\n";
  }
  await client.sendRaw(encoder.encode(payload));
  const acks = await client.readLines(6 * MAX_CONSECUTIVE_BAD_LINES);
  assert.equal(
    acks.filter((a) => a === "ACK OK Event received").length,
    3 * MAX_CONSECUTIVE_BAD_LINES,
  );
  for (let i = 0; i < acks.length; i += 2) {
    assert.equal(acks[i], "ACK FAIL Unknown command");
    assert.equal(acks[i + 1], "ACK OK Event received");
  }
});
