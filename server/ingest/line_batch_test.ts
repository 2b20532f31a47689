import assert from "node:assert/strict";
import { type LineBatch, transferGroup } from "./line_batch.ts";
import { WireLinesBuilder } from "./wire_lines.ts";

/** An agent batch of the given lines. */
function agentBatch(lines: string[]): LineBatch {
  const wire = new WireLinesBuilder();
  for (const line of lines) wire.appendText(line);
  return { source: "agent", receivedAt: 1, agentId: null, defaultHost: "h", wire: wire.take() };
}

/** A batch's lines, read back from its wire the way a pool worker reads them. */
function linesOf(batch: LineBatch): string[] {
  if (batch.source !== "agent") return batch.lines;
  const text = new TextDecoder().decode(batch.wire.bytes);
  let start = 0;
  return [...batch.wire.ends].map((end) => {
    const line = text.slice(start, end);
    start = end + 1;
    return line;
  });
}

Deno.test("transferGroup moves a lone batch's own buffers", () => {
  const batch = agentBatch(["BATCH_EVENT one", "BATCH_EVENT two"]);
  const { batches, transfer } = transferGroup([batch]);
  assert.equal(batches[0], batch);
  assert.equal(transfer.length, 2);
  if (batch.source !== "agent") throw new Error("agent batch expected");
  assert.equal(transfer[0], batch.wire.bytes.buffer);
});

Deno.test("transferGroup shares two buffers among many batches, each a view of its own lines", () => {
  const syslog: LineBatch = {
    source: "syslog",
    receivedAt: 1,
    lines: ["<14>syslog line"],
    origin: { transport: "udp", addresses: ["10.0.0.1"], senders: null, truncated: [] },
  };
  const given = [
    agentBatch(["BATCH_EVENT a1"]),
    syslog,
    agentBatch(["EVENT s 1 b1", "BATCH_EVENT b2 is longer"]),
    agentBatch(["BATCH_EVENT c1"]),
  ];
  const expected = given.map(linesOf);
  const { batches, transfer } = transferGroup(given);
  assert.equal(transfer.length, 2);
  assert.deepEqual(batches.map(linesOf), expected);
  assert.equal(batches[1], syslog);
  for (const batch of batches) {
    if (batch.source !== "agent") continue;
    assert.equal(batch.wire.bytes.buffer, transfer[0]);
    assert.equal(batch.wire.ends.buffer, transfer[1]);
  }
  // They survive the crossing as views of one buffer each.
  const { port1, port2 } = new MessageChannel();
  const crossed = new Promise<LineBatch[]>((resolve) => {
    port2.onmessage = (event) => resolve(event.data);
  });
  port1.postMessage(batches, transfer);
  return crossed.then((received) => {
    assert.deepEqual(received.map(linesOf), expected);
    port1.close();
    port2.close();
  });
});
