import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { STATUS_WHERE, STATUS_WHERE_UNINDEXED } from "./_sqlite_agents.ts";
import { openSqliteStore } from "./sqlite_store.ts";
import { AGENT_STATUSES } from "./store.ts";

/** The plan of a page of one status in hostname order, one line per step. */
function plan(db: DatabaseSync, condition: string): string {
  const sql = `EXPLAIN QUERY PLAN SELECT * FROM agents WHERE ${condition}
    ORDER BY hostname, id LIMIT 101 OFFSET 500`;
  const statement = db.prepare(sql);
  statement.setAllowUnknownNamedParameters(true);
  return statement.all({ late: 2, silent: 1 }).map((row) => String(row.detail)).join("\n");
}

Deno.test("a page of one status, unindexed, walks its order's index instead of sorting", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-agents-plan-" });
  try {
    const path = join(dir, "nms.db");
    await (await openSqliteStore(path)).close();
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      for (const status of AGENT_STATUSES) {
        assert.match(plan(db, STATUS_WHERE[status]), /agents_liveness/, status);
        const walk = plan(db, STATUS_WHERE_UNINDEXED[status]);
        assert.doesNotMatch(walk, /agents_liveness|TEMP B-TREE/, status);
        assert.match(walk, /SCAN agents USING INDEX/, status);
      }
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
