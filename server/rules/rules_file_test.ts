import assert from "node:assert/strict";
import { join } from "node:path";
import { BUILTIN_RULES } from "./builtin_rules.ts";
import { loadRulesFile, parseRulesText } from "./rules_file.ts";

const YAML = `
# Alert when the backup job dies.
rules:
  - id: 100001
    level: 7
    description: "backup: job died"
    groups: [backup]
    match:
      program: backup
      regex: 'job (?<job>\\S+) died'
`;

Deno.test("parseRulesText() reads YAML and JSON and puts the built-in rules first", () => {
  const set = parseRulesText(YAML, "rules.yaml");
  assert.equal(set.rules.length, BUILTIN_RULES.length + 1);
  assert.equal(set.rules.at(-1)!.id, 100001);
  assert.deepEqual(set.rules.at(-1)!.captures, ["job"]);
  const json = JSON.stringify([{
    id: 100002,
    level: 3,
    description: "x",
    match: { contains: "x" },
  }]);
  assert.equal(parseRulesText(json, "rules.json", { builtin: false }).rules.length, 1);
  assert.equal(parseRulesText("", "empty.yaml").rules.length, BUILTIN_RULES.length);
});

Deno.test("parseRulesText() names the file, rule and field of a mistake", () => {
  assert.throws(
    () => parseRulesText(YAML.replace("level: 7", "level: 70"), "rules.yaml"),
    /^SyntaxError: Invalid rules file rules\.yaml: Invalid rule 100001: level: expected an integer from 0 to 15, got 70$/,
  );
  assert.throws(
    () => parseRulesText("rules: [", "r.yaml"),
    /^SyntaxError: Invalid rules file r\.yaml: /,
  );
  assert.throws(() => parseRulesText("{", "r.json"), /^SyntaxError: Invalid rules file r\.json: /);
  assert.throws(
    () => parseRulesText("just text", "r.yaml"),
    /Rules must be a list of rules, or an object with a rules list/,
  );
});

Deno.test("loadRulesFile() reads a file and reports a missing one by name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "rules.yml");
    await Deno.writeTextFile(path, YAML);
    assert.equal((await loadRulesFile(path)).rules.at(-1)!.id, 100001);
    await assert.rejects(
      () => loadRulesFile(join(dir, "missing.yaml")),
      /^SyntaxError: Cannot read rules file .*missing\.yaml: /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
