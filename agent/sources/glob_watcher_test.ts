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

Deno.test("GlobWatcher.scan() follows ** through every directory below, none hidden, no links", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-glob-watcher-" });
  try {
    for (const sub of ["", "a", "a/b", "a/b/c", ".hidden", "x"]) {
      await Deno.mkdir(join(dir, sub), { recursive: true });
      await Deno.writeTextFile(join(dir, sub, "app.log"), "");
      await Deno.writeTextFile(join(dir, sub, "app.txt"), "");
    }
    await Deno.symlink(join(dir, "a"), join(dir, "linked"));
    await using watcher = new GlobWatcher(join(dir, "**", "*.log"));
    assert.deepEqual(
      await watcher.scan(),
      ["a/app.log", "a/b/app.log", "a/b/c/app.log", "app.log", "x/app.log"].map((p) =>
        join(dir, p)
      ),
    );
    await using below = new GlobWatcher(join(dir, "a", "**"));
    assert.deepEqual(
      await below.scan(),
      ["a/app.log", "a/app.txt", "a/b/app.log", "a/b/app.txt", "a/b/c/app.log", "a/b/c/app.txt"]
        .map((p) => join(dir, p)),
    );
    await using middle = new GlobWatcher(join(dir, "**", "c", "*.log"));
    assert.deepEqual(await middle.scan(), [join(dir, "a/b/c/app.log")]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GlobWatcher.scan() matches each {a,b} alternative once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-glob-watcher-" });
  try {
    for (const sub of ["nginx", "apache2", "mysql"]) {
      await Deno.mkdir(join(dir, sub));
      for (const name of ["access.log", "error.log", "other.log"]) {
        await Deno.writeTextFile(join(dir, sub, name), "");
      }
    }
    await using watcher = new GlobWatcher(join(dir, "{nginx,apache2}", "{access,err*}.log"));
    assert.deepEqual(
      await watcher.scan(),
      ["apache2/access.log", "apache2/error.log", "nginx/access.log", "nginx/error.log"].map((p) =>
        join(dir, p)
      ),
    );
    await using overlapping = new GlobWatcher(join(dir, "{nginx,*}", "access.log"));
    assert.equal((await overlapping.scan()).length, 3, "nginx/access.log once");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GlobWatcher under ** reports a file in a new sub-directory through its watches", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-glob-watcher-" });
  try {
    let changes = 0;
    await using watcher = new GlobWatcher(join(dir, "**", "*.log"), {
      rescanIntervalMs: 60_000,
      onChange: () => changes++,
    });
    assert.deepEqual(await watcher.scan(), []);
    /** Runs an action and waits until the watch reports something after it began. */
    const changeAfter = async (action: () => Promise<unknown>) => {
      const seen = changes;
      await action();
      const deadline = Date.now() + 10_000;
      while (changes === seen && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(changes > seen, "the watch reported the change");
    };
    // The directory is watched once the hub has made its watcher: it says "look again" then.
    await changeAfter(() => Promise.resolve(watcher.start()));
    await changeAfter(() => Deno.mkdir(join(dir, "pod-1")));
    await watcher.scan();
    await changeAfter(() => Deno.mkdir(join(dir, "pod-1", "app")));
    await watcher.scan();
    await changeAfter(() => Deno.writeTextFile(join(dir, "pod-1", "app", "0.log"), "hello\n"));
    assert.deepEqual(await watcher.scan(), [join(dir, "pod-1", "app", "0.log")]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
