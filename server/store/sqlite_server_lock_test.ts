import assert from "node:assert/strict";
import { join } from "node:path";
import { lockSqliteServer } from "./sqlite_server_lock.ts";
import { StoreError } from "./store.ts";

Deno.test("lockSqliteServer() lets one holder in at a time, and the next one after a release", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-server-lock-" });
  try {
    const path = join(dir, "data", "nms.db");
    const first = await lockSqliteServer(path);
    // Nothing but the lock file beside the database: no journal of it.
    const names = [];
    for await (const entry of Deno.readDir(join(dir, "data"))) names.push(entry.name);
    assert.deepEqual(names.sort(), ["nms.db", "nms.db.lock"]);
    await assert.rejects(
      () => lockSqliteServer(path),
      (error: unknown) =>
        error instanceof StoreError && /Another nms-server is using/.test(error.message),
    );
    first.release();
    first.release(); // idempotent
    const second = await lockSqliteServer(path);
    second.release();
    // Another database next to it is another lock.
    const other = await lockSqliteServer(join(dir, "data", "other.db"));
    (await lockSqliteServer(path)).release();
    other.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lockSqliteServer() is free again once the process that held it is killed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-server-lock-" });
  try {
    const path = join(dir, "nms.db");
    const module = new URL("./sqlite_server_lock.ts", import.meta.url).href;
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const { lockSqliteServer } = await import(${JSON.stringify(module)});
         await lockSqliteServer(${JSON.stringify(path)});
         console.log("held");
         await new Promise(() => setInterval(() => {}, 1000));`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value?.trim(), "held");
    await assert.rejects(() => lockSqliteServer(path), StoreError);
    holder.kill("SIGKILL");
    await holder.status;
    await reader.cancel();
    (await lockSqliteServer(path)).release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
