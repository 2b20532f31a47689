/**
 * `**` and `{a,b}` in `--path` with a real `nms-agent run` process: `**` as a
 * whole path component matches any number of directories (none hidden),
 * `{a,b}` are alternatives, directories created later under a `**` are
 * watched and their files read from their start; `**` inside a component is
 * refused with one line.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { clientEvents } from "./_harness/events.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";
import { spawnAgentProcess, tempDir } from "./faults/_harness.ts";

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, text, { append: true });
}

Deno.test("nms-agent run follows '**' and '{a,b}' globs, new sub-directories included", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir("nms-agent-globstar-");
  const pods = join(dir.path, "pods");
  // Existing files are followed from their end.
  await write(join(pods, "a", "app", "0.log"), "history of a/app\n");
  await write(join(pods, "a", "web", "0.log"), "history of a/web\n");
  await write(join(pods, "a", "db", "0.log"), "");
  await write(join(pods, ".hidden", "app", "0.log"), "");
  await write(join(pods, "a", "app", "trace-debug.log"), "");
  await write(join(pods, "app", "0.log"), "history of app\n");
  await using agent = await spawnAgentProcess({
    port: server.port,
    paths: [join(pods, "**", "{app,web}", "*.log")],
    stateDir: join(dir.path, "state"),
    workDir: dir.path,
    args: ["--exclude", "*-debug.log"],
  });
  await waitFor(() => agent.connected(), { timeoutMs: 30_000 });
  await write(join(pods, "a", "app", "0.log"), "a/app 1\n");
  await write(join(pods, "a", "web", "0.log"), "a/web 1\n");
  await write(join(pods, "app", "0.log"), "app 1\n");
  await write(join(pods, "a", "db", "0.log"), "not matched: db\n");
  await write(join(pods, ".hidden", "app", "0.log"), "not matched: hidden directory\n");
  await write(join(pods, "a", "app", "trace-debug.log"), "not matched: excluded\n");
  // A pod created later, two levels deep: its directories are watched as
  // they appear, and its file is read from its first byte.
  await write(join(pods, "b", "c", "web", "1.log"), "b/c/web 0\nb/c/web 1\n");
  const expected = ["a/app 1", "a/web 1", "app 1", "b/c/web 0", "b/c/web 1"];
  await waitFor(async () => (await clientEvents(server.store)).length >= expected.length, {
    timeoutMs: 30_000,
  });
  // Still followed: a later line of the new file arrives too.
  await write(join(pods, "b", "c", "web", "1.log"), "b/c/web 2\n");
  await waitFor(async () => (await clientEvents(server.store)).length >= expected.length + 1, {
    timeoutMs: 30_000,
  });
  const stored = (await clientEvents(server.store)).map((e) => e.raw).sort();
  assert.deepEqual(stored, [...expected, "b/c/web 2"].sort());
});

Deno.test("nms-agent run refuses '**' inside a path component with one line and exit code 2", async () => {
  await using dir = await tempDir("nms-agent-globstar-");
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(import.meta.dirname!, "../agent/main.ts"),
      "run",
      "--server",
      "127.0.0.1:1",
      "--user",
      "admin",
      "--path",
      join(dir.path, "**.log"),
    ],
    env: { NMS_PASSWORD: "x" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 2, stderr);
  assert.equal(
    stderr,
    `nms-agent: Invalid --path ${JSON.stringify(join(dir.path, "**.log"))}: ` +
      "** must be a whole path component, as in /var/log/**/*.log\n",
  );
});
