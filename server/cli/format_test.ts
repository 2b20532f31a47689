import assert from "node:assert/strict";
import type { EventRecord } from "../store/store.ts";
import { formatEvent, parseSince, printable, table } from "./format.ts";

const NOW = Date.UTC(2026, 10, 23, 19, 43, 33);

Deno.test("printable() escapes ESC so log text cannot drive the terminal", () => {
  assert.equal(printable("a\x1b[31mred\x1b[0m"), "a\\x1b[31mred\\x1b[0m");
  assert.equal(printable("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
});

Deno.test("printable() escapes C0 controls, DEL and C1 controls", () => {
  assert.equal(printable("\0"), "\\x00");
  assert.equal(printable("bell\x07"), "bell\\x07");
  assert.equal(printable("back\x08space"), "back\\x08space");
  assert.equal(printable("over\rwrite"), "over\\x0dwrite");
  assert.equal(printable("\x0b\x0c\x1f"), "\\x0b\\x0c\\x1f");
  assert.equal(printable("del\x7f"), "del\\x7f");
  assert.equal(printable("csi\x9b31m"), "csi\\x9b31m");
  assert.equal(printable("\x80\x9f"), "\\x80\\x9f");
});

Deno.test("printable() keeps ordinary text, tabs and non-ASCII letters", () => {
  const text = "sshd[812]: Accepted\tpublickey for dépl✓y 😀 from 10.0.0.5";
  assert.equal(printable(text), text);
  assert.equal(printable(""), "");
  assert.equal(printable("\xa0\xff"), "\xa0\xff");
});

Deno.test("parseSince() parses seconds, minutes, hours and days before now", () => {
  assert.equal(parseSince("30s", NOW), NOW - 30_000);
  assert.equal(parseSince("15m", NOW), NOW - 15 * 60_000);
  assert.equal(parseSince("2h", NOW), NOW - 2 * 3_600_000);
  assert.equal(parseSince("7d", NOW), NOW - 7 * 86_400_000);
  assert.equal(parseSince("0s", NOW), NOW);
});

Deno.test("parseSince() parses ISO dates and times", () => {
  assert.equal(parseSince("2026-01-02T03:04:05Z", NOW), Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(
    parseSince("2026-01-02T03:04:05.250+01:00", NOW),
    Date.UTC(2026, 0, 2, 2, 4, 5, 250),
  );
  assert.equal(parseSince("2026-01-02", NOW), Date.UTC(2026, 0, 2));
});

Deno.test("parseSince() returns undefined for text that is neither form", () => {
  for (const text of ["", "garbage", "10x", "1.5h", "-1h", "h", "1 h", " 1h", "1H", "now"]) {
    assert.equal(parseSince(text, NOW), undefined, JSON.stringify(text));
  }
});

function event(fields: Partial<EventRecord> = {}): EventRecord {
  return {
    id: 1,
    receivedAt: NOW,
    ts: NOW,
    host: "web-01",
    agentId: 1,
    program: "sshd",
    pid: 812,
    severity: 6,
    facility: 4,
    message: "Accepted publickey for deploy",
    raw: "raw line",
    flags: 0,
    ...fields,
  };
}

Deno.test("formatEvent() prints time, host, severity, program[pid] and message", () => {
  assert.equal(
    formatEvent(event()),
    "2026-11-23T19:43:33.000Z web-01 info sshd[812]: Accepted publickey for deploy",
  );
});

Deno.test("formatEvent() shows - for unknown host and severity and omits a missing program", () => {
  assert.equal(
    formatEvent(event({ host: null, severity: null, program: null, pid: null, message: "m" })),
    "2026-11-23T19:43:33.000Z - - m",
  );
  assert.equal(
    formatEvent(event({ pid: null, message: "m" })),
    "2026-11-23T19:43:33.000Z web-01 info sshd: m",
  );
});

Deno.test("formatEvent() escapes control characters in every untrusted field", () => {
  const line = formatEvent(
    event({ host: "h\x1b[2J", program: "p\x07", message: "m\x1b[31m\r" }),
  );
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(line), line);
  assert.ok(
    line.includes("h\\x1b[2J") && line.includes("p\\x07") && line.includes("m\\x1b[31m\\x0d"),
  );
});

Deno.test("table() aligns columns to the widest cell", () => {
  assert.equal(
    table(["NAME", "ROLE"], [["admin", "admin"], ["bob", "viewer"]]),
    "NAME   ROLE\nadmin  admin\nbob    viewer",
  );
});

Deno.test("table() escapes control characters in cells", () => {
  const lines = table(["NAME", "ROLE"], [["bob\x1b[2J", "viewer\x07"]]).split("\n");
  assert.equal(lines.length, 2);
  assert.ok(lines[1]!.startsWith("bob\\x1b[2J"), lines[1]);
  assert.ok(lines[1]!.endsWith("viewer\\x07"), lines[1]);
});

Deno.test("table() keeps columns aligned when a cell holds escaped control characters", () => {
  const text = table(["HOST", "OS"], [["evil\x1b[2Jhost", "Linux"], ["web\t01", "BSD"], [
    "a",
    "x",
  ]]);
  assert.equal(
    text,
    [
      "HOST             OS",
      "evil\\x1b[2Jhost  Linux",
      "web\\x0901        BSD",
      "a                x",
    ].join("\n"),
  );
});
