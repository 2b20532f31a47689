import assert from "node:assert/strict";
import * as node from "node:path";
import { basename, dirname, join, resolve } from "./_posix_path.ts";

/** Segments that exercise every branch of the normalization: dots, slashes, names, globs. */
const PIECES = ["", "/", "//", ".", "..", "...", "a", "bc", ".d", "e.", "*.log", "x y", "é"];

/** Every path of up to three pieces joined by nothing or a slash: a few thousand of them. */
function samplePaths(): string[] {
  const paths = new Set<string>();
  for (const a of PIECES) {
    for (const b of PIECES) {
      for (const c of PIECES) {
        for (const sep of ["", "/"]) paths.add(`${a}${sep}${b}${sep}${c}`);
      }
    }
  }
  return [...paths];
}

Deno.test("dirname(), basename(), resolve() and join() return what node:path returns", () => {
  for (const path of samplePaths()) {
    assert.equal(dirname(path), node.dirname(path), `dirname(${JSON.stringify(path)})`);
    assert.equal(basename(path), node.basename(path), `basename(${JSON.stringify(path)})`);
    assert.equal(resolve(path), node.resolve(path), `resolve(${JSON.stringify(path)})`);
    assert.equal(join(path, "f"), node.join(path, "f"), `join(${JSON.stringify(path)}, "f")`);
    assert.equal(join("/s", path), node.join("/s", path), `join("/s", ${JSON.stringify(path)})`);
    assert.equal(
      resolve("/base/dir", path),
      node.resolve("/base/dir", path),
      `resolve("/base/dir", ${JSON.stringify(path)})`,
    );
  }
  assert.equal(join(), node.join());
  assert.equal(join("", ""), node.join("", ""));
  assert.equal(resolve(), node.resolve());
});

Deno.test("resolve() makes a relative path absolute against the working directory", () => {
  assert.equal(resolve("logs/../app.log"), `${Deno.cwd()}/app.log`);
  assert.equal(resolve("/var/log/./nginx//access.log/"), "/var/log/nginx/access.log");
});
