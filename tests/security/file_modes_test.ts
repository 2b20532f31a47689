/**
 * The database is readable by the server's user only, whatever the umask:
 * the data directory the server creates is 0700, the database and its `-wal`
 * and `-shm` files are 0600, and the files of an older, world-readable
 * database are tightened when it is opened.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../../server/mod.ts";
import { watchChild } from "../_harness/watched_child.ts";
import { waitFor } from "../_harness/wait_for.ts";

async function mode(path: string): Promise<string> {
  return ((await Deno.stat(path)).mode! & 0o777).toString(8).padStart(4, "0");
}

Deno.test("under umask 022 the server creates its data directory 0700 and the database, WAL and shm files 0600", async () => {
  const root = await Deno.makeTempDir({ prefix: "nms-modes-" });
  try {
    const dataDir = join(root, "data");
    const db = join(dataDir, "nms.db");
    const main = join(import.meta.dirname!, "../../server/main.ts");
    const command = [Deno.execPath(), "run", "-A", main, "serve", "--port", "0", "--host"]
      .concat(["127.0.0.1", "--http-port", "0", "--workers", "1", "--db", db])
      .map((arg) => `'${arg}'`).join(" ");
    const child = new Deno.Command("sh", {
      args: ["-c", `umask 022 && exec ${command}`],
      env: { NMS_ADMIN_PASSWORD: "admin" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const watched = watchChild(child);
    try {
      await waitFor(() => watched.stderr().includes("Listening for agents"), {
        timeoutMs: 30_000,
      });
      await waitFor(async () => (await Deno.stat(`${db}-shm`).catch(() => null)) !== null);
      assert.deepEqual(
        {
          dir: await mode(dataDir),
          db: await mode(db),
          wal: await mode(`${db}-wal`),
          shm: await mode(`${db}-shm`),
        },
        { dir: "0700", db: "0600", wal: "0600", shm: "0600" },
      );
    } finally {
      await watched.stop("SIGTERM");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("opening a world-readable database from an older version makes its files 0600", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-modes-" });
  try {
    const db = join(dir, "nms.db");
    await (await openSqliteStore(db)).close();
    await Deno.chmod(db, 0o644);
    const store = await openSqliteStore(db);
    try {
      assert.equal(await mode(db), "0600");
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
