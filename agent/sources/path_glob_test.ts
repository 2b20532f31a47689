import assert from "node:assert/strict";
import { compilePathGlob, ExcludeList, globToRegExp, hasGlobMagic } from "./path_glob.ts";

function matches(pattern: string, text: string): boolean {
  return globToRegExp(pattern).test(text);
}

Deno.test("hasGlobMagic() sees unescaped *, ? and [ only", () => {
  assert.equal(hasGlobMagic("/var/log/*.log"), true);
  assert.equal(hasGlobMagic("/var/log/app-?.log"), true);
  assert.equal(hasGlobMagic("/var/log/[ab].log"), true);
  assert.equal(hasGlobMagic("/var/log/syslog"), false);
  assert.equal(hasGlobMagic("/var/log/\\*.log"), false);
});

Deno.test("globToRegExp() matches * and ? within one name, never across /", () => {
  assert.ok(matches("*.log", "app.log"));
  assert.ok(matches("*.log", ".log") === false);
  assert.ok(matches("*", "syslog"));
  assert.ok(matches("app-?.log", "app-1.log"));
  assert.ok(!matches("app-?.log", "app-12.log"));
  assert.ok(!matches("*.log", "dir/app.log"));
  assert.ok(matches("/var/log/*.log", "/var/log/kern.log"));
  assert.ok(!matches("/var/log/*.log", "/var/log/nginx/access.log"));
  assert.ok(matches("/var/log/*/*.log", "/var/log/nginx/access.log"));
  assert.ok(matches("/var/log/**.log", "/var/log/a.log"), "** is one star");
  assert.ok(!matches("/var/log/**.log", "/var/log/a/b.log"), "** does not recurse");
});

Deno.test("globToRegExp() does not let a wildcard match a leading dot", () => {
  assert.ok(!matches("*.log", ".hidden.log"));
  assert.ok(!matches("?hidden", ".hidden"));
  assert.ok(!matches("[.a]x", ".x"));
  assert.ok(matches(".*.log", ".hidden.log"));
  assert.ok(matches("a*", "a.b.c"), "a dot inside a name is fine");
});

Deno.test("globToRegExp() supports classes, ranges, negation and escapes", () => {
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

Deno.test("globToRegExp() never throws: an unclosed or reversed bracket is literal", () => {
  assert.ok(matches("app[1.log", "app[1.log"));
  assert.ok(matches("a[z-a]b", "a[z-a]b"));
  assert.ok(matches("trailing\\", "trailing\\"));
  assert.ok(matches("ünïcödé-?.log", "ünïcödé-😀.log"));
});

Deno.test("compilePathGlob() splits the literal base from the pattern components", () => {
  const glob = compilePathGlob("/var/log/*.log");
  assert.equal(glob.base, "/var/log");
  assert.equal(glob.parts.length, 1);
  const deep = compilePathGlob("/srv/*/logs/app-?.log");
  assert.equal(deep.base, "/srv");
  assert.equal(deep.parts.length, 3);
  assert.equal(compilePathGlob("/*.log").base, "/");
  assert.equal(compilePathGlob("/a\\*b/*.log").base, "/a*b");
  assert.throws(() => compilePathGlob("logs/*.log"), /must be absolute/);
  assert.throws(() => compilePathGlob("/var/log/*/"), /must name files/);
});

Deno.test("ExcludeList matches names without / and whole paths with /", () => {
  const list = new ExcludeList(["*.gz", "*.[0-9]", "/var/log/private/*"]);
  assert.ok(list.excludes("/var/log/syslog.2.gz"));
  assert.ok(list.excludes("/var/log/syslog.1"));
  assert.ok(list.excludes("/var/log/private/secret.log"));
  assert.ok(!list.excludes("/var/log/syslog"));
  assert.ok(!list.excludes("/var/log/private/x/y.log"));
  assert.ok(!new ExcludeList().excludes("/var/log/a.gz"));
});
