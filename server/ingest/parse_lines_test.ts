import assert from "node:assert/strict";
import { FAIL, GAP_EVENT_PREFIX } from "../../protocol/mod.ts";
import { EVENT_FLAGS } from "../store/mod.ts";
import { failureStatus } from "./line_status.ts";
import { parseLines } from "./parse_lines.ts";
import { WireLinesBuilder } from "./wire_lines.ts";

const encoder = new TextEncoder();
const RECEIVED_AT = Date.UTC(2024, 10, 23, 19, 43, 40);

function agentBatch(lines: string[]) {
  const wire = new WireLinesBuilder();
  for (const line of lines) wire.append(encoder.encode(line));
  return {
    source: "agent" as const,
    receivedAt: RECEIVED_AT,
    agentId: 7,
    defaultHost: "web-01",
    wire: wire.take(),
  };
}

Deno.test("parseLines() parses an agent's valid lines and reports the others as rejected", () => {
  const { events, rejected } = parseLines(agentBatch([
    "EVENT s1 120 Nov 23 19:43:33 db-02 sshd[812]: Accepted publickey for deploy",
    "EVENT s1 not-a-position hello",
    "BATCH_EVENT plain text without a header",
    "HEARTBEAT 10",
  ]));
  assert.equal(events.count, 2);
  assert.equal(events.agentId, 7);
  assert.deepEqual(events.host, ["db-02", "web-01"]);
  assert.deepEqual(events.program, ["sshd", null]);
  assert.deepEqual(events.message, [
    "Accepted publickey for deploy",
    "plain text without a header",
  ]);
  assert.deepEqual(events.stream, ["s1", null]);
  assert.deepEqual([...events.position], [120, -1]);
  assert.equal(events.flags[1], EVENT_FLAGS.unparsed);
  assert.deepEqual(
    [...rejected!],
    [0, failureStatus(FAIL.usageEvent), 0, failureStatus(FAIL.unknownCommand)],
  );
});

Deno.test("parseLines() rejects nothing in a batch of valid agent lines", () => {
  const { events, rejected } = parseLines(agentBatch([
    "EVENT s1 10 first",
    `EVENT s1.gap 20 ${GAP_EVENT_PREFIX}120 bytes of /var/log/app.log were lost`,
  ]));
  assert.equal(rejected, null);
  assert.equal(events.count, 2);
  assert.equal(events.flags[1], EVENT_FLAGS.gap);
});

Deno.test("parseLines() takes a syslog line's host from its sender and tallies the senders", () => {
  const { events, rejected } = parseLines({
    source: "syslog",
    receivedAt: RECEIVED_AT,
    lines: ["<13>Nov 23 19:43:33 sw1 link: port 3 up", "no header at all", "<13>cut sho"],
    origin: {
      transport: "udp",
      addresses: ["10.0.0.1", "10.0.0.2"],
      senders: Uint16Array.of(0, 1, 1),
      truncated: [2],
    },
  });
  assert.equal(rejected, null);
  assert.equal(events.agentId, null);
  assert.deepEqual(events.host, ["sw1", "10.0.0.2", "10.0.0.2"]);
  assert.equal(events.flags[2]! & EVENT_FLAGS.truncated, EVENT_FLAGS.truncated);
  assert.deepEqual(events.sources, [
    {
      address: "10.0.0.1",
      transport: "udp",
      hostname: "sw1",
      events: 1,
      unparsed: 0,
      at: RECEIVED_AT,
    },
    {
      address: "10.0.0.2",
      transport: "udp",
      hostname: null,
      events: 2,
      unparsed: 1,
      at: RECEIVED_AT,
    },
  ]);
});
