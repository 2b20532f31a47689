import assert from "node:assert/strict";
import { SyslogBatch, trimMessageEnd } from "./syslog_batch.ts";

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
  const job = batch.toLineBatch();
  assert.deepEqual(job.lines, ["<13>one", "<13>two"]);
  assert.equal(job.receivedAt, 1000);
  assert.deepEqual(job.origin, {
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
  const origin = batch.toLineBatch().origin;
  assert.deepEqual(origin.addresses, ["10.0.0.1", "10.0.0.2"]);
  assert.deepEqual([...origin.senders!], [0, 0, 1, 0]);
});
