import assert from "node:assert/strict";
import { SyslogBatch, trimMessageEnd } from "./syslog_batch.ts";
import { SourceTally } from "./source_tally.ts";
import { WarnThrottle } from "./_warn_throttle.ts";
import { silentLogger } from "../log.ts";

Deno.test("trimMessageEnd() removes trailing LF, CR and NUL only", () => {
  assert.equal(trimMessageEnd("<13>a\r\n\0\0"), "<13>a");
  assert.equal(trimMessageEnd("<13>a \t"), "<13>a \t");
  assert.equal(trimMessageEnd("\n\0"), "");
  assert.equal(trimMessageEnd("<13>a\nb"), "<13>a\nb");
});

Deno.test("SyslogBatch skips empty messages and records truncated lines", () => {
  const batch = new SyslogBatch("tcp", () => 1000);
  assert.equal(batch.add("\r\n", "10.0.0.1", 0), false);
  assert.equal(batch.add("<13>one\n", "10.0.0.1", 0), true);
  assert.equal(batch.add("<13>two", "10.0.0.1", 500), true);
  const job = batch.toJob();
  assert.deepEqual(job.lines, ["<13>one", "<13>two"]);
  assert.equal(job.receivedAt, 1000);
  assert.deepEqual(job.syslog, {
    transport: "tcp",
    addresses: ["10.0.0.1"],
    senders: null,
    truncated: [1],
    escaped: [],
  });
});

Deno.test("SyslogBatch indexes senders once a second address appears", () => {
  const batch = new SyslogBatch("udp");
  batch.add("a", "10.0.0.1", 0);
  batch.add("b", "10.0.0.1", 0);
  batch.add("c", "10.0.0.2", 0);
  batch.add("d", "10.0.0.1", 0);
  const origin = batch.toJob().syslog!;
  assert.deepEqual(origin.addresses, ["10.0.0.1", "10.0.0.2"]);
  assert.deepEqual([...origin.senders!], [0, 0, 1, 0]);
});

Deno.test("SourceTally counts events per sender and keeps the last reported hostname", () => {
  const batch = new SyslogBatch("udp", () => 2000);
  batch.add("a", "10.0.0.1", 0);
  batch.add("b", "10.0.0.2", 0);
  batch.add("c", "10.0.0.1", 0);
  const tally = new SourceTally(batch.toJob().syslog!, 2000);
  tally.add(0, "sw1", false);
  tally.add(1, null, true);
  tally.add(2, null, false);
  assert.equal(tally.senderOf(1), "10.0.0.2");
  assert.deepEqual(tally.updates(), [
    { address: "10.0.0.1", transport: "udp", hostname: "sw1", events: 2, unparsed: 0, at: 2000 },
    { address: "10.0.0.2", transport: "udp", hostname: null, events: 1, unparsed: 1, at: 2000 },
  ]);
});

Deno.test("WarnThrottle logs a key once per interval and reports what it held back", () => {
  const logged: [string, Record<string, unknown> | undefined][] = [];
  const log = {
    ...silentLogger,
    warn: (m: string, f?: Record<string, unknown>) => logged.push([m, f]),
  };
  let now = 0;
  const throttle = new WarnThrottle(log, () => now);
  throttle.warn("k", "Dropped", { address: "a" });
  throttle.warn("k", "Dropped", { address: "a" });
  throttle.warn("other", "Other", {});
  now = 60_000;
  throttle.warn("k", "Dropped", { address: "a" });
  assert.deepEqual(logged, [
    ["Dropped", { address: "a" }],
    ["Other", {}],
    ["Dropped", { address: "a", suppressed: 1 }],
  ]);
});
