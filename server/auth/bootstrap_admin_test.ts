import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../store/sqlite_store.ts";
import type { Store } from "../store/store.ts";
import { bootstrapAdmin, INITIAL_PASSWORD_FILE } from "./bootstrap_admin.ts";
import { hashPassword, verifyPassword } from "./password.ts";

/** A fresh SQLite store in its own temp directory, removed on dispose. */
async function tempStore(): Promise<{ dir: string; store: Store } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "nms-bootstrap-" });
  const store = await openSqliteStore(join(dir, "nms.db"));
  return {
    dir,
    store,
    async [Symbol.asyncDispose]() {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("bootstrapAdmin() creates admin with NMS_ADMIN_PASSWORD and writes no file", async () => {
  await using t = await tempStore();
  const result = await bootstrapAdmin(t.store, { dataDir: t.dir, adminPassword: "from env var" });
  assert.deepEqual(result, { created: true, generated: false });
  const admin = await t.store.findUser("admin");
  assert.equal(admin?.role, "admin");
  assert.equal(await verifyPassword("from env var", admin.passwordHash), true);
  assert.ok(!admin.passwordHash.includes("from env var"));
  assert.equal(await exists(join(t.dir, INITIAL_PASSWORD_FILE)), false);
});

Deno.test("bootstrapAdmin() writes a generated password to a 0600 file that logs in", async () => {
  await using t = await tempStore();
  const dataDir = join(t.dir, "not-yet-created");
  const result = await bootstrapAdmin(t.store, { dataDir });
  assert.ok(result.created && result.generated);
  assert.equal(result.file, join(dataDir, INITIAL_PASSWORD_FILE));
  assert.match(result.password, /^[A-Za-z0-9_-]{24}$/);

  const info = await Deno.stat(result.file);
  assert.equal(info.mode! & 0o777, 0o600);
  assert.equal(await Deno.readTextFile(result.file), result.password + "\n");

  const admin = await t.store.findUser("admin");
  assert.equal(admin?.role, "admin");
  assert.equal(await verifyPassword(result.password, admin.passwordHash), true);
  assert.equal(await t.store.countUsers(), 1);
});

Deno.test("bootstrapAdmin() generates a different password each time", async () => {
  await using a = await tempStore();
  await using b = await tempStore();
  const [ra, rb] = await Promise.all([
    bootstrapAdmin(a.store, { dataDir: a.dir }),
    bootstrapAdmin(b.store, { dataDir: b.dir }),
  ]);
  assert.ok(ra.created && ra.generated && rb.created && rb.generated);
  assert.notEqual(ra.password, rb.password);
});

Deno.test("bootstrapAdmin() treats an empty NMS_ADMIN_PASSWORD as absent", async () => {
  await using t = await tempStore();
  const result = await bootstrapAdmin(t.store, { dataDir: t.dir, adminPassword: "" });
  assert.ok(result.created && result.generated);
});

Deno.test("bootstrapAdmin() creates no second admin when users exist", async () => {
  await using t = await tempStore();
  await t.store.createUser("alice", await hashPassword("pw", { logN: 10 }), "viewer");
  const result = await bootstrapAdmin(t.store, { dataDir: t.dir, adminPassword: "ignored" });
  assert.deepEqual(result, { created: false });
  assert.equal(await t.store.countUsers(), 1);
  assert.equal(await t.store.findUser("admin"), undefined);
  assert.equal(await exists(join(t.dir, INITIAL_PASSWORD_FILE)), false);
});

Deno.test("bootstrapAdmin() run twice creates admin only once", async () => {
  await using t = await tempStore();
  const first = await bootstrapAdmin(t.store, { dataDir: t.dir });
  assert.ok(first.created && first.generated);
  const second = await bootstrapAdmin(t.store, { dataDir: t.dir });
  assert.deepEqual(second, { created: false });
  assert.equal(await t.store.countUsers(), 1);
  // The first password still works: a restart does not rotate it.
  const admin = await t.store.findUser("admin");
  assert.equal(await verifyPassword(first.password, admin!.passwordHash), true);
});
