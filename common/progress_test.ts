import assert from "node:assert/strict";
import { formatAmount, formatDuration, Progress, progressMode } from "./progress.ts";

/** A progress whose clock the test moves, and everything it wrote. */
function harness(mode: "redraw" | "lines" | "summary", total?: number, unit = "bytes") {
  let now = 0;
  const written: string[] = [];
  const progress = new Progress({
    label: "Backing up nms.db",
    unit,
    total,
    mode,
    write: (text) => written.push(text),
    now: () => now,
  });
  return { progress, written, advance: (ms: number) => now += ms };
}

Deno.test("progressMode() redraws on a terminal, logs lines in a terminal log, else only sums up", () => {
  assert.equal(progressMode(true), "redraw");
  assert.equal(progressMode(true, true), "lines");
  assert.equal(progressMode(false), "summary");
  assert.equal(progressMode(false, true), "summary");
});

Deno.test("Progress off a terminal writes one line when done, with the size and the time taken", () => {
  const { progress, written, advance } = harness("summary", 2_000_000_000);
  for (let i = 1; i <= 10; i++) {
    advance(1000);
    progress.update(i * 200_000_000);
  }
  assert.deepEqual(written, []);
  assert.equal(progress.finish(), "Backing up nms.db: 2 GB in 10 s");
  assert.deepEqual(written, ["Backing up nms.db: 2 GB in 10 s"]);
});

Deno.test("Progress on a terminal redraws one line with percentage, rate and time left", () => {
  const { progress, written, advance } = harness("redraw", 2_000_000_000);
  advance(2000);
  progress.update(500_000_000);
  advance(50);
  progress.update(510_000_000); // within the redraw interval: not drawn
  assert.deepEqual(written, [
    "\r\x1b[KBacking up nms.db: 25% (500 MB of 2 GB), 250 MB/s, 6 s left",
  ]);
  advance(6000);
  progress.finish(2_000_000_000);
  assert.equal(written.at(-1), "\r\x1b[KBacking up nms.db: 2 GB in 8.1 s\n");
});

Deno.test("Progress in a terminal log writes a first line, one line per interval, then the summary", () => {
  const { progress, written, advance } = harness("lines", 40, "users");
  assert.deepEqual(written, ["Backing up nms.db: 0% (0 of 40 users), 0 users/s"]);
  advance(1000);
  progress.update(8);
  assert.equal(written.length, 1, "less than PROGRESS_LINE_MS later: nothing");
  advance(4000);
  progress.update(20);
  assert.equal(written.at(-1), "Backing up nms.db: 50% (20 of 40 users), 4 users/s, 5 s left");
  progress.finish(40);
  assert.equal(written.at(-1), "Backing up nms.db: 40 users in 5 s");
});

Deno.test("Progress.abandon() erases a drawn line and writes no summary", () => {
  const { progress, written, advance } = harness("redraw");
  advance(500);
  progress.update(1000);
  progress.abandon();
  assert.equal(written.at(-1), "\r\x1b[K");
  progress.finish();
  assert.equal(written.length, 2);
});

Deno.test("formatAmount() and formatDuration() read as people write them", () => {
  assert.equal(formatAmount(999, "bytes"), "999 B");
  assert.equal(formatAmount(1_234_567, "bytes"), "1.2 MB");
  assert.equal(formatAmount(1_234_567, "events"), "1,234,567 events");
  assert.equal(formatDuration(0.42), "0.4 s");
  assert.equal(formatDuration(185), "3 min 5 s");
  assert.equal(formatDuration(7800), "2 h 10 min");
});
