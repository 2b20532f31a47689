import assert from "node:assert/strict";
import { parsePaperIso } from "./paper_iso.ts";

Deno.test("parsePaperIso() reads the paper's sample line", () => {
  assert.deepEqual(parsePaperIso("2025-12-11T16:00:00 sshd: session opened"), {
    ts: Date.UTC(2025, 11, 11, 16),
    host: null,
    program: "sshd",
    pid: null,
    severity: 6,
    facility: null,
    message: "session opened",
    messageStart: 26,
    format: "paper_iso",
  });
});

Deno.test("parsePaperIso() takes word[pid]: as program and pid", () => {
  const p = parsePaperIso("2025-12-11T16:00:05.250 cron[42]: job backup failed");
  assert.equal(p?.ts, Date.UTC(2025, 11, 11, 16, 0, 5, 250));
  assert.equal(p?.program, "cron");
  assert.equal(p?.pid, 42);
  assert.equal(p?.message, "job backup failed");
  assert.equal(p?.severity, 3);
});

Deno.test("parsePaperIso() keeps the whole text as message when it does not start with prog:", () => {
  const p = parsePaperIso("2025-12-11T16:00:00 disk /dev/sda1 is 91% full, warning");
  assert.equal(p?.program, null);
  assert.equal(p?.message, "disk /dev/sda1 is 91% full, warning");
  assert.equal(p?.severity, 4);
  assert.equal(parsePaperIso("2025-12-11T16:00:00 see http://example.com: ok")?.program, null);
  assert.equal(parsePaperIso("2025-12-11T16:00:00")?.message, "");
});

Deno.test("parsePaperIso() honours an offset when present and reads UTC otherwise", () => {
  assert.equal(parsePaperIso("2025-12-11T17:00:00+01:00 x")?.ts, Date.UTC(2025, 11, 11, 16));
  assert.equal(parsePaperIso("2025-12-11T16:00:00Z x")?.ts, Date.UTC(2025, 11, 11, 16));
  assert.equal(parsePaperIso("2025-12-11T16:00:00 x")?.ts, Date.UTC(2025, 11, 11, 16));
});

Deno.test("parsePaperIso() rejects impossible or malformed times", () => {
  for (
    const line of [
      "",
      "2025-02-29T16:00:00 not a leap year",
      "2025-12-11T25:00:00 hour 25",
      "2025-12-11 16:00:00 space instead of T",
      "2025-12-11T16:00 no seconds",
      "2025-12-11T16:00:00. empty fraction",
      "2025-12-11T16:00:00+1:00 short offset",
      "2025-12-11T16:00:00garbage",
      "99999-12-11T16:00:00 five-digit year",
      "sshd: session opened",
    ]
  ) {
    assert.equal(parsePaperIso(line), null, line);
  }
});
