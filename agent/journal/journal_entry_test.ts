import assert from "node:assert/strict";
import { journalEntryToLine, parseJournalCursor } from "./journal_entry.ts";

const SEQNUM_ID = "0123456789abcdef0123456789abcdef";
const MACHINE_ID = "fedcba9876543210fedcba9876543210";
const OPTIONS = { fallbackHostname: "agent-host", nowMs: Date.UTC(2026, 10, 23, 19, 43, 33) };

function cursor(seqnum: number, seqnumId = SEQNUM_ID): string {
  return `s=${seqnumId};i=${seqnum.toString(16)};b=5f2c;m=1a2b;t=5f2c3d;x=9e8f`;
}

function convert(fields: Record<string, unknown>) {
  const result = journalEntryToLine(fields, OPTIONS);
  assert.ok(result.ok, JSON.stringify(result));
  return result.entry;
}

Deno.test("parseJournalCursor() reads the seqnum id and the hexadecimal sequence number", () => {
  assert.deepEqual(parseJournalCursor(cursor(450)), { seqnumId: SEQNUM_ID, seqnum: 450 });
  assert.deepEqual(parseJournalCursor(`s=${SEQNUM_ID.toUpperCase()};i=FF`), {
    seqnumId: SEQNUM_ID,
    seqnum: 255,
  });
  assert.equal(parseJournalCursor("i=1c2"), undefined);
  assert.equal(parseJournalCursor(`s=${SEQNUM_ID}`), undefined);
  assert.equal(parseJournalCursor("s=not-hex;i=1"), undefined);
  assert.equal(parseJournalCursor(`s=${SEQNUM_ID};i=ffffffffffffffff`), undefined);
  assert.equal(parseJournalCursor(""), undefined);
});

Deno.test("journalEntryToLine() builds <PRI><ISO time> host ident[pid]: message", () => {
  const entry = convert({
    __CURSOR: cursor(42),
    __REALTIME_TIMESTAMP: "1795462813123456",
    _MACHINE_ID: MACHINE_ID,
    _HOSTNAME: "web-01",
    SYSLOG_IDENTIFIER: "sshd",
    _COMM: "sshd-session",
    _PID: "812",
    PRIORITY: "6",
    SYSLOG_FACILITY: "4",
    MESSAGE: "Accepted publickey for deploy from 198.51.100.4",
  });
  assert.equal(
    entry.line,
    "<38>2026-11-23T19:40:13.123456Z web-01 sshd[812]: Accepted publickey for deploy from 198.51.100.4",
  );
  assert.equal(entry.position, 42);
  assert.equal(entry.stream, `journal-${SEQNUM_ID}-${MACHINE_ID.slice(0, 16)}`);
  assert.ok(/^[A-Za-z0-9_.:-]{1,64}$/.test(entry.stream), "a valid EVENT stream id");
  assert.equal(entry.cursor, cursor(42));
});

Deno.test("journalEntryToLine() falls back to _COMM, user facility, info and the fallback host", () => {
  const entry = convert({
    __CURSOR: cursor(7),
    __REALTIME_TIMESTAMP: "1795462813000001",
    _COMM: "cron",
    MESSAGE: "job done",
  });
  assert.equal(entry.line, "<14>2026-11-23T19:40:13.000001Z agent-host cron: job done");
  assert.equal(entry.stream, `journal-${SEQNUM_ID}`);
  const bare = convert({ __CURSOR: cursor(8), PRIORITY: "3" });
  assert.equal(bare.line, "<11>2026-11-23T19:43:33.000000Z agent-host journal: ");
});

Deno.test("journalEntryToLine() prefers _SOURCE_REALTIME_TIMESTAMP and maps PRIORITY to severity", () => {
  const entry = convert({
    __CURSOR: cursor(9),
    __REALTIME_TIMESTAMP: "1795462813999999",
    _SOURCE_REALTIME_TIMESTAMP: "1795462812000000",
    SYSLOG_IDENTIFIER: "kernel",
    SYSLOG_FACILITY: "0",
    PRIORITY: "2",
    MESSAGE: "Out of memory",
  });
  assert.ok(entry.line.startsWith("<2>2026-11-23T19:40:12.000000Z "), entry.line);
});

Deno.test("journalEntryToLine() decodes MESSAGE given as a byte array and escapes line breaks", () => {
  const bytes = [...new TextEncoder().encode("line one\nline two\u00e9\r\n")];
  const entry = convert({
    __CURSOR: cursor(10),
    __REALTIME_TIMESTAMP: "1795462813000000",
    SYSLOG_IDENTIFIER: "app",
    MESSAGE: bytes,
  });
  assert.ok(entry.line.endsWith("app: line one#012line two\u00e9"), entry.line);
  const invalid = convert({ __CURSOR: cursor(11), MESSAGE: [0x66, 0xff, 0x6f, 0x00, 0x09] });
  assert.ok(invalid.line.endsWith(": f\ufffdo#000\t"), invalid.line);
});

Deno.test("journalEntryToLine() cleans untrusted host, identifier and pid fields", () => {
  const entry = convert({
    __CURSOR: cursor(12),
    __REALTIME_TIMESTAMP: "1795462813000000",
    _HOSTNAME: "evil host\nname",
    SYSLOG_IDENTIFIER: "fake[1]: injected",
    _PID: "12x",
    SYSLOG_PID: "77",
    MESSAGE: ["first value", "second value"],
  });
  assert.equal(
    entry.line,
    "<14>2026-11-23T19:40:13.000000Z evil_host_name fake_1___injected[77]: first value",
  );
  assert.ok(!entry.line.includes("\n"));
});

Deno.test("journalEntryToLine() refuses entries without a usable cursor and never throws", () => {
  for (
    const value of [
      null,
      42,
      "text",
      [],
      {},
      { __CURSOR: 5 },
      { __CURSOR: "s=zz;i=1" },
      { __CURSOR: cursor(1), MESSAGE: [300, -1] },
      { __CURSOR: cursor(1), __REALTIME_TIMESTAMP: "99999999999999999999" },
    ]
  ) {
    const result = journalEntryToLine(value, OPTIONS);
    if (!result.ok) assert.ok(result.reason.length > 0);
  }
  assert.deepEqual(journalEntryToLine({}, OPTIONS), { ok: false, reason: "no __CURSOR" });
});
