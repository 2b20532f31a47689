/**
 * Existing databases keep their alerts readable when the built-in rules take
 * Wazuh's ids: the migration moves stored alerts of the old ids to the rule of
 * the same meaning, on PostgreSQL as on SQLite (server/rules/renumbering_test.ts).
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { RENUMBERED_RULE_IDS } from "../server/rules/builtin_rules.ts";
import { POSTGRES_MIGRATIONS } from "../server/store/postgres_migrations.ts";
import { pgTestTarget, requirePg, testSchema } from "./_harness/postgres.ts";

const pg = await pgTestTarget();
const ignoreReason = requirePg(pg);

Deno.test({
  name: "the PostgreSQL renumbering migration moves old alerts and their fold keys",
  ignore: ignoreReason !== undefined,
  async fn() {
    await using schema = testSchema(pg);
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      await sql`CREATE SCHEMA ${sql(schema.name)}`;
      await sql.unsafe(`SET search_path TO ${schema.name}`);
      await sql`CREATE TABLE alerts (id serial PRIMARY KEY, rule_id integer NOT NULL, fold_key text NOT NULL)`;
      for (const [old] of RENUMBERED_RULE_IDS) {
        await sql`INSERT INTO alerts (rule_id, fold_key) VALUES (${old}, ${`${old}\u0001203.0.113.7`})`;
      }
      await sql`INSERT INTO alerts (rule_id, fold_key) VALUES (100001, ${"100001\u0001x"})`;
      const migration = POSTGRES_MIGRATIONS.find((m) =>
        m.name === "built-in rules renumbered to Wazuh's ids"
      )!;
      await sql.unsafe(migration.sql);
      const rows = await sql<{ rule_id: number; fold_key: string }[]>`
        SELECT rule_id, fold_key FROM alerts ORDER BY id`;
      assert.deepEqual(
        rows.map((r) => [r.rule_id, r.fold_key]),
        [
          ...RENUMBERED_RULE_IDS.map(([, now]) => [now, `${now}\u0001203.0.113.7`]),
          [100001, "100001\u0001x"],
        ],
      );
    } finally {
      await sql.end({ timeout: 5 });
    }
  },
});
