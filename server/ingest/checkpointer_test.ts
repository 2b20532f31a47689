import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { Checkpointer, type CheckpointPass } from "./checkpointer.ts";

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("the checkpoint worker copies the writer's commits into the database file", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "nms.db");
  const writer = new DatabaseSync(path);
  const passes: CheckpointPass[] = [];
  const checkpointer = new Checkpointer(
    path,
    (message) => assert.fail(message),
    (pass) => passes.push(pass),
  );
  try {
    writer.exec("PRAGMA journal_mode = WAL");
    // As the writer runs with a checkpointer: no checkpoint of its own before this size.
    writer.exec("PRAGMA wal_autocheckpoint = 10000");
    writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)");
    const insert = writer.prepare("INSERT INTO t (text) VALUES (?)");
    writer.exec("BEGIN");
    for (let i = 0; i < 20_000; i++) insert.run(`line ${i} `.repeat(8));
    writer.exec("COMMIT");
    const pages = writer.prepare("PRAGMA page_count").get()!.page_count as number;
    const pageSize = writer.prepare("PRAGMA page_size").get()!.page_size as number;
    assert.ok((await Deno.stat(path)).size < pages * pageSize / 2, "the commit is only in the log");
    checkpointer.request();
    await until(() => passes.length > 0, "a checkpoint pass");
    assert.ok(passes[0]!.logFrames > 0);
    assert.equal(passes[0]!.checkpointedFrames, passes[0]!.logFrames, "every frame copied");
    assert.equal((await Deno.stat(path)).size, pages * pageSize, "every page in the file");
    // Everything was copied: the writer's next commit starts the log over.
    writer.exec("INSERT INTO t (text) VALUES ('after')");
    const [busy, logFrames] = Object.values(
      writer.prepare("PRAGMA wal_checkpoint(PASSIVE)").get()!,
    ) as number[];
    assert.equal(busy, 0);
    assert.ok(logFrames! < 10, `log restarted, ${logFrames} frames`);
  } finally {
    await checkpointer.close();
    writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint worker that cannot open the database warns instead of failing", async () => {
  const dir = await Deno.makeTempDir();
  const warnings: string[] = [];
  const checkpointer = new Checkpointer(join(dir, "missing", "nms.db"), (m) => warnings.push(m));
  try {
    checkpointer.request();
    await until(() => warnings.length > 0, "the warning");
    assert.match(warnings[0]!, /^Cannot open .*nms\.db: /);
  } finally {
    await checkpointer.close();
    await Deno.remove(dir, { recursive: true });
  }
});
