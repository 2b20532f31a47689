import assert from "node:assert/strict";
import { BATCH_BUFFERS, SMALL_BATCH_BUFFERS, WireLinesBuilder } from "./wire_lines.ts";

const line = (text: string) => new TextEncoder().encode(text);

Deno.test("WireLinesBuilder holds no buffer until a line arrives and none after release()", () => {
  const wire = new WireLinesBuilder();
  assert.equal(wire.heldBytes, 0);
  const taken = SMALL_BATCH_BUFFERS.taken;
  wire.append(line("EVENT s1 10 hello"));
  wire.appendText("EVENT s1 20 world");
  assert.ok(wire.heldBytes > 0);
  assert.equal(SMALL_BATCH_BUFFERS.taken, taken + 1);
  const batch = wire.take();
  assert.equal(new TextDecoder().decode(batch.bytes), "EVENT s1 10 hello\nEVENT s1 20 world\n");
  assert.deepEqual([...batch.ends], [17, 35]);
  // The next batch of a busy connection reuses the buffer.
  wire.append(line("EVENT s1 30 again"));
  wire.release();
  assert.ok(wire.heldBytes > 0, "a buffer with a line in it is kept");
  wire.take();
  wire.release();
  assert.equal(wire.heldBytes, 0);
  assert.equal(SMALL_BATCH_BUFFERS.taken, taken);
});

Deno.test("WireLinesBuilder starts a batch in a small buffer and moves to a large one as it grows", () => {
  const wire = new WireLinesBuilder();
  const small = SMALL_BATCH_BUFFERS.taken;
  const large = BATCH_BUFFERS.taken;
  wire.append(line("EVENT s1 10 hello"));
  assert.equal(wire.heldBytes, SMALL_BATCH_BUFFERS.bytes);
  const long = new Uint8Array(SMALL_BATCH_BUFFERS.bytes).fill(0x61);
  wire.append(long);
  assert.equal(wire.heldBytes, BATCH_BUFFERS.bytes);
  assert.equal(SMALL_BATCH_BUFFERS.taken, small, "the small buffer went back when outgrown");
  assert.equal(BATCH_BUFFERS.taken, large + 1);
  const batch = wire.take();
  assert.deepEqual([...batch.ends], [17, 18 + long.length]);
  assert.equal(new TextDecoder().decode(batch.bytes.subarray(0, 18)), "EVENT s1 10 hello\n");
  wire.release();
  assert.equal(BATCH_BUFFERS.taken, large);
});

Deno.test("WireLinesBuilder grows past the shared buffer and gives it back once", () => {
  const wire = new WireLinesBuilder();
  const taken = BATCH_BUFFERS.taken;
  const big = new Uint8Array(BATCH_BUFFERS.bytes / 2).fill(0x61);
  for (let i = 0; i < 5; i++) wire.append(big);
  assert.equal(BATCH_BUFFERS.taken, taken);
  const batch = wire.take();
  assert.equal(batch.bytes.length, 5 * (big.length + 1));
  wire.release();
  assert.equal(wire.heldBytes, 0);
  assert.equal(BATCH_BUFFERS.taken, taken);
});
