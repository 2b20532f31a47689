/**
 * Runs the Store conformance suite against SQLite, one temp-dir database per case.
 *
 * @module
 */

import { join } from "node:path";
import { openSqliteStore } from "./sqlite_store.ts";
import { storeConformance } from "./store_conformance.ts";

storeConformance("SqliteStore", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-store-" });
  const path = join(dir, "nms.db");
  const store = await openSqliteStore(path);
  return {
    store,
    openAnother: () => openSqliteStore(path),
    async cleanup() {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
