import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../../tests/_harness/wait_for.ts";
import { type DirChange, WatchHub } from "./watch_hub.ts";

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "nms-watch-hub-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("WatchHub watches many directories and routes each change to its directory and name", async () => {
  await using dir = await tempDir();
  await using hub = new WatchHub();
  const seen: [string, DirChange][] = [];
  const subscriptions = [];
  for (let i = 0; i < 200; i++) {
    const sub = join(dir.path, `d${i}`);
    await Deno.mkdir(sub);
    subscriptions.push(hub.watch(sub, (change) => seen.push([`d${i}/a.log`, change]), "a.log"));
  }
  const any: DirChange[] = [];
  subscriptions.push(hub.watch(join(dir.path, "d7"), (change) => any.push(change)));
  await waitFor(() => hub.watchedDirs === 200);
  // Each listener heard "look again" once its directory was watched.
  assert.equal(seen.filter(([, c]) => c.name === undefined).length, 200);
  seen.length = 0;
  any.length = 0;
  await Deno.writeTextFile(join(dir.path, "d7", "a.log"), "x\n");
  await Deno.writeTextFile(join(dir.path, "d7", "b.log"), "x\n");
  await Deno.writeTextFile(join(dir.path, "d9", "a.log"), "x\n");
  await waitFor(() => seen.some(([name]) => name === "d9/a.log"));
  await waitFor(() => any.some((c) => c.name === "b.log"));
  assert.ok(
    seen.every(([name, c]) => c.name === "a.log" && ["d7/a.log", "d9/a.log"].includes(name)),
  );
  assert.ok(seen.some(([, c]) => c.kind === "entry"), "the creation");
  assert.ok(seen.some(([, c]) => c.kind === "modify"), "the write");
  for (const subscription of subscriptions) subscription.close();
  await waitFor(() => hub.watchedDirs === 0);
});

Deno.test("WatchHub watches a directory once it exists, and again after it is re-created", async () => {
  await using dir = await tempDir();
  const logs = join(dir.path, "logs");
  await using hub = new WatchHub({ retryIntervalMs: 20 });
  const changes: DirChange[] = [];
  const subscription = hub.watch(logs, (change) => changes.push(change));
  try {
    await Deno.mkdir(logs);
    await waitFor(() => hub.isWatched(logs));
    await Deno.writeTextFile(join(logs, "a.log"), "x\n");
    await waitFor(() => changes.some((c) => c.name === "a.log"));
    await Deno.remove(logs, { recursive: true });
    await Deno.mkdir(logs);
    // Watched anew: a file created in the new directory is reported.
    await waitFor(async () => {
      await Deno.writeTextFile(join(logs, "b.log"), "x\n", { append: true });
      return changes.some((c) => c.name === "b.log");
    });
  } finally {
    subscription.close();
  }
});
