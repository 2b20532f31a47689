import assert from "node:assert/strict";
import { packBatch, packGroup, unpackBatch, unpackGroup } from "./packed_batch.ts";
import type { EventBatch } from "../store/store.ts";

function batchOf(
  rows: {
    raw: string;
    message: string;
    host: string | null;
    program: string | null;
    stream: string | null;
  }[],
): EventBatch {
  const count = rows.length;
  return {
    count,
    receivedAt: 1_700_000_000_000,
    agentId: 3,
    ts: Float64Array.from(rows, (_, i) => 1_700_000_000_000 + i),
    host: rows.map((r) => r.host),
    program: rows.map((r) => r.program),
    pid: Int32Array.from(rows, (_, i) => i),
    severity: Int8Array.from(rows, () => 6),
    facility: Int8Array.from(rows, () => -1),
    message: rows.map((r) => r.message),
    raw: rows.map((r) => r.raw),
    flags: new Uint8Array(count),
    stream: rows.map((r) => r.stream),
    position: Float64Array.from(rows, (_, i) => i + 1),
    msgid: rows.map((_, i) => i === 1 ? "ID47" : null),
  };
}

Deno.test("a batch packed for the writer unpacks to the same rows", () => {
  const rows = [
    {
      raw: "Nov 23 10:00:00 web-1 sshd[1]: one",
      message: "one",
      host: "web-1",
      program: "sshd",
      stream: "s1",
    },
    {
      raw: "Nov 23 10:00:01 web-1 cron[2]: two",
      message: "two",
      host: "web-1",
      program: "cron",
      stream: "s1",
    },
    // A message that is not the end of its raw line travels on its own.
    {
      raw: "<13>1 2026-11-23T10:00:02Z h app - - - three\u00a0",
      message: "three",
      host: null,
      program: "app",
      stream: null,
    },
    {
      raw: "Nov 23 10:00:03 web-2 sshd[3]: four",
      message: "four",
      host: "web-2",
      program: "sshd",
      stream: "s2",
    },
    { raw: "", message: "", host: "web-1", program: null, stream: "s1" },
  ];
  const original = batchOf(rows);
  const copy = structuredClone(original);
  const { packed, transfer } = packBatch(original);
  const received = structuredClone(packed, { transfer });
  const { messageStart, ...batch } = unpackBatch(received);
  assert.deepEqual(batch, { ...copy });
  // The writer learns where each message starts instead of comparing strings.
  assert.deepEqual([...messageStart!], [31, 31, -1, 31, 0]);
  // Repeated values are dictionary-coded: two hosts and a null, not five strings.
  assert.deepEqual(received.host.values, ["web-1", null, "web-2"]);
  assert.deepEqual(received.otherMessages, ["three"]);
});

Deno.test("packing transfers the batch's columns instead of copying them", () => {
  const original = batchOf([
    { raw: "a b", message: "b", host: "h", program: "p", stream: "s" },
  ]);
  const { packed, transfer } = packBatch(original);
  structuredClone(packed, { transfer });
  assert.equal(original.ts.byteLength, 0, "ts was transferred");
  assert.equal(original.position.byteLength, 0, "position was transferred");
});

Deno.test("a batch whose message offsets are known packs them as they are, without comparing strings", () => {
  const original = {
    ...batchOf([
      {
        raw: "Nov 23 10:00:00 web-1 sshd[1]: one",
        message: "one",
        host: "h",
        program: "p",
        stream: null,
      },
      { raw: "gap line", message: "not a suffix", host: "h", program: "p", stream: null },
    ]),
    messageStart: Int32Array.from([31, -1]),
  };
  const { packed, transfer } = packBatch(original);
  const batch = unpackBatch(structuredClone(packed, { transfer }));
  assert.deepEqual(batch.message, ["one", "not a suffix"]);
  assert.deepEqual([...batch.messageStart!], [31, -1]);
});

Deno.test("batches packed together cross as one and each unpacks to its own rows", () => {
  const row = (n: number, host: string) => ({
    raw: `Nov 23 10:00:0${n} ${host} app[${n}]: line ${n}`,
    message: `line ${n}`,
    host,
    program: "app",
    stream: n % 2 ? `s${n}` : null,
  });
  // The first batch has no msgid column: the others' do not give it one.
  const { msgid: _, ...withoutMsgid } = batchOf([row(1, "a"), row(2, "a")]);
  const originals = [
    withoutMsgid,
    { ...batchOf([row(3, "b")]), agentId: 7, receivedAt: 1_700_000_000_123, msgid: ["ID3"] },
    batchOf([row(4, "c"), row(5, "a"), row(6, "c")]),
  ];
  const copies = originals.map((batch) => structuredClone(batch));
  const { group, transfer } = packGroup(originals);
  // Ten columns, one buffer each, and one dictionary per repeated column,
  // whatever the number of batches.
  assert.equal(transfer.length, 10);
  assert.deepEqual(group.packed.host.values, ["a", "b", "c"]);
  const received = unpackGroup(structuredClone(group, { transfer }));
  assert.equal(received.length, 3);
  received.forEach((one, i) => {
    const { messageStart: _, ...batch } = one;
    assert.deepEqual(batch, { ...copies[i]! }, `batch ${i}`);
    assert.equal("msgid" in batch, i > 0);
  });
  assert.equal(received[0]!.ts.buffer, received[2]!.ts.buffer);
});

Deno.test("a lone batch crosses as itself, its optional columns with it", () => {
  const original = {
    ...batchOf([{
      raw: "<13>1 - h app - ID1 - hello",
      message: "hello",
      host: "h",
      program: "app",
      stream: null,
    }]),
    msgid: ["ID1"],
    sources: [{
      address: "127.0.0.1",
      transport: "udp" as const,
      hostname: "h",
      events: 1,
      unparsed: 0,
      at: 5,
    }],
  };
  const copy = structuredClone(original);
  const { group, transfer } = packGroup([original]);
  const [one, ...more] = unpackGroup(structuredClone(group, { transfer }));
  assert.equal(more.length, 0);
  const { messageStart: _, ...batch } = one!;
  assert.deepEqual(batch, copy);
});
