/**
 * The library entry stays documented: `deno doc --lint mod.ts` finds no
 * export without JSDoc and no public signature that uses an unexported type,
 * and `deno task check` runs the same command so a new problem fails the gate.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

Deno.test("mod.ts: deno doc --lint reports no problem in the library entry", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "mod.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  const problems = text.split("\n").filter((line) => line.startsWith("error"));
  assert.deepEqual(problems, [], text);
  assert.equal(output.code, 0, text);
});

Deno.test("deno task check runs deno doc --lint mod.ts", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  assert.match(config.tasks.check, /(^|&& )deno doc --lint mod\.ts($| &&)/);
});
