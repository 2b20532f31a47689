import assert from "node:assert/strict";
import { AckQueue } from "./ack_queue.ts";

const decoder = new TextDecoder();

/** A fake socket: records every write as text, optionally holding writes until released. */
function recordingSocket() {
  const writes: string[] = [];
  let gate: PromiseWithResolvers<void> | null = null;
  return {
    writes,
    get text() {
      return writes.join("");
    },
    /** Makes the following writes wait until {@linkcode release} is called. */
    hold() {
      gate = Promise.withResolvers<void>();
    },
    release() {
      const g = gate;
      gate = null;
      g?.resolve();
    },
    write: async (bytes: Uint8Array) => {
      writes.push(decoder.decode(bytes));
      if (gate) await gate.promise;
    },
  };
}

Deno.test("AckQueue writes slots in reservation order when they are filled out of order", async () => {
  const socket = recordingSocket();
  const acks = new AckQueue(socket.write);
  const a = acks.reserve();
  const b = acks.reserve();
  const c = acks.reserve();
  acks.fill(c, "C\n");
  acks.fill(b, "B\n");
  assert.equal(socket.text, "");
  assert.equal(acks.backlog, 3);
  acks.fill(a, "A\n");
  await acks.drained();
  assert.equal(socket.text, "A\nB\nC\n");
  assert.equal(acks.backlog, 0);
});

Deno.test("AckQueue writes the ready prefix and waits at the first unfilled slot", async () => {
  const socket = recordingSocket();
  const acks = new AckQueue(socket.write);
  const a = acks.reserve();
  const b = acks.reserve();
  const c = acks.reserve();
  acks.fill(a, "A\n");
  acks.fill(c, "C\n");
  await acks.waitBelow(3);
  assert.equal(socket.text, "A\n");
  assert.equal(acks.backlog, 2);
  acks.fill(b, "B\n");
  await acks.drained();
  assert.equal(socket.text, "A\nB\nC\n");
});

Deno.test("AckQueue.pushText() waits behind earlier unfilled slots", async () => {
  const socket = recordingSocket();
  const acks = new AckQueue(socket.write);
  const slot = acks.reserve();
  acks.pushText("ACK FAIL Unknown command\n");
  assert.equal(socket.text, "");
  acks.fill(slot, "ACK OK Event received\n");
  await acks.drained();
  assert.equal(socket.text, "ACK OK Event received\nACK FAIL Unknown command\n");
});

Deno.test("AckQueue.pushText() merges consecutive ready texts into one slot", async () => {
  const socket = recordingSocket();
  const acks = new AckQueue(socket.write);
  const slot = acks.reserve();
  acks.pushText("one\n");
  acks.pushText("two\n");
  acks.pushText("three\n");
  assert.equal(acks.backlog, 2, "the three texts share one slot behind the reserved one");
  acks.fill(slot, "first\n");
  await acks.drained();
  assert.equal(socket.text, "first\none\ntwo\nthree\n");
});

Deno.test("AckQueue.pushText() does not merge into a slot that is being written", async () => {
  const socket = recordingSocket();
  const acks = new AckQueue(socket.write);
  socket.hold();
  acks.pushText("one\n"); // written at once, the write is now held
  acks.pushText("two\n");
  acks.pushText("three\n");
  assert.deepEqual(socket.writes, ["one\n"]);
  socket.release();
  await acks.drained();
  assert.deepEqual(socket.writes, ["one\n", "two\nthree\n"]);
});

Deno.test("AckQueue writes text pushed while a write is in progress after it", async () => {
  const socket = recordingSocket();
  const acks = new AckQueue(socket.write);
  socket.hold();
  const a = acks.reserve();
  acks.fill(a, "A\n");
  const b = acks.reserve();
  acks.fill(b, "B\n");
  acks.pushText("C\n");
  socket.release();
  await acks.drained();
  assert.equal(socket.text, "A\nB\nC\n");
});

Deno.test("AckQueue.waitBelow() resolves once the backlog drops under the count", async () => {
  const socket = recordingSocket();
  const acks = new AckQueue(socket.write);
  const slots = [acks.reserve(), acks.reserve(), acks.reserve(), acks.reserve()];
  let below3 = false;
  let below1 = false;
  const w3 = acks.waitBelow(3).then(() => below3 = true);
  const w1 = acks.waitBelow(1).then(() => below1 = true);
  await Promise.resolve();
  assert.equal(below3, false);
  acks.fill(slots[0]!, "0\n");
  acks.fill(slots[1]!, "1\n");
  await w3;
  assert.equal(below3, true);
  assert.equal(below1, false);
  acks.fill(slots[2]!, "2\n");
  acks.fill(slots[3]!, "3\n");
  await w1;
  assert.equal(below1, true);
  assert.equal(socket.text, "0\n1\n2\n3\n");
});

Deno.test("AckQueue.waitBelow() and drained() resolve at once when nothing is pending", async () => {
  const acks = new AckQueue(recordingSocket().write);
  await acks.drained();
  await acks.waitBelow(1);
  acks.reserve();
  await acks.waitBelow(2);
});

Deno.test("AckQueue splits a very long run of ready slots into several writes", async () => {
  const socket = recordingSocket();
  const acks = new AckQueue(socket.write);
  const first = acks.reserve();
  const line = "ACK OK Event received\n";
  for (let i = 0; i < 30_000; i++) acks.fill(acks.reserve(), line);
  acks.fill(first, line);
  await acks.drained();
  assert.equal(socket.text, line.repeat(30_001));
  assert.ok(socket.writes.length > 1, "a 660 kB run is not written at once");
  // A write stops growing once it reaches 256 KiB of text, so it overshoots by at most one slot.
  for (const write of socket.writes) assert.ok(write.length < 256 * 1024 + line.length);
});

Deno.test("AckQueue stops writing after a failed write and releases its waiters", async () => {
  let calls = 0;
  const acks = new AckQueue(() => {
    calls++;
    return Promise.reject(new Error("Broken pipe"));
  });
  const a = acks.reserve();
  const b = acks.reserve();
  const waiting = acks.drained();
  acks.fill(a, "A\n");
  await waiting;
  assert.equal(acks.broken, true);
  assert.equal(acks.backlog, 0);
  acks.fill(b, "B\n");
  acks.pushText("C\n");
  await acks.drained();
  await acks.waitBelow(1);
  assert.equal(calls, 1, "nothing is written after the failure");
});

Deno.test("AckQueue holds no slot once every one is written, however many a connection answered", async () => {
  const socket = recordingSocket();
  const acks = new AckQueue(socket.write);
  for (let i = 0; i < 100; i++) {
    const slot = acks.reserve();
    acks.fill(slot, "ACK OK\n");
    await acks.drained();
  }
  assert.equal(socket.writes.length, 100);
  assert.equal(acks.heldSlots, 0);
  // A slot still waiting keeps its place, and those behind it theirs.
  const waiting = acks.reserve();
  acks.pushText("later\n");
  assert.equal(acks.heldSlots, 2);
  acks.fill(waiting, "now\n");
  await acks.drained();
  assert.equal(socket.text.endsWith("now\nlater\n"), true);
  assert.equal(acks.heldSlots, 0);
});
