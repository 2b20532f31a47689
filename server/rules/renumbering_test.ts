import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SQLITE_MIGRATIONS } from "../store/migrations.ts";
import { POSTGRES_MIGRATIONS } from "../store/postgres_migrations.ts";
import { RENUMBERED_RULE_IDS } from "./builtin_rules.ts";

const NAME = "built-in rules renumbered to Wazuh's ids";

Deno.test("the renumbering migration moves old alerts to the rule of the same meaning, fold keys included", () => {
  const migration = SQLITE_MIGRATIONS.find((m) => m.name === NAME)!;
  const db = new DatabaseSync(":memory:");
  try {
    db.exec("CREATE TABLE alerts (id INTEGER PRIMARY KEY, rule_id INTEGER, fold_key TEXT)");
    const insert = db.prepare("INSERT INTO alerts (rule_id, fold_key) VALUES (?, ?)");
    for (const [old] of RENUMBERED_RULE_IDS) insert.run(old, `${old}\u0001203.0.113.7`);
    insert.run(100001, "100001\u0001x"); // a user rule keeps its id
    db.exec(migration.sql);
    const rows = db.prepare("SELECT rule_id, fold_key FROM alerts ORDER BY id").all() as {
      rule_id: number;
      fold_key: string;
    }[];
    assert.deepEqual(
      rows.map((r) => [r.rule_id, r.fold_key]),
      [
        ...RENUMBERED_RULE_IDS.map(([, now]) => [now, `${now}\u0001203.0.113.7`]),
        [100001, "100001\u0001x"],
      ],
    );
  } finally {
    db.close();
  }
});

Deno.test("SQLite and PostgreSQL renumber with the same statement", () => {
  const sqlite = SQLITE_MIGRATIONS.find((m) => m.name === NAME)!.sql;
  assert.equal(POSTGRES_MIGRATIONS.find((m) => m.name === NAME)!.sql, sqlite);
});
