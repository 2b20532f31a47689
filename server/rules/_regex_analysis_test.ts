import assert from "node:assert/strict";
import { nestedQuantifier, requiredLiteral } from "./_regex_analysis.ts";

Deno.test("requiredLiteral() finds the longest text every match contains", () => {
  assert.equal(
    requiredLiteral("^Failed (?<m>\\S+) for (?<u>.*) from (?<ip>\\S+) port \\d+"),
    "Failed ",
  );
  assert.equal(requiredLiteral("^Invalid user (?<u>.*) from"), "Invalid user ");
  assert.equal(requiredLiteral("segfault at (?<a>[0-9a-f]+)"), "segfault at ");
  assert.equal(requiredLiteral("\\[preauth\\]$"), "[preauth]");
  assert.equal(requiredLiteral("abcx?yz"), "abc"); // "x" is optional
  assert.equal(requiredLiteral("abcd+e"), "abcd");
  assert.equal(requiredLiteral("\\x41\\x42\\x43BC"), null); // escapes are not literal text here
  assert.equal(requiredLiteral("one|two three"), null);
  assert.equal(requiredLiteral("a{0,3}bc"), null);
  assert.equal(requiredLiteral("\\d+\\s+"), null);
});

Deno.test("requiredLiteral() never returns text a matching line may lack", () => {
  const cases: [string, string][] = [
    ["colou?r red", "color red"],
    ["ab(cd)?ef", "abef"],
    ["x[abc]yz", "xbyz"],
    ["fo{1,2}bar", "foobar"],
    ["a\\.b\\.c", "a.b.c"],
  ];
  for (const [source, line] of cases) {
    assert.ok(new RegExp(source).test(line));
    const literal = requiredLiteral(source);
    if (literal !== null) assert.ok(line.includes(literal), `${source} -> ${literal}`);
  }
});

Deno.test("nestedQuantifier() flags repeated groups that repeat without bound inside", () => {
  assert.equal(nestedQuantifier("^(a+)+$"), "(a+)");
  assert.equal(nestedQuantifier("(?:\\s*x)*"), "(?:\\s*x)");
  assert.equal(nestedQuantifier("((ab)*c)+"), "((ab)*c)");
  assert.equal(nestedQuantifier("^Failed (?<m>\\S+) for (?<u>.*) from"), null);
  assert.equal(nestedQuantifier("(?:(?:a|b) user (?<u>.*) )?x"), null);
  assert.equal(nestedQuantifier("[(+]+(a)+"), null);
});
