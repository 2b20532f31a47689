import assert from "node:assert/strict";
import { linearRegexSupport } from "./linear_regex.ts";
import { BUILTIN_RULES } from "./builtin_rules.ts";
import { buildRuleSet, type RuleDefinition } from "./rule.ts";

const base: RuleDefinition = {
  id: 100001,
  level: 7,
  description: "app: crashed",
  match: { program: "app", regex: "crashed in (?<module>\\S+)" },
};

function rejects(
  rules: unknown[],
  message: RegExp,
  builtins: readonly RuleDefinition[] = [],
): void {
  assert.throws(() => buildRuleSet(rules, builtins), (error: Error) => {
    assert.ok(error instanceof SyntaxError);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("buildRuleSet() normalizes a rule and derives its fold fields", () => {
  const [rule] = buildRuleSet([base]).rules;
  assert.deepEqual(rule!.programs, ["app"]);
  assert.deepEqual(rule!.captures, ["module"]);
  assert.deepEqual(rule!.foldBy, ["host", "module"]);
  assert.equal(rule!.foldSeconds, 300);
  assert.deepEqual(buildRuleSet({ rules: [base] }).rules, buildRuleSet([base]).rules);
});

Deno.test("buildRuleSet() rejects bad rules naming the rule and the field", () => {
  rejects(
    [{ ...base, level: 16 }],
    /^Invalid rule 100001: level: expected an integer from 0 to 15/,
  );
  rejects([{ ...base, frequancy: {} }], /^Invalid rule 100001: frequancy: unknown field/);
  rejects([{ ...base, match: { regex: "(open" } }], /^Invalid rule 100001: match\.regex: /);
  if (linearRegexSupport().linearFlag) {
    // V8's linear engine decides: it runs (\w+\s?)+ in linear time, and refuses what it cannot.
    buildRuleSet([{ ...base, match: { regex: "^(\\w+\\s?)+$" } }]);
    rejects(
      [{ ...base, match: { regex: "^(a+){1,50}$" } }],
      /match\.regex: cannot run in time linear/,
    );
    rejects([{ ...base, match: { regex: "(a)\\1" } }], /match\.regex: cannot run in time linear/);
  } else {
    rejects([{ ...base, match: { regex: "^(\\w+\\s?)+$" } }], /match\.regex: .*catastrophic/);
  }
  rejects([{ ...base, mitre: ["T11", "T1110"] }], /mitre\[0\]: invalid MITRE ATT&CK technique T11/);
  rejects([{ ...base, match: { contains: [] } }], /match\.contains: expected at least one value/);
  rejects([{ ...base, match: { msgid: "x", params: ["host"] } }], /parameter host clashes/);
  rejects([{ ...base, match: { regex: "(?<host>\\S+)" } }], /named group host clashes/);
  rejects([{ ...base, match: {} }], /match: needs at least one of/);
  rejects([{ ...base, match: { parent: 5 } }], /match\.parent: no rule has id 5/);
  rejects([{ ...base, sameField: "module" }], /sameField: needs frequency or after/);
  rejects(
    [{ ...base, frequency: { count: 3, withinSeconds: 60 }, sameField: "srcip" }],
    /sameField: field srcip is not captured by this rule or its parents/,
  );
  rejects([base, { ...base }], /^Invalid rule 100001: id: already used by another rule/);
  rejects([{ description: "x" }], /^Invalid rule #1 \(no valid id\): id: /);
  rejects(
    [{ ...base, id: 100002, match: { parent: 100003 } }, {
      ...base,
      id: 100003,
      match: { parent: 100002 },
    }],
    /parents form a cycle/,
  );
  rejects(
    [{ ...base, frequency: { count: 2, withinSeconds: 5 } }, {
      ...base,
      id: 100002,
      match: { parent: 100001 },
    }],
    /rule 100001 correlates events .* cannot be a parent/,
  );
  rejects([{ ...base, match: { program: "x", minSeverity: "loud" } }], /minSeverity: expected 0-7/);
});

Deno.test("buildRuleSet() lets a user rule replace a built-in one only with overwrite", () => {
  const replacing = {
    ...base,
    id: 5716,
    match: { program: "sshd", regex: "^Failed \\S+ for (?<user>\\S+) from (?<srcip>\\S+)" },
  };
  rejects([replacing], /id: already used by a built-in rule \(add overwrite: true/, BUILTIN_RULES);
  // Rules that depend on it are checked against the replacement.
  rejects(
    [{ ...base, id: 5716, overwrite: true }],
    /Invalid rule 5720: sameField: field srcip is not captured/,
    BUILTIN_RULES,
  );
  const set = buildRuleSet([{ ...replacing, level: 0, overwrite: true }], BUILTIN_RULES);
  assert.equal(set.rules.find((r) => r.id === 5716)!.level, 0);
  assert.equal(set.rules.length, BUILTIN_RULES.length);
  rejects([{ ...base, overwrite: true }], /overwrite: there is no built-in rule/, BUILTIN_RULES);
});

Deno.test("buildRuleSet() checks sameField against the rules an after condition counts", () => {
  const failures: RuleDefinition = {
    id: 100010,
    level: 3,
    description: "vpn: failed",
    match: { program: "vpn", regex: "auth failed for (?<user>\\S+)" },
  };
  rejects([failures, {
    id: 100011,
    level: 9,
    description: "vpn: success after failures",
    match: { program: "vpn", regex: "login of (?<user>\\S+) from (?<srcip>\\S+)" },
    after: { rules: 100010, withinSeconds: 60 },
    sameField: "srcip",
  }], /sameField \(as seen by rule 100010\): field srcip is not captured/);
});

Deno.test("buildRuleSet() reads contains lists, msgid, params, internal and mitre", () => {
  const [rule] = buildRuleSet([{
    id: 100020,
    level: 5,
    description: "nms: failed login",
    mitre: ["T1110.001"],
    match: {
      program: "nms-server",
      internal: true,
      msgid: "login-failed",
      params: ["user", "srcip"],
    },
    foldBy: "srcip",
  }, {
    id: 100021,
    level: 4,
    description: "app: one of",
    match: { contains: ["alpha", "beta"] },
  }, {
    id: 100022,
    level: 10,
    description: "nms: many failures",
    match: { parent: 100020 },
    frequency: { count: 3, withinSeconds: 60 },
    sameField: "srcip",
  }, {
    id: 100023,
    level: 12,
    description: "app: after a brute force",
    match: { program: "nms-server", msgid: "login-ok", params: ["srcip"] },
    after: { rules: 100022, withinSeconds: 60 },
    sameField: "srcip",
  }]).rules;
  assert.deepEqual(rule!.params, ["user", "srcip"]);
  assert.equal(rule!.msgid, "login-failed");
  assert.equal(rule!.internal, true);
  assert.deepEqual(rule!.mitre, ["T1110.001"]);
});
