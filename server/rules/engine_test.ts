import assert from "node:assert/strict";
import { emptyMatches, MAX_RULE_INPUT_CHARS, RuleEngine } from "./engine.ts";
import { buildRuleSet, type RuleDefinition } from "./rule.ts";

const rules: RuleDefinition[] = [
  {
    id: 100,
    level: 5,
    description: "vpn failure",
    match: { program: "vpn", regex: "auth failed for (?<user>\\S+)" },
  },
  {
    id: 101,
    level: 0,
    description: "vpn failure of the monitoring probe: ignored",
    match: { parent: 100, regex: "for probe$" },
  },
  {
    id: 102,
    level: 9,
    description: "vpn failure of root",
    match: { parent: 100, regex: "for (?<target>root)$" },
  },
  {
    id: 103,
    level: 4,
    description: "any panic",
    match: { contains: "panic:", minSeverity: "err" },
  },
  {
    id: 104,
    level: 8,
    description: "vpn failure burst",
    match: { parent: 100 },
    frequency: { count: 3, withinSeconds: 60 },
    sameField: "user",
  },
];
const engine = new RuleEngine(buildRuleSet(rules));

function run(program: string | null, message: string, severity = 6) {
  const sink = emptyMatches();
  engine.match(7, program, message, severity, sink);
  return sink.rule.map((rule, k) => ({ rule, index: sink.index[k], fields: sink.fields[k] }));
}

Deno.test("RuleEngine.match() reports the most specific matching child instead of its parent", () => {
  assert.deepEqual(run("vpn", "auth failed for alice"), [
    { rule: 100, index: 7, fields: { user: "alice" } },
    { rule: 104, index: 7, fields: { user: "alice" } },
  ]);
  assert.deepEqual(run("vpn", "auth failed for root"), [
    { rule: 102, index: 7, fields: { user: "root", target: "root" } },
  ]);
  // A level-0 child silences the parent (and the correlation rules hanging off it).
  assert.deepEqual(run("vpn", "auth failed for probe"), []);
});

Deno.test("RuleEngine.match() applies program, severity and substring conditions", () => {
  assert.deepEqual(run("ssh", "auth failed for alice"), []);
  assert.deepEqual(run(null, "auth failed for alice"), []);
  assert.deepEqual(run("kernel", "panic: out of luck", 3).map((m) => m.rule), [103]);
  assert.deepEqual(run("kernel", "panic: out of luck", 6), [], "info is below err");
  assert.deepEqual(run("kernel", "panic: out of luck", -1), [], "unknown severity");
  assert.deepEqual(run("vpn", "panic: tunnel", 2).map((m) => m.rule), [103]);
});

Deno.test("RuleEngine.match() with no rules matches nothing", () => {
  const empty = new RuleEngine(buildRuleSet([]));
  const sink = emptyMatches();
  assert.equal(empty.match(0, "sshd", "Failed password for root", 3, sink), 0);
});

Deno.test("RuleEngine looks at a message's first MAX_RULE_INPUT_CHARS only, and its literal gate changes no result", () => {
  const engine = new RuleEngine(buildRuleSet([
    { id: 200, level: 3, description: "tail", match: { regex: "tail-marker$" } },
    { id: 201, level: 3, description: "head", match: { contains: "head-marker" } },
    { id: 202, level: 3, description: "either", match: { contains: ["alpha", "beta"] } },
    { id: 203, level: 3, description: "no literal", match: { regex: "^\\d+$" } },
  ]));
  const ids = (message: string) => {
    const sink = emptyMatches();
    engine.match(0, "x", message, 6, sink);
    return sink.rule.sort();
  };
  const long = "head-marker " + "y".repeat(MAX_RULE_INPUT_CHARS) + " tail-marker";
  assert.deepEqual(ids(long), [201]);
  assert.deepEqual(ids("head-marker tail-marker"), [200, 201]);
  assert.deepEqual(ids("a beta b"), [202]);
  assert.deepEqual(ids("12345"), [203]);
  assert.deepEqual(ids("nothing here"), []);
});
