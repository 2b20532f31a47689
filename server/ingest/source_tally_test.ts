import assert from "node:assert/strict";
import { SourceTally } from "./source_tally.ts";

Deno.test("SourceTally counts events per sender and keeps the last reported hostname", () => {
  const origin = {
    transport: "udp" as const,
    addresses: ["10.0.0.1", "10.0.0.2"],
    senders: Uint16Array.of(0, 1, 0),
    truncated: [],
  };
  const tally = new SourceTally(origin, 2000);
  tally.add(0, "sw1", false);
  tally.add(1, null, true);
  tally.add(2, null, false);
  assert.equal(tally.senderOf(1), "10.0.0.2");
  assert.deepEqual(tally.updates(), [
    { address: "10.0.0.1", transport: "udp", hostname: "sw1", events: 2, unparsed: 0, at: 2000 },
    { address: "10.0.0.2", transport: "udp", hostname: null, events: 1, unparsed: 1, at: 2000 },
  ]);
});
