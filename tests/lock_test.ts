/**
 * The lock file is complete and frozen: running the project on a fresh
 * checkout never changes it, and it names only what deno.json imports.
 *
 * @module
 */

import { deepStrictEqual, equal } from "node:assert/strict";

const root = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", root)));

Deno.test("deno.json freezes the lock file", () => {
  equal(config.lock?.frozen, true);
});

Deno.test("deno.lock pins exactly the npm packages deno.json imports", () => {
  const imported = Object.values(config.imports as Record<string, string>).sort();
  deepStrictEqual(Object.keys(lock.specifiers).sort(), imported);
  deepStrictEqual([...lock.workspace.dependencies].sort(), imported);
});
