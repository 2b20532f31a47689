import assert from "node:assert/strict";
import { join } from "node:path";
import { GlobWatcher } from "./glob_watcher.ts";
import { ExcludeList } from "./path_glob.ts";

Deno.test("GlobWatcher.scan() lists matching regular files and file links, minus excludes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-glob-watcher-" });
  try {
    for (const name of ["a.log", "b.log", "c.log.gz", "skip.log", "notes.txt"]) {
      await Deno.writeTextFile(join(dir, name), "");
    }
    await Deno.mkdir(join(dir, "dir.log"));
    await Deno.symlink(join(dir, "notes.txt"), join(dir, "link.log"));
    await Deno.symlink(join(dir, "missing"), join(dir, "dangling.log"));
    await Deno.mkdir(join(dir, "sub", "deep"), { recursive: true });
    await Deno.writeTextFile(join(dir, "sub", "x.log"), "");
    await using watcher = new GlobWatcher(join(dir, "*.log"), {
      exclude: new ExcludeList(["skip*"]),
    });
    assert.deepEqual(await watcher.scan(), ["a.log", "b.log", "link.log"].map((n) => join(dir, n)));
    await using nested = new GlobWatcher(join(dir, "*", "*.log"));
    assert.deepEqual(await nested.scan(), [join(dir, "sub", "x.log")]);
    await using absent = new GlobWatcher(join(dir, "nowhere", "*.log"));
    assert.deepEqual(await absent.scan(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GlobWatcher reports a new file in a watched directory through onChange", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-glob-watcher-" });
  try {
    let changes = 0;
    // A rescan interval longer than the test: only the directory watch can report.
    await using watcher = new GlobWatcher(join(dir, "*.log"), {
      rescanIntervalMs: 60_000,
      onChange: () => changes++,
    });
    // As the agent does: scan, then start watching what the scan found.
    assert.deepEqual(await watcher.scan(), []);
    watcher.start();
    await Deno.writeTextFile(join(dir, "new.log"), "hello\n");
    const deadline = Date.now() + 10_000;
    while (changes === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(changes > 0, "the watch reported the new file");
    assert.deepEqual(await watcher.scan(), [join(dir, "new.log")]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
