/**
 * The memory rule of the agent (docs/decisions/0012-agent-memory.md): what
 * `nms-agent run` loads, the static import graph of agent/main.ts, holds no
 * `npm:` or `node:` module. Either one starts Deno's Node compatibility layer,
 * which costs the idle agent 5 to 10 MB; commander and the other rarely used
 * parts are reached only through dynamic `import()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../agent/main.ts", import.meta.url));

/** A module of `deno info --json`, with the fields this test reads. */
interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly {
    readonly specifier: string;
    readonly isDynamic?: boolean;
    readonly code?: { readonly specifier: string };
  }[];
}

Deno.test("agent/main.ts statically imports no npm: or node: module", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", MAIN],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    roots: string[];
    modules: InfoModule[];
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const reached = new Set<string>();
  const offending: string[] = [];
  const pending = [...info.roots];
  while (pending.length > 0) {
    const specifier = pending.pop()!;
    if (reached.has(specifier)) continue;
    reached.add(specifier);
    for (const dependency of modules.get(specifier)?.dependencies ?? []) {
      if (dependency.isDynamic) continue;
      const target = dependency.code?.specifier ?? dependency.specifier;
      if (/^(npm|node):/.test(target) || /^(npm|node):/.test(dependency.specifier)) {
        offending.push(`${specifier} imports ${dependency.specifier}`);
      } else {
        pending.push(target);
      }
    }
  }
  assert.ok(reached.size > 10, `too few modules reached: ${[...reached].join(", ")}`);
  assert.deepEqual(offending, []);
});
