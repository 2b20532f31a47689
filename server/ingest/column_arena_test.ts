import assert from "node:assert/strict";
import { ColumnArena } from "./column_arena.ts";
import { packGroup, unpackGroup } from "./packed_batch.ts";
import { parseLines } from "./parse_lines.ts";
import { WireLinesBuilder } from "./wire_lines.ts";

const encoder = new TextEncoder();

function agentBatch(agentId: number, lines: string[]) {
  const wire = new WireLinesBuilder();
  for (const line of lines) wire.append(encoder.encode(line));
  return {
    source: "agent" as const,
    receivedAt: 1_700_000_000_000,
    agentId,
    defaultHost: `h${agentId}`,
    wire: wire.take(),
  };
}

Deno.test("an arena hands out the next rows of one buffer per column, then arrays of their own", () => {
  const arena = new ColumnArena(3);
  const first = arena.take(2);
  const second = arena.take(1);
  assert.equal(second.ts.buffer, first.ts.buffer);
  assert.equal(second.ts.byteOffset, first.ts.byteOffset + first.ts.byteLength);
  assert.deepEqual([...first.position, ...second.position], [-1, -1, -1]);
  assert.deepEqual([...second.flags], [0]);
  const beyond = arena.take(2);
  assert.notEqual(beyond.ts.buffer, first.ts.buffer);
  assert.equal(beyond.ts.length, 2);
  assert.deepEqual([...beyond.position], [-1, -1]);
});

Deno.test("batches parsed from one arena are packed together without copying their columns", () => {
  const arena = new ColumnArena(4);
  const batches = [
    agentBatch(1, [
      "EVENT s1 10 <13>1 2024-11-23T19:43:33Z web-1 app 1 - - one",
      "BATCH_EVENT two",
    ]),
    agentBatch(2, ["HEARTBEAT 5", "BATCH_EVENT three"]),
  ].map((batch) => parseLines(batch, arena).events);
  const arenaBuffer = batches[0]!.ts.buffer;
  const { group, transfer } = packGroup(batches);
  assert.equal(group.packed.rest.ts.buffer, arenaBuffer);
  assert.equal(group.packed.rest.ts.length, 3);
  // Each buffer is transferred once, though columns share it.
  assert.equal(new Set(transfer).size, transfer.length);
  const [one, two] = unpackGroup(structuredClone(group, { transfer }));
  assert.deepEqual(one!.message, ["one", "two"]);
  assert.deepEqual([...one!.position], [10, -1]);
  assert.equal(one!.agentId, 1);
  assert.deepEqual(two!.message, ["three"]);
  assert.deepEqual(two!.host, ["h2"]);
  assert.deepEqual([...two!.position], [-1]);
  assert.equal(two!.agentId, 2);
});
