/**
 * Runs the SecurityStore conformance suite against SQLite (a temp-dir
 * database per case) and PostgreSQL (a fresh schema per case; ignored with
 * the reason when no PostgreSQL is reachable, see tests/_harness/postgres.ts).
 *
 * @module
 */

import { join } from "node:path";
import { pgTestTarget, requirePg, testSchema } from "../../tests/_harness/postgres.ts";
import { openStore } from "./open_store.ts";
import { openSqliteStore } from "./sqlite_store.ts";
import { securityStoreConformance } from "./security_store_conformance.ts";

securityStoreConformance("SqliteStore", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-security-" });
  const store = await openSqliteStore(join(dir, "nms.db"));
  return {
    store,
    async cleanup() {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

const pg = await pgTestTarget();
const ignoreReason = requirePg(pg);

securityStoreConformance("PostgresStore", async () => {
  const schema = testSchema(pg);
  const store = await openStore(schema.url, { maxConnections: 4 });
  return {
    store,
    async cleanup() {
      await store.close();
      await schema.drop();
    },
  };
}, ignoreReason === undefined ? {} : { ignoreReason });
