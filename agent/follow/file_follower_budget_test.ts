/**
 * The follower under an open-files budget (`--max-open-files`): a file closed
 * while idle is opened again by path and read on; rotated, removed or
 * truncated while closed, it is handled as if it had stayed open (read from
 * its new name, a gap for what is gone, a new incarnation after truncation),
 * and a rotated file being read keeps its handle outside the budget.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../../tests/_harness/wait_for.ts";
import { FileFollower, GAP_REASON_ROTATED_WHILE_CLOSED } from "./file_follower.ts";
import type { Incarnation } from "./incarnation.ts";
import { OpenFileBudget } from "./open_file_budget.ts";
import { Sweep, WatchHub } from "../watch/mod.ts";

const decoder = new TextDecoder();

interface Line {
  path: string;
  stream: string;
  text: string;
}

interface Setup {
  dir: string;
  paths: string[];
  followers: FileFollower[];
  budget: OpenFileBudget;
  lines: Line[];
  texts(path: string): string[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** Followers of several files sharing one hub, sweep and budget, and the lines they read. */
async function setup(count: number, maxOpenFiles: number): Promise<Setup> {
  const dir = await Deno.makeTempDir({ prefix: "nms-follower-budget-" });
  const hub = new WatchHub();
  const sweep = new Sweep({ minIntervalMs: 50 });
  const budget = new OpenFileBudget(maxOpenFiles);
  const lines: Line[] = [];
  const paths: string[] = [];
  const followers: FileFollower[] = [];
  const consumer = (path: string) => ({
    hasRoom: () => true,
    line(inc: Incarnation, bytes: Uint8Array, end: number, _size: number, stream?: Uint8Array) {
      const wire = stream === undefined ? inc.stream : decoder.decode(stream);
      lines.push({ path, stream: wire, text: decoder.decode(bytes) });
      inc.inFlight++;
      inc.acknowledge(end);
    },
  });
  for (let i = 0; i < count; i++) {
    const path = join(dir, `f${i}.log`);
    await Deno.writeTextFile(path, "");
    paths.push(path);
    const follower: FileFollower = new FileFollower(path, {
      pollIntervalMs: 50,
      rotatedIdleMs: 200,
      watchHub: hub,
      sweep,
      openFiles: budget,
      onChange: () => void follower.read(consumer(path)),
    });
    await follower.start();
    followers.push(follower);
  }
  return {
    dir,
    paths,
    followers,
    budget,
    lines,
    texts: (path) => lines.filter((l) => l.path === path).map((l) => l.text),
    async [Symbol.asyncDispose]() {
      for (const follower of followers) await follower.close();
      sweep.close();
      await hub.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function append(path: string, text: string): Promise<void> {
  return Deno.writeTextFile(path, text, { append: true });
}

/**
 * Under a budget of one file: appends `text` to the first file and a line to
 * the second, whose read closes the first; resolves once the first is closed
 * (no read of it in progress).
 */
async function closeFirstForBudget(t: Setup, text: string): Promise<void> {
  const [a, b] = t.paths as [string, string];
  const lines = text.split("\n").length - 1;
  await append(a, text);
  await waitFor(() => t.lines.length === lines);
  await append(b, "b 1\n");
  await waitFor(() => t.lines.length === lines + 1);
  await waitFor(() => t.followers[0]!.current?.parked === true);
}

/** Open descriptors of this process that point into `dir`. */
async function openIn(dir: string): Promise<number> {
  let count = 0;
  for await (const entry of Deno.readDir("/proc/self/fd")) {
    try {
      if ((await Deno.readLink(`/proc/self/fd/${entry.name}`)).startsWith(dir)) count++;
    } catch {
      // Closed meanwhile.
    }
  }
  return count;
}

Deno.test("FileFollower under a budget keeps at most that many files open and reads them all", async () => {
  await using t = await setup(20, 4);
  assert.ok(t.budget.open <= 4, `${t.budget.open} files open`);
  for (let round = 0; round < 3; round++) {
    for (const path of t.paths) await append(path, `${round} of ${path}\n`);
  }
  await waitFor(() => t.lines.length === 60);
  for (const path of t.paths) {
    assert.deepEqual(t.texts(path), [0, 1, 2].map((r) => `${r} of ${path}`));
  }
  // Exceeded only for a moment while the least recently used file is being read.
  await waitFor(async () => t.budget.open <= 4 && await openIn(t.dir) <= 4);
  assert.ok(t.budget.evictions > 0);
});

Deno.test("FileFollower reads a file renamed while closed for the budget from its new name, on the same stream", async () => {
  await using t = await setup(2, 1);
  const a = t.paths[0]!;
  await closeFirstForBudget(t, "a 1\n");
  const stream = t.followers[0]!.current!.stream;
  // a grows, then is rotated while closed, and a new a is created.
  await append(a, "a 2\n");
  await Deno.rename(a, `${a}.1`);
  await Deno.writeTextFile(a, "new a 1\n");
  await waitFor(() => t.texts(a).length === 3);
  assert.deepEqual(t.texts(a), ["a 1", "a 2", "new a 1"]);
  const streams = t.lines.filter((l) => l.path === a).map((l) => l.stream);
  assert.deepEqual(streams.slice(0, 2), [stream, stream]);
  assert.notEqual(streams[2], stream);
  assert.equal(t.followers[0]!.stats.rotations, 1);
});

Deno.test("FileFollower reports a gap for a file removed while closed for the budget before it was read", async () => {
  await using t = await setup(2, 1);
  const a = t.paths[0]!;
  await closeFirstForBudget(t, "a 1\n");
  // The sweep learns a's new size without opening it; then a is gone.
  t.followers[0]!.current!.knownSize = 8;
  await Deno.remove(a);
  await waitFor(() => t.texts(a).length === 2);
  // A new file at the path (its inode may be the old one's: the first bytes tell them apart).
  await Deno.writeTextFile(a, "new a 1\n");
  await waitFor(() => t.texts(a).length === 3);
  const texts = t.texts(a);
  assert.equal(texts[0], "a 1");
  assert.match(texts[1]!, new RegExp(`gap: 4 bytes .* ${GAP_REASON_ROTATED_WHILE_CLOSED}`));
  assert.equal(texts[2], "new a 1");
});

Deno.test("FileFollower sees a file truncated while closed for the budget as truncated", async () => {
  await using t = await setup(2, 1);
  const a = t.paths[0]!;
  await closeFirstForBudget(t, "a 1\na 2\n");
  const stream = t.followers[0]!.current!.stream;
  await Deno.truncate(a, 0);
  await append(a, "after 1\n");
  await waitFor(() => t.texts(a).length === 3);
  assert.deepEqual(t.texts(a), ["a 1", "a 2", "after 1"]);
  assert.notEqual(t.lines.at(-1)!.stream, stream);
  assert.equal(t.followers[0]!.stats.truncations, 1);
});

Deno.test("FileFollower keeps a rotated file open outside the budget until it is read to its end", async () => {
  await using t = await setup(3, 1);
  const [a, b, c] = t.paths as [string, string, string];
  const writer = await Deno.open(a, { append: true });
  try {
    await writer.write(new TextEncoder().encode("a 1\n"));
    await waitFor(() => t.lines.length === 1);
    // Renamed while open: the writer goes on writing into the renamed file.
    await Deno.rename(a, `${a}.1`);
    await waitFor(() => t.followers[0]!.stats.rotations === 1);
    await append(b, "b 1\n");
    await append(c, "c 1\n");
    await writer.write(new TextEncoder().encode("a 2\n"));
    await waitFor(() => t.lines.length === 4);
    assert.deepEqual(t.texts(a), ["a 1", "a 2"]);
    const rotated = t.followers[0]!.incarnations[0]!;
    assert.equal(rotated.rotated, true);
    assert.notEqual(rotated.file, undefined, "the rotated file keeps its handle");
  } finally {
    writer.close();
  }
});
