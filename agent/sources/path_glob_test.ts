import assert from "node:assert/strict";
import {
  compileGlob,
  compilePathGlob,
  ExcludeList,
  expandBraces,
  globProblem,
  GLOBSTAR,
  hasGlobMagic,
} from "./path_glob.ts";

function matches(pattern: string, text: string): boolean {
  return compileGlob(pattern).test(text);
}

Deno.test("hasGlobMagic() sees unescaped *, ? and [ only", () => {
  assert.equal(hasGlobMagic("/var/log/*.log"), true);
  assert.equal(hasGlobMagic("/var/log/app-?.log"), true);
  assert.equal(hasGlobMagic("/var/log/[ab].log"), true);
  assert.equal(hasGlobMagic("/var/log/syslog"), false);
  assert.equal(hasGlobMagic("/var/log/\\*.log"), false);
});

Deno.test("compileGlob() matches * and ? within one name, never across /", () => {
  assert.ok(matches("*.log", "app.log"));
  assert.ok(matches("*.log", ".log") === false);
  assert.ok(matches("*", "syslog"));
  assert.ok(matches("app-?.log", "app-1.log"));
  assert.ok(!matches("app-?.log", "app-12.log"));
  assert.ok(!matches("*.log", "dir/app.log"));
  assert.ok(matches("/var/log/*.log", "/var/log/kern.log"));
  assert.ok(!matches("/var/log/*.log", "/var/log/nginx/access.log"));
  assert.ok(matches("/var/log/*/*.log", "/var/log/nginx/access.log"));
});

Deno.test("compileGlob() does not let a wildcard match a leading dot", () => {
  assert.ok(!matches("*.log", ".hidden.log"));
  assert.ok(!matches("?hidden", ".hidden"));
  assert.ok(!matches("[.a]x", ".x"));
  assert.ok(matches(".*.log", ".hidden.log"));
  assert.ok(matches("a*", "a.b.c"), "a dot inside a name is fine");
});

Deno.test("compileGlob() supports classes, ranges, negation and escapes", () => {
  assert.ok(matches("syslog.[0-9]", "syslog.7"));
  assert.ok(!matches("syslog.[0-9]", "syslog.x"));
  assert.ok(matches("[!a]*", "b.log"));
  assert.ok(!matches("[!a]*", "a.log"));
  assert.ok(matches("[^a]*", "c.log"));
  assert.ok(matches("[]x]", "]"), "] first is a member");
  assert.ok(matches("[a-]", "-"));
  assert.ok(matches("\\*.log", "*.log"));
  assert.ok(!matches("\\*.log", "a.log"));
  assert.ok(matches("a[.]b", "a.b"));
  assert.ok(matches("x(1)+$^{}|.log", "x(1)+$^{}|.log"), "regular expression syntax is literal");
});

Deno.test("compileGlob() never throws: an unclosed or reversed bracket is literal", () => {
  assert.ok(matches("app[1.log", "app[1.log"));
  assert.ok(matches("a[z-a]b", "a[z-a]b"));
  assert.ok(matches("trailing\\", "trailing\\"));
  assert.ok(matches("ünïcödé-?.log", "ünïcödé-😀.log"));
});

Deno.test("compilePathGlob() splits the literal base from the pattern components", () => {
  const glob = compilePathGlob("/var/log/*.log");
  assert.equal(glob.branches.length, 1);
  assert.equal(glob.branches[0]!.base, "/var/log");
  assert.equal(glob.branches[0]!.parts.length, 1);
  const deep = compilePathGlob("/srv/*/logs/app-?.log");
  assert.equal(deep.branches[0]!.base, "/srv");
  assert.equal(deep.branches[0]!.parts.length, 3);
  assert.equal(compilePathGlob("/*.log").branches[0]!.base, "/");
  assert.equal(compilePathGlob("/a\\*b/*.log").branches[0]!.base, "/a*b");
  assert.throws(() => compilePathGlob("logs/*.log"), /must be absolute/);
  assert.throws(() => compilePathGlob("/var/log/*/"), /must name files/);
});

Deno.test("expandBraces() expands alternatives left to right, nested, as bash does", () => {
  assert.deepEqual(expandBraces("/var/log/{nginx,apache2}/*.log"), [
    "/var/log/nginx/*.log",
    "/var/log/apache2/*.log",
  ]);
  assert.deepEqual(expandBraces("a{b,c{d,e}}f"), ["abf", "acdf", "acef"]);
  assert.deepEqual(expandBraces("{a,b}{1,2}"), ["a1", "a2", "b1", "b2"]);
  assert.deepEqual(expandBraces("x{,.1}"), ["x", "x.1"], "an empty alternative");
  assert.deepEqual(expandBraces("{a}"), ["{a}"], "no comma: literal");
  assert.deepEqual(expandBraces("{a,b"), ["{a,b"], "no closing brace: literal");
  assert.deepEqual(expandBraces("{x}{a,b}"), ["{x}a", "{x}b"]);
  assert.deepEqual(expandBraces("\\{a,b\\}"), ["\\{a,b\\}"], "escaped braces");
  assert.deepEqual(expandBraces("{a\\,b,c}"), ["a\\,b", "c"], "an escaped comma");
  assert.deepEqual(expandBraces("{a,a}"), ["a"], "duplicates once");
  assert.throws(() => expandBraces("{a,b}".repeat(9)), /more than 256 patterns/);
});

