import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../../tests/_harness/wait_for.ts";
import { FileFollower, type FileFollowerOptions, lineStartBefore } from "./file_follower.ts";
import { Collector } from "./_test_collector.ts";
import type { FileState } from "../checkpoint/mod.ts";

const decoder = new TextDecoder();

/** A follower whose every change notification triggers a read, plus its temp dir. */
async function setup(
  options: FileFollowerOptions & { create?: string; name?: string } = {},
): Promise<{
  dir: string;
  path: string;
  follower: FileFollower;
  collector: Collector;
  read(): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}> {
  const dir = await Deno.makeTempDir({ prefix: "nms-follower-test-" });
  const path = join(dir, options.name ?? "app.log");
  if (options.create !== undefined) await Deno.writeTextFile(path, options.create);
  const collector = new Collector();
  const follower: FileFollower = new FileFollower(path, {
    pollIntervalMs: 50,
    ...options,
    onChange: () => void read(),
  });
  const read = () => follower.read(collector);
  await follower.start();
  await read();
  return {
    dir,
    path,
    follower,
    collector,
    read,
    async [Symbol.asyncDispose]() {
      await follower.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function append(path: string, text: string): Promise<void> {
  return Deno.writeTextFile(path, text, { append: true });
}

/** A temp dir for a test that makes its own followers, removed with everything in it. */
async function tempDir(): Promise<{ dir: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "nms-follower-test-" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** The state a follower of `path` saves when stopped right after starting at its end. */
async function savedAtEnd(path: string): Promise<FileState> {
  await using first = new FileFollower(path, { startAtEnd: true });
  await first.start();
  return first.state();
}

/** A follower resumed from `saved`, once it has read into `collector`. */
async function resumeAndRead(
  path: string,
  saved: FileState,
  collector: Collector,
): Promise<FileFollower> {
  const follower = new FileFollower(path, { resume: saved });
  try {
    await follower.start();
    await follower.read(collector);
    return follower;
  } catch (error) {
    await follower.close();
    throw error;
  }
}

Deno.test("FileFollower starts at the end of a file that exists at start", async () => {
  await using t = await setup({ create: "old 1\nold 2\n" });
  await append(t.path, "new 1\nnew 2\n");
  await waitFor(() => t.collector.lines.length === 2);
  assert.deepEqual(t.collector.texts(), ["new 1", "new 2"]);
  assert.deepEqual(t.collector.lines.map((l) => l.end), [18, 24]);
  assert.equal(t.follower.current?.ackedOffset, 24);
});

Deno.test("FileFollower reads an existing file from the start when startAtEnd is false", async () => {
  await using t = await setup({ create: "old 1\nold 2\n", startAtEnd: false });
  await waitFor(() => t.collector.lines.length === 2);
  assert.deepEqual(t.collector.texts(), ["old 1", "old 2"]);
});

Deno.test("FileFollower delivers an appended line on the watcher's notice, long before its next poll", async () => {
  await using t = await setup({ create: "", pollIntervalMs: 60_000 });
  const started = performance.now();
  await append(t.path, "hello\n");
  await waitFor(() => t.collector.lines.length === 1, { intervalMs: 1 });
  const elapsedMs = performance.now() - started;
  assert.deepEqual(t.collector.texts(), ["hello"]);
  // The watcher, not the poll (every 60 s here), delivered it. The bound only
  // tells the two apart: the latency itself is measured by `deno task bench`.
  assert.ok(elapsedMs < 5_000, `took ${elapsedMs} ms`);
});

Deno.test("FileFollower holds a partial line back until its newline arrives", async () => {
  await using t = await setup({ create: "" });
  await append(t.path, "part one");
  await waitFor(async () => (await Deno.stat(t.path)).size === 8);
  await t.read();
  assert.equal(t.collector.lines.length, 0);
  await append(t.path, ", part two\nnext\n");
  await waitFor(() => t.collector.lines.length === 2);
  assert.deepEqual(t.collector.texts(), ["part one, part two", "next"]);
  assert.deepEqual(t.collector.lines.map((l) => l.end), [19, 24]);
});

Deno.test("FileFollower starts at the beginning of an unfinished last line", async () => {
  await using t = await setup({ create: "complete\nunfini" });
  await append(t.path, "shed\n");
  await waitFor(() => t.collector.lines.length === 1);
  assert.deepEqual(t.collector.texts(), ["unfinished"]);
});

Deno.test("FileFollower reads a file that appears after it started from its beginning", async () => {
  await using t = await setup();
  assert.equal(t.follower.current, undefined);
  await Deno.writeTextFile(t.path, "born 1\nborn 2\n");
  await waitFor(() => t.collector.lines.length === 2);
  assert.deepEqual(t.collector.texts(), ["born 1", "born 2"]);
});

Deno.test("FileFollower follows a file whose directory appears later", async () => {
  await using t = await setup({ name: "sub/dir/app.log" });
  await Deno.mkdir(join(t.dir, "sub", "dir"), { recursive: true });
  await Deno.writeTextFile(t.path, "late\n");
  await waitFor(() => t.collector.lines.length === 1);
  assert.deepEqual(t.collector.texts(), ["late"]);
});

Deno.test("FileFollower starts a new stream at offset 0 after truncation", async () => {
  await using t = await setup({ create: "" });
  await append(t.path, "before truncation, long line\n");
  await waitFor(() => t.collector.lines.length === 1);
  const firstStream = t.collector.lines[0]!.stream;
  await Deno.truncate(t.path, 0);
  await append(t.path, "after\n");
  await waitFor(() => t.collector.lines.length === 2);
  const second = t.collector.lines[1]!;
  assert.equal(second.text, "after");
  assert.equal(second.end, 6);
  assert.notEqual(second.stream, firstStream);
  assert.equal(t.follower.stats.truncations, 1);
});

Deno.test("FileFollower detects content replaced in place even when the size grew past the offset", async () => {
  await using t = await setup({ create: "" });
  await append(t.path, "a\n");
  await waitFor(() => t.collector.lines.length === 1);
  // Replace the content in one write that is longer than what was read.
  await Deno.writeTextFile(t.path, "b234567890\nc\n");
  // Caught as a truncation (size < offset) or by the fingerprint check of the poll.
  await waitFor(() => t.collector.lines.some((l) => l.text === "b234567890"));
  await waitFor(() => t.collector.lines.at(-1)?.text === "c");
  const replaced = t.collector.lines.filter((l) => l.stream !== t.collector.lines[0]!.stream);
  assert.deepEqual(replaced.slice(-2).map((l) => [l.text, l.end]), [["b234567890", 11], ["c", 13]]);
});

Deno.test("FileFollower reads a renamed file to its end, then the recreated file from offset 0", async () => {
  await using t = await setup({ create: "", rotatedIdleMs: 100 });
  await append(t.path, "old 1\n");
  await waitFor(() => t.collector.lines.length === 1);
  const oldStream = t.collector.lines[0]!.stream;
  // The writer keeps its handle to the renamed file for a moment (like rsyslog before HUP).
  using writer = await Deno.open(t.path, { append: true });
  await Deno.rename(t.path, `${t.path}.1`);
  await writer.write(new TextEncoder().encode("old 2\n"));
  await Deno.writeTextFile(t.path, "new 1\n");
  await waitFor(() => t.collector.lines.length === 3);
  const byStream = Map.groupBy(t.collector.lines, (l) => l.stream);
  assert.deepEqual(byStream.get(oldStream)!.map((l) => l.text), ["old 1", "old 2"]);
  const newLines = t.collector.lines.filter((l) => l.stream !== oldStream);
  assert.deepEqual(newLines.map((l) => [l.text, l.end]), [["new 1", 6]]);
  assert.equal(t.follower.stats.rotations, 1);
  // Once idle and acknowledged, the rotated file is closed.
  await waitFor(() => t.follower.incarnations.length === 1);
});

Deno.test("FileFollower sends the unfinished last line of a rotated file once it is idle", async () => {
  await using t = await setup({ create: "", rotatedIdleMs: 50 });
  await append(t.path, "done\nno newline");
  await waitFor(() => t.collector.lines.length === 1);
  await Deno.rename(t.path, `${t.path}.1`);
  await waitFor(() => t.collector.lines.length === 2);
  assert.deepEqual(t.collector.lines[1], {
    stream: t.collector.lines[0]!.stream,
    text: "no newline",
    end: 15,
  });
  await waitFor(() => t.follower.incarnations.length === 0);
});

Deno.test("FileFollower follows a file deleted and recreated at the same path", async () => {
  await using t = await setup({ create: "", rotatedIdleMs: 50 });
  await append(t.path, "one\n");
  await waitFor(() => t.collector.lines.length === 1);
  await Deno.remove(t.path);
  await Deno.writeTextFile(t.path, "two\n");
  await waitFor(() => t.collector.lines.length === 2);
  assert.equal(t.collector.lines[1]!.text, "two");
  assert.equal(t.collector.lines[1]!.end, 4);
  assert.notEqual(t.collector.lines[1]!.stream, t.collector.lines[0]!.stream);
});

Deno.test("FileFollower pauses while the consumer has no room and resumes where it stopped", async () => {
  await using t = await setup({ create: "", readBufferBytes: 64 });
  t.collector.room = false;
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
  await append(t.path, lines.join("\n") + "\n");
  await waitFor(async () => (await Deno.stat(t.path)).size > 0);
  await t.read();
  assert.equal(t.collector.lines.length, 0);
  assert.equal(t.follower.wantsRead, true);
  // Give room for one chunk only: reading stops again after it.
  let chunks = 0;
  const limited = {
    hasRoom: () => chunks < 1,
    line: t.collector.line.bind(t.collector),
    overflow: t.collector.overflow.bind(t.collector),
    endOfChunk: () => void chunks++,
  };
  await t.follower.read(limited);
  assert.ok(t.collector.lines.length > 0 && t.collector.lines.length < 500);
  assert.equal(t.follower.wantsRead, true);
  t.collector.room = true;
  await t.read();
  await waitFor(() => t.collector.lines.length === 500);
  assert.deepEqual(t.collector.texts(), lines);
});

Deno.test("FileFollower replaces a line longer than the limit by a gap event at its position", async () => {
  await using t = await setup({ create: "", maxLineBytes: 10 });
  await append(t.path, "short\n" + "x".repeat(50) + "\nafter\n");
  await waitFor(() => t.collector.lines.length === 3);
  const [short, gap, after] = t.collector.lines;
  assert.equal(short!.text, "short");
  assert.equal(after!.text, "after");
  assert.equal(gap!.stream, `${short!.stream}.gap`);
  assert.equal(gap!.end, 57);
  assert.equal(
    gap!.text,
    `nms-agent: gap: 51 bytes of ${JSON.stringify(t.path)} (stream ${
      short!.stream
    }, offsets 6-57) not delivered: line longer than 10 bytes`,
  );
  assert.equal(t.follower.stats.linesTooLong, 1);
  assert.deepEqual(t.collector.overflows, []);
});

Deno.test("FileFollower.rewind() resends everything after the acknowledged offset", async () => {
  await using t = await setup({ create: "" });
  // Acknowledge nothing: lines stay in flight.
  t.collector.line = function (inc, bytes, end) {
    this.lines.push({ stream: inc.stream, text: decoder.decode(bytes), end });
    inc.inFlight++;
  };
  await append(t.path, "a\nb\n");
  await waitFor(() => t.collector.lines.length === 2);
  t.follower.current!.acknowledge(2);
  t.follower.rewind();
  await t.read();
  assert.deepEqual(t.collector.texts(), ["a", "b", "b"]);
  assert.deepEqual(t.collector.lines.map((l) => l.end), [2, 4, 4]);
});

Deno.test("FileFollower resumes from a saved state that still matches the file", async () => {
  await using tmp = await tempDir();
  const path = join(tmp.dir, "app.log");
  await Deno.writeTextFile(path, "seen\nunsent 1\nunsent 2\n");
  let saved: FileState;
  {
    await using first = new FileFollower(path, { startAtEnd: false });
    await first.start();
    const collector = new Collector();
    collector.line = function (inc, bytes, end) {
      const text = decoder.decode(bytes);
      this.lines.push({ stream: inc.stream, text, end });
      if (text === "seen") inc.acknowledge(end);
    };
    await first.read(collector);
    saved = first.state();
    assert.equal(saved.incarnations.length, 1);
    assert.equal(saved.incarnations[0]!.offset, 5);
  }
  await Deno.writeTextFile(path, "written while stopped\n", { append: true });
  const collector = new Collector();
  await using _second = await resumeAndRead(path, saved, collector);
  assert.deepEqual(collector.texts(), ["unsent 1", "unsent 2", "written while stopped"]);
  assert.ok(collector.lines.every((l) => l.stream === saved.incarnations[0]!.stream));
});

Deno.test("FileFollower reads a file replaced while stopped from its start, with a new stream", async () => {
  await using tmp = await tempDir();
  const path = join(tmp.dir, "app.log");
  await Deno.writeTextFile(path, "old\n");
  const saved = await savedAtEnd(path);
  // Replaced and the old file removed while stopped: its end was read, but
  // what was written before the removal may be lost, so a gap is reported.
  await Deno.remove(path);
  await Deno.writeTextFile(path, "new 1\nnew 2\n");
  const collector = new Collector();
  await using _follower = await resumeAndRead(path, saved, collector);
  const old = saved.incarnations[0]!.stream;
  assert.equal(collector.lines[0]!.stream, `${old}.gap`);
  assert.match(collector.lines[0]!.text, /^nms-agent: gap: 0 bytes of .* offsets 4-4\)/);
  assert.deepEqual(collector.texts().slice(1), ["new 1", "new 2"]);
  assert.notEqual(collector.lines[1]!.stream, old);
});

Deno.test("FileFollower finds a file rotated while stopped under its new name and reads it first", async () => {
  await using tmp = await tempDir();
  const path = join(tmp.dir, "syslog");
  await Deno.writeTextFile(path, "seen\n");
  const saved = await savedAtEnd(path);
  await Deno.writeTextFile(path, "old 1\nold 2\n", { append: true });
  await Deno.rename(path, `${path}.1`);
  await Deno.writeTextFile(path, "new 1\n");
  const collector = new Collector();
  await using follower = await resumeAndRead(path, saved, collector);
  assert.deepEqual(collector.texts(), ["old 1", "old 2", "new 1"]);
  assert.equal(collector.lines[0]!.stream, saved.incarnations[0]!.stream);
  assert.deepEqual(follower.state().incarnations.map((i) => i.rotated), [true, false]);
});

Deno.test("FileFollower reads the rest of a file rotated and compressed while stopped", async () => {
  await using tmp = await tempDir();
  const path = join(tmp.dir, "syslog");
  const seen = Array.from({ length: 40 }, (_, i) => `seen line ${i}\n`).join("");
  await Deno.writeTextFile(path, seen);
  const saved = await savedAtEnd(path);
  await Deno.writeTextFile(path, "old 1\nold 2\n", { append: true });
  const content = await Deno.readFile(path);
  const compressed = await new Response(
    new Blob([content]).stream().pipeThrough(new CompressionStream("gzip")),
  ).bytes();
  await Deno.writeFile(`${path}.1.gz`, compressed);
  await Deno.remove(path);
  await Deno.writeTextFile(path, "new 1\n");
  const collector = new Collector();
  await using _follower = await resumeAndRead(path, saved, collector);
  assert.deepEqual(collector.texts(), ["old 1", "old 2", "new 1"]);
  assert.equal(collector.lines[0]!.stream, saved.incarnations[0]!.stream);
  assert.equal(collector.lines[0]!.end, seen.length + 6);
});

Deno.test("FileFollower reads the rest of a file copied and truncated while stopped from the copy", async () => {
  await using tmp = await tempDir();
  const path = join(tmp.dir, "app.log");
  await Deno.writeTextFile(path, "seen\n");
  const saved = await savedAtEnd(path);
  await Deno.writeTextFile(path, "old 1\n", { append: true });
  await Deno.copyFile(path, `${path}.1`);
  await Deno.truncate(path, 0);
  await Deno.writeTextFile(path, "new 1\n");
  const collector = new Collector();
  await using _follower = await resumeAndRead(path, saved, collector);
  assert.deepEqual(collector.texts(), ["old 1", "new 1"]);
  assert.equal(collector.lines[0]!.stream, saved.incarnations[0]!.stream);
  assert.notEqual(collector.lines[1]!.stream, saved.incarnations[0]!.stream);
});

Deno.test("FileFollower reads the rest of a file truncated by copytruncate from the copy", async () => {
  await using t = await setup({ create: "" });
  t.collector.room = false;
  await append(t.path, "a 1\na 2\n");
  await waitFor(async () => (await t.follower.lagBytes()) === 8);
  // The first bytes are learnt on a poll, even while nothing is read.
  await waitFor(() => t.follower.current!.head.length === 8);
  // Copy, then truncate while the follower has not read the lines yet.
  await Deno.copyFile(t.path, `${t.path}.1`);
  await Deno.truncate(t.path, 0);
  await append(t.path, "b 1\n");
  t.collector.room = true;
  await waitFor(() => t.collector.lines.length === 3);
  assert.deepEqual(t.collector.texts(), ["a 1", "a 2", "b 1"]);
  const [a1, a2, b1] = t.collector.lines;
  assert.equal(a1!.stream, a2!.stream);
  assert.notEqual(a2!.stream, b1!.stream);
});

Deno.test("FileFollower reports a gap for unread bytes of a file truncated without a copy", async () => {
  await using t = await setup({ create: "" });
  t.collector.room = false;
  await append(t.path, "a 1\na 2\n");
  await waitFor(async () => (await t.follower.lagBytes()) === 8);
  await Deno.truncate(t.path, 0);
  await append(t.path, "b\n");
  t.collector.room = true;
  await waitFor(() => t.collector.lines.length === 2);
  const [gap, b] = t.collector.lines;
  assert.match(gap!.text, /^nms-agent: gap: 8 bytes of .* offsets 0-8\) not delivered: truncated/);
  assert.equal(gap!.end, 8);
  assert.equal(b!.text, "b");
});

Deno.test("FileFollower.lagBytes() counts bytes beyond the acknowledged offset", async () => {
  await using t = await setup({ create: "" });
  t.collector.room = false;
  await append(t.path, "0123456789\n");
  await waitFor(async () => (await t.follower.lagBytes()) === 11);
  t.collector.room = true;
  await t.read();
  assert.equal(await t.follower.lagBytes(), 0);
});

Deno.test("lineStartBefore() finds the offset after the last newline", async () => {
  await using tmp = await tempDir();
  const path = join(tmp.dir, "f");
  const cases: [string, number][] = [["", 0], ["a\n", 2], ["a\nbc", 2], ["abc", 0]];
  for (const [content, expected] of cases) {
    await Deno.writeTextFile(path, content);
    using file = await Deno.open(path);
    assert.equal(await lineStartBefore(file, content.length), expected, JSON.stringify(content));
  }
});
