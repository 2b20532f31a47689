import assert from "node:assert/strict";
import { join } from "node:path";
import { openStore, parseStoreUrl } from "./open_store.ts";
import { StoreError } from "./store.ts";

Deno.test("parseStoreUrl() selects PostgreSQL for postgres:// and postgresql:// URLs", () => {
  for (const url of ["postgres://nms@db:5432/nms", "postgresql://nms:pw@db/nms?schema=logs"]) {
    assert.deepEqual(parseStoreUrl(url), { kind: "postgres", url });
  }
});

Deno.test("parseStoreUrl() selects SQLite for sqlite:PATH and plain paths", () => {
  assert.deepEqual(parseStoreUrl("sqlite:./data/nms.db"), {
    kind: "sqlite",
    path: "./data/nms.db",
  });
  assert.deepEqual(parseStoreUrl("sqlite:///var/lib/nms.db"), {
    kind: "sqlite",
    path: "/var/lib/nms.db",
  });
  assert.deepEqual(parseStoreUrl("data/nms.db"), { kind: "sqlite", path: "data/nms.db" });
  assert.deepEqual(parseStoreUrl(":memory:"), { kind: "sqlite", path: ":memory:" });
});

Deno.test("parseStoreUrl() rejects other schemes and empty values, naming the value", () => {
  for (const url of ["mysql://root@db/nms", "", "  ", "postgres:/nms", "sqlite:", "http://x/y"]) {
    assert.throws(
      () => parseStoreUrl(url),
      (error: unknown) =>
        error instanceof StoreError && error.code === "invalid" &&
        error.message.startsWith("Invalid store"),
      url,
    );
  }
});

Deno.test("parseStoreUrl() never repeats a password in its error", () => {
  assert.throws(
    () => parseStoreUrl("mysql://root:hunter2@db/nms"),
    (error: unknown) => error instanceof Error && !error.message.includes("hunter2"),
  );
});

Deno.test("openStore() opens a SQLite store from sqlite:PATH", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-open-store-" });
  try {
    const store = await openStore(`sqlite:${join(dir, "nms.db")}`);
    assert.equal(await store.countUsers(), 0);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