Deno.test("hasGlobMagic() sees brace alternatives, not literal braces", () => {
  assert.equal(hasGlobMagic("/var/log/{syslog,auth.log}"), true);
  assert.equal(hasGlobMagic("/var/log/{syslog}"), false);
  assert.equal(hasGlobMagic("/var/log/\\{a,b\\}"), false);
});

Deno.test("compileGlob() matches {a,b} alternatives, each a pattern of its own", () => {
  assert.ok(matches("*.{gz,xz}", "syslog.2.gz"));
  assert.ok(matches("*.{gz,xz}", "syslog.2.xz"));
  assert.ok(!matches("*.{gz,xz}", "syslog.2.bz2"));
  assert.ok(matches("/var/log/{nginx,app-?}/*.log", "/var/log/app-1/x.log"));
  assert.ok(!matches("/var/log/{nginx,app-?}/*.log", "/var/log/app-12/x.log"));
  assert.ok(matches("{a}", "{a}"), "a brace without a comma is literal");
});

Deno.test("compileGlob() lets a whole ** component match zero or more directories", () => {
  assert.ok(matches("/var/log/**/*.log", "/var/log/a.log"), "zero directories");
  assert.ok(matches("/var/log/**/*.log", "/var/log/pods/a.log"));
  assert.ok(matches("/var/log/**/*.log", "/var/log/pods/x/y/a.log"));
  assert.ok(!matches("/var/log/**/*.log", "/var/log/.git/a.log"), "not into hidden directories");
  assert.ok(matches("/var/log/**", "/var/log/a/b/c"), "a final ** is any path below");
  assert.ok(!matches("/var/log/**", "/var/log/.hidden"));
  assert.ok(matches("/a/**/b/**/c", "/a/b/c"));
  assert.ok(matches("/a/**/b/**/c", "/a/x/b/y/z/c"));
  assert.ok(!matches("/a/**/b", "/a/xb"));
  // Linear: a long path that almost matches is refused at once.
  assert.ok(!matches("/a/**/**/**/x", "/a/" + "d/".repeat(5_000) + "y"));
  assert.ok(!matches("/a/**/d/**/d/**/x", "/a/" + "d/".repeat(5_000) + "y"));
});

Deno.test("globProblem() refuses ** inside a component and too many expansions", () => {
  assert.match(globProblem("/var/log/**.log")!, /whole path component/);
  assert.match(globProblem("/var/log/a**/x")!, /whole path component/);
  assert.match(globProblem("**.gz")!, /whole path component/);
  assert.equal(globProblem("/var/log/**/*.log"), undefined);
  assert.equal(globProblem("/var/log/\\**"), undefined, "an escaped star is literal");
  assert.match(globProblem("{a,b}".repeat(9))!, /more than 256/);
  assert.throws(() => compilePathGlob("/var/log/**.log"), /whole path component/);
});

Deno.test("compilePathGlob() gives one branch per brace alternative, ** as its own part", () => {
  const glob = compilePathGlob("/var/{log,lib}/**/{a,b}.log");
  assert.deepEqual(glob.branches.map((b) => b.base), [
    "/var/log",
    "/var/log",
    "/var/lib",
    "/var/lib",
  ]);
  assert.equal(glob.branches[0]!.parts[0], GLOBSTAR);
  assert.ok(glob.branches[0]!.parts[1] instanceof RegExp);
  const literal = compilePathGlob("/srv/{x,y}.log").branches;
  assert.deepEqual(literal.map((b) => b.base), ["/srv", "/srv"]);
  assert.ok((literal[0]!.parts[0] as RegExp).test("x.log"));
  assert.ok(!(literal[0]!.parts[0] as RegExp).test("y.log"));
});

Deno.test("ExcludeList matches names without / and whole paths with /", () => {
  const list = new ExcludeList(["*.gz", "*.[0-9]", "/var/log/private/*"]);
  assert.ok(list.excludes("/var/log/syslog.2.gz"));
  assert.ok(list.excludes("/var/log/syslog.1"));
  assert.ok(list.excludes("/var/log/private/secret.log"));
  assert.ok(!list.excludes("/var/log/syslog"));
  assert.ok(!list.excludes("/var/log/private/x/y.log"));
  assert.ok(!new ExcludeList().excludes("/var/log/a.gz"));
  const more = new ExcludeList(["*.{gz,xz}", "/var/log/**/debug/*"]);
  assert.ok(more.excludes("/var/log/a.xz"));
  assert.ok(more.excludes("/var/log/app/x/debug/trace.log"));
  assert.ok(more.excludes("/var/log/debug/trace.log"));
  assert.ok(!more.excludes("/var/log/app/trace.log"));
});
