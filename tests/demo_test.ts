/**
 * `deno task demo` stops cleanly however it is told to.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";

const DEMO = fileURLToPath(new URL("../tools/demo.ts", import.meta.url));
/** The last line of the demo's banner, printed once everything runs. */
const READY = "Press Ctrl-C to stop.";

Deno.test("the demo exits 0 when a second stop signal arrives while it stops", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-demo-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", DEMO],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let banner = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      banner += chunk;
      if (banner.includes(READY)) break;
    }
    // `timeout` signals the process group and `deno task` forwards the signal, so the demo
    // gets it twice; two different signals reach it twice for sure (equal ones may merge).
    child.kill("SIGINT");
    child.kill("SIGTERM");
    const { code } = await child.status;
    const text = await stderr;
    deepStrictEqual({ code, error: /error/i.test(text) }, { code: 0, error: false }, text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
