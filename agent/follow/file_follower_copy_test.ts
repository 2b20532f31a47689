/**
 * FileFollower and the copies logrotate's `copytruncate` leaves while the
 * agent runs (plain, being compressed, compressed, unreadable), and the gap
 * events for what the copy→truncate window lost where the follower can tell.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../../tests/_harness/wait_for.ts";
import { FileFollower } from "./file_follower.ts";
import { Collector as AckingCollector } from "./_test_collector.ts";

const decoder = new TextDecoder();

/** A {@linkcode AckingCollector} whose texts leave out the padding of {@linkcode FIRST}. */
class Collector extends AckingCollector {
  override texts(): string[] {
    return super.texts().map((text) => text.replace(/ x+$/, ""));
  }
}

/** A first line longer than the fingerprint, so the follower knows 256 first bytes. */
const FIRST = `a 1 ${"x".repeat(300)}\n`;

/**
 * A follower of `app.log` that has seen (but, with no room, not read) `seen`,
 * whose first bytes it knows: the state of an agent behind its file.
 */
async function behind(seen: string): Promise<{
  path: string;
  follower: FileFollower;
  collector: Collector;
  [Symbol.asyncDispose](): Promise<void>;
}> {
  const dir = await Deno.makeTempDir({ prefix: "nms-follower-copy-test-" });
  const path = join(dir, "app.log");
  await Deno.writeTextFile(path, "");
  const collector = new Collector();
  const follower: FileFollower = new FileFollower(path, {
    pollIntervalMs: 50,
    onChange: () => void follower.read(collector),
  });
  await follower.start();
  collector.room = false;
  await Deno.writeTextFile(path, seen, { append: true });
  await waitFor(async () => (await follower.lagBytes()) === seen.length);
  await waitFor(() => follower.current!.head.length === Math.min(256, seen.length));
  return {
    path,
    follower,
    collector,
    async [Symbol.asyncDispose]() {
      await follower.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * logrotate's copytruncate: the copy (as `copy` makes it of the content),
 * the truncation, then the writer goes on at offset 0. The copy is complete
 * before the truncation, as with logrotate.
 */
async function copytruncate(
  path: string,
  copy: (content: Uint8Array) => Promise<void> = (content) => Deno.writeFile(`${path}.1`, content),
): Promise<Uint8Array> {
  const content = await Deno.readFile(path);
  await copy(content);
  await Deno.truncate(path, 0);
  await Deno.writeTextFile(path, "b 1\n", { append: true });
  return content;
}

// Regression: with copytruncate + compress (no delaycompress) and the agent behind, the
// copy was searched among plain siblings only, and tens of thousands of lines still in
// app.log.1.gz were reported as a gap.
Deno.test("FileFollower reads the rest of a truncated file from its gzip-compressed copy", async () => {
  await using t = await behind(FIRST + "a 2\n");
  // `compress` removed the plain copy before the follower noticed the truncation.
  const content = await copytruncate(
    t.path,
    async (content) => Deno.writeFile(`${t.path}.1.gz`, await gzip(content)),
  );
  t.collector.room = true;
  await waitFor(() => t.collector.lines.length === 3);
  assert.deepEqual(t.collector.texts(), ["a 1", "a 2", "b 1"]);
  const [a1, a2, b1] = t.collector.lines;
  assert.equal(a1!.stream, a2!.stream);
  assert.equal(a2!.end, content.length);
  assert.notEqual(b1!.stream, a1!.stream);
  assert.equal(t.follower.stats.gaps, 0);
});

Deno.test("FileFollower reads the rest of a truncated file from its plain copy while gzip compresses it", async () => {
  await using t = await behind(FIRST + "a 2\n");
  await copytruncate(t.path, async (content) => {
    await Deno.writeFile(`${t.path}.1`, content);
    // gzip is halfway: the .gz file is cut short, the plain copy still there.
    const compressed = await gzip(content);
    await Deno.writeFile(`${t.path}.1.gz`, compressed.subarray(0, compressed.length >> 1));
  });
  t.collector.room = true;
  await waitFor(() => t.collector.lines.length === 3);
  assert.deepEqual(t.collector.texts(), ["a 1", "a 2", "b 1"]);
  assert.equal(t.follower.stats.gaps, 0);
});

Deno.test("FileFollower reports bytes it saw that the copy lacks as a gap: the copy→truncate window", async () => {
  // The agent saw "a 2" (its size), but logrotate copied the file before it was written.
  await using t = await behind(FIRST + "a 2\n");
  await Deno.writeTextFile(`${t.path}.1`, FIRST);
  await Deno.truncate(t.path, 0);
  await Deno.writeTextFile(t.path, "b 1\n", { append: true });
  t.collector.room = true;
  await waitFor(() => t.collector.lines.length === 3);
  const [a1, gap, b1] = t.collector.lines;
  assert.equal(a1!.text, FIRST.slice(0, -1));
  const seen = FIRST.length + 4;
  assert.equal(
    gap!.text,
    `nms-agent: gap: 4 bytes of ${JSON.stringify(t.path)} (stream ${a1!.stream}, offsets ` +
      `${FIRST.length}-${seen}) not delivered: written between logrotate's copy and its ` +
      `truncation (the copy "app.log.1" ends before byte ${seen}, the largest size seen)`,
  );
  assert.equal(gap!.stream, `${a1!.stream}.gap`);
  assert.equal(gap!.end, seen);
  assert.equal(b1!.text, "b 1");
  assert.equal(t.follower.stats.gaps, 1);
});

Deno.test("FileFollower reports the line a copy ends inside of as a gap, not as a line", async () => {
  // The copy caught half of "a 2 partial"; the rest was written, then truncated away.
  await using t = await behind(FIRST + "a 2 par");
  await copytruncate(t.path);
  t.collector.room = true;
  await waitFor(() => t.collector.lines.length === 3);
  const [a1, gap, b1] = t.collector.lines;
  assert.equal(a1!.text, FIRST.slice(0, -1));
  assert.match(
    gap!.text,
    new RegExp(
      `^nms-agent: gap: 7 bytes of .* offsets ${FIRST.length}-${FIRST.length + 7}\\) ` +
        `not delivered: written between logrotate's copy and its truncation ` +
        `\\(the copy "app.log.1" ends inside a line\\)$`,
    ),
  );
  assert.equal(b1!.text, "b 1");
});

Deno.test("FileFollower names a copy compressed in a format it cannot read in the gap event", async () => {
  await using t = await behind(FIRST + "a 2\n");
  // `compresscmd xz`: the plain copy is gone, its content is in app.log.1.xz.
  await copytruncate(t.path, () => Deno.writeTextFile(`${t.path}.1.xz`, "\xfd7zXZ not really"));
  t.collector.room = true;
  await waitFor(() => t.collector.lines.length === 2);
  const [gap, b1] = t.collector.lines;
  assert.match(
    gap!.text,
    /offsets 0-\d+\) not delivered: truncated before it was read to its end: the newest compressed copy "app.log.1.xz" is compressed with xz, which the agent cannot read$/,
  );
  assert.equal(b1!.text, "b 1");
});

Deno.test("FileFollower reads on from its copy after a rewind, and sends the copy's end gap again", async () => {
  await using t = await behind(FIRST + "a 2\n");
  // A copy made when "a 2" was half written; the agent saw all of it.
  await copytruncate(
    t.path,
    async (content) =>
      Deno.writeFile(`${t.path}.1.gz`, await gzip(content.subarray(0, FIRST.length + 2))),
  );
  // Read, but nothing acknowledged: a reconnect rewinds.
  const unacknowledged = new Collector();
  unacknowledged.line = function (inc, bytes, end, _size, stream) {
    const wire = stream === undefined ? inc.stream : decoder.decode(stream);
    this.lines.push({ stream: wire, text: decoder.decode(bytes), end });
    inc.inFlight++;
  };
  await t.follower.read(unacknowledged);
  assert.deepEqual(unacknowledged.texts().slice(0, 1), ["a 1"]);
  t.follower.rewind();
  t.collector.room = true;
  await waitFor(() => t.collector.lines.length === 3);
  // The same lines and the same gap at the same positions: the server keeps one of each.
  assert.deepEqual(t.collector.lines, unacknowledged.lines);
  assert.match(t.collector.lines[1]!.text, /the copy "app.log.1.gz" ends before byte 309/);
});

Deno.test("FileFollower keeps a copy it had read past as its own, so a restart does not read it again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-follower-copy-test-" });
  try {
    const path = join(dir, "app.log");
    await Deno.writeTextFile(path, "");
    const collector = new Collector();
    const first = new FileFollower(path, { pollIntervalMs: 50 });
    await first.start();
    await Deno.writeTextFile(path, FIRST + "a 2\n", { append: true });
    await first.read(collector);
    // The copy was made before "a 2", which the follower read in the original.
    await Deno.writeTextFile(`${path}.1`, FIRST);
    await Deno.truncate(path, 0);
    await Deno.writeTextFile(path, "b 1\n", { append: true });
    await waitFor(async () => {
      await first.read(collector);
      return collector.lines.length === 3;
    });
    assert.deepEqual(collector.texts(), ["a 1", "a 2", "b 1"]);
    const saved = first.state();
    const savedAtMs = Date.now();
    await first.close();
    // The next rotation while the agent is stopped moves the copy on.
    await Deno.rename(`${path}.1`, `${path}.2`);
    const again = new Collector();
    await using second = new FileFollower(path, { resume: saved, resumeSavedAtMs: savedAtMs });
    await second.start();
    await Deno.writeTextFile(path, "b 2\n", { append: true });
    await waitFor(async () => {
      await second.read(again);
      return again.lines.length > 0;
    });
    assert.deepEqual(again.texts(), ["b 2"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
