/**
 * A model-based test of {@linkcode FileFollower} (STYLE.md practice 18):
 * seeded random sequences of appends, partial lines, rotations (with the
 * writer still appending to the renamed file), copytruncate truncations and
 * delete-and-recreate, against a model of which lines were written. Every
 * line must arrive exactly once, and each stream's positions must increase.
 * The same sequences run again with an open-files budget of one file that
 * another holder takes at random moments, so the follower's file is closed
 * and reopened by path between (and across) the actions.
 *
 * Replay or widen the search with `MODEL_SEEDS=7,8,9 MODEL_STEPS=500 deno
 * test -A agent/file_follower_model_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../../tests/_harness/wait_for.ts";
import { prng } from "../../tests/_harness/prng.ts";
import { FileFollower } from "./file_follower.ts";
import type { Incarnation } from "./incarnation.ts";
import { OpenFileBudget } from "./open_file_budget.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function runModel(seed: number, steps: number, closeWhileIdle = false): Promise<void> {
  const random = prng(seed);
  // Its own numbers, so the actions are the same with and without the budget.
  const evictRandom = prng(seed + 1_000_003);
  const budget = closeWhileIdle ? new OpenFileBudget(1) : undefined;
  const otherHolder = { release: () => true };
  const pick = (n: number) => Math.floor(random() * n);
  const dir = await Deno.makeTempDir({ prefix: "nms-model-test-" });
  const path = join(dir, "app.log");
  await Deno.writeTextFile(path, "");
  const received: { stream: string; text: string; end: number }[] = [];
  const consumer = {
    hasRoom: () => true,
    line(inc: Incarnation, bytes: Uint8Array, end: number) {
      received.push({ stream: inc.stream, text: decoder.decode(bytes), end });
      inc.inFlight++;
      inc.acknowledge(end);
    },
    overflow: () => assert.fail("no line is too long here"),
  };
  const follower: FileFollower = new FileFollower(path, {
    pollIntervalMs: 25,
    rotatedIdleMs: 30,
    onChange: () => void follower.read(consumer),
    ...(budget !== undefined ? { openFiles: budget } : {}),
  });
  await follower.start();
  let writer = await Deno.open(path, { append: true });
  const expected: string[] = [];
  let next = 0;
  let partial: string | undefined;
  let rotations = 0;
  const write = (text: string) => writer.write(encoder.encode(text));
  const changes = () => follower.stats.truncations + follower.stats.rotations;
  const caughtUp = () =>
    waitFor(() => received.length === expected.length, {
      message: `seed ${seed}: ${expected.length} lines, got ${received.length}`,
    });
  const finishPartial = async () => {
    if (partial === undefined) return;
    await write(" done\n");
    expected.push(`${partial} done`);
    partial = undefined;
  };
  /**
   * A line read from the file the path names now: closed for the budget, the
   * follower's view of its file is only as new as its last look, and an
   * inode number freed by a deleted file is often given to the next one.
   */
  const seen = async () => {
    await finishPartial();
    const marker = `seed ${seed} marker ${next++}`;
    expected.push(marker);
    await write(marker + "\n");
    await caughtUp();
  };
  // A file renamed away before the follower ever opened it cannot be found
  // again (its new name is unknown): rotate only files the follower holds.
  const opened = async () => {
    if (budget !== undefined) await seen();
    await waitFor(async () => {
      const ino = (await Deno.stat(path)).ino;
      return follower.current !== undefined && follower.current.identity.ino === ino;
    }, { message: `seed ${seed}: follower opened the current file` });
  };
  try {
    for (let step = 0; step < steps; step++) {
      // Another file takes the budget: the follower's file closes once idle.
      if (budget !== undefined && evictRandom() < 0.5) budget.opened(otherHolder);
      const action = pick(10);
      if (action < 4) {
        // Append complete lines, sometimes many at once.
        const count = 1 + pick(action === 0 ? 500 : 20);
        await finishPartial();
        let text = "";
        for (let i = 0; i < count; i++) {
          const line = `seed ${seed} line ${next++} ${"x".repeat(pick(80))}`;
          expected.push(line);
          text += line + "\n";
        }
        await write(text);
      } else if (action < 6) {
        // Start or finish a line in two writes.
        if (partial === undefined) {
          partial = `seed ${seed} partial ${next++}`;
          await write(partial);
        } else {
          await finishPartial();
        }
      } else if (action === 6) {
        // Rotate: rename, the writer keeps appending to the old file a bit, then reopens.
        await finishPartial();
        await opened();
        await Deno.rename(path, `${path}.${++rotations}`);
        const late = `seed ${seed} late ${next++}`;
        expected.push(late);
        await write(late + "\n");
        writer.close();
        writer = await Deno.open(path, { append: true, create: true });
      } else if (action === 7) {
        // copytruncate: everything written so far was read (and "copied"), then truncate.
        await finishPartial();
        await caughtUp();
        const before = changes();
        const emptyAlready = (await Deno.stat(path)).size === 0;
        await Deno.truncate(path, 0);
        // Wait until the follower noticed, as a copytruncate between two reads
        // of a fast-growing file is an inherent race (see file_follower.ts).
        if (!emptyAlready) {
          await waitFor(() => changes() > before, { message: `seed ${seed}: truncation` });
        }
      } else if (action === 8) {
        // Delete and recreate (the inode number may be reused).
        await finishPartial();
        await caughtUp();
        await opened();
        const before = changes();
        writer.close();
        await Deno.remove(path);
        writer = await Deno.open(path, { append: true, create: true });
        if (budget !== undefined) {
          // Closed for the budget, the old file may hand its inode number to
          // the new one, which then looks like it when both are empty.
          await seen();
        } else {
          await waitFor(() => changes() > before, { message: `seed ${seed}: recreate` });
        }
      } else {
        await caughtUp();
      }
    }
    await finishPartial();
    await caughtUp();
    assert.deepEqual(received.map((r) => r.text).sort(), [...expected].sort());
    const lastEnd = new Map<string, number>();
    for (const { stream, end } of received) {
      assert.ok(end > (lastEnd.get(stream) ?? 0), `seed ${seed}: positions increase per stream`);
      lastEnd.set(stream, end);
    }
  } finally {
    writer.close();
    await follower.close();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const seed of (Deno.env.get("MODEL_SEEDS") ?? "1,2,3,42").split(",").map(Number)) {
  Deno.test(`FileFollower delivers every line exactly once in a random scenario (seed ${seed})`, async () => {
    await runModel(seed, Number(Deno.env.get("MODEL_STEPS") ?? 60));
  });
  Deno.test(`FileFollower delivers every line exactly once while closed for a budget at random (seed ${seed})`, async () => {
    await runModel(seed, Number(Deno.env.get("MODEL_STEPS") ?? 60), true);
  });
}
