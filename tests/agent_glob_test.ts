/**
 * Glob paths with excludes: `--path '/var/log/*.log'` follows every
 * matching file, existing ones from their end (or their saved position) and
 * ones that appear later from their start, minus `--exclude` patterns.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, type RunAgentOptions, SILENT_LOGGER } from "../agent/mod.ts";
import { clientEvents } from "./_harness/events.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

function options(port: number, paths: string[], extra: Partial<RunAgentOptions> = {}) {
  return {
    hostname: "127.0.0.1",
    port,
    username: "admin",
    password: "admin",
    paths,
    logger: SILENT_LOGGER,
    host: { version: "0.1.0", hostname: "glob-node", os: "Test OS" },
    // The rescan runs at the poll interval: short, so a missed event costs little here.
    pollIntervalMs: 100,
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    ...extra,
  } satisfies RunAgentOptions;
}

async function append(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { append: true });
}

async function storedMessages(store: Parameters<typeof clientEvents>[0]): Promise<string[]> {
  return (await clientEvents(store)).map((e) => e.raw).sort();
}

Deno.test("runAgent() with a glob path follows every match, new files from their start, minus excludes", async () => {
  await using server = await startTestServer();
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-glob-" });
  try {
    await Deno.mkdir(join(dir, "nginx"));
    await Deno.writeTextFile(join(dir, "a.log"), "history of a\n");
    await Deno.writeTextFile(join(dir, "b.log"), "history of b\n");
    await Deno.writeTextFile(join(dir, "secret.log"), "");
    await Deno.writeTextFile(join(dir, "a.log.1"), "rotated\n");
    await Deno.writeTextFile(join(dir, ".hidden.log"), "");
    await using agent = await runAgent(
      options(server.port, [join(dir, "*.log"), join(dir, "*/access.log")], {
        exclude: ["secret*", join(dir, "nginx", "*")],
      }),
    );
    await waitFor(() => agent.state === "connected");
    assert.equal(agent.stats.followedFiles, 2, "a.log and b.log");

    await append(join(dir, "a.log"), "a one\n");
    await append(join(dir, "b.log"), "b one\n");
    await append(join(dir, "secret.log"), "excluded by name\n");
    await append(join(dir, ".hidden.log"), "a wildcard skips dot files\n");
    // Files that appear later are read from their first byte.
    await Deno.writeTextFile(join(dir, "c.log"), "c zero\nc one\n");
    await Deno.writeTextFile(join(dir, "c.log.gz"), "no match\n");
    await Deno.mkdir(join(dir, "app"));
    await Deno.writeTextFile(join(dir, "app", "access.log"), "app access\n");
    await Deno.writeTextFile(join(dir, "nginx", "access.log"), "excluded by path\n");
    const expected = ["a one", "app access", "b one", "c one", "c zero"];
    await waitFor(() => agent.stats.linesStored === expected.length, { timeoutMs: 20_000 });
    assert.equal(agent.stats.followedFiles, 4);
    await append(join(dir, "c.log"), "c two\n");
    await waitFor(() => agent.stats.linesStored === expected.length + 1, { timeoutMs: 20_000 });
    assert.deepEqual(await storedMessages(server.store), [...expected, "c two"].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runAgent() with a glob path and a state dir reads a file created while it was stopped from its start", async () => {
  await using server = await startTestServer();
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-glob-state-" });
  try {
    const stateDir = join(dir, "state");
    const logs = join(dir, "logs");
    await Deno.mkdir(logs);
    await Deno.writeTextFile(join(logs, "app.log"), "before the first start\n");
    const opts = options(server.port, [join(logs, "*.log")], { stateDir });
    {
      await using agent = await runAgent(opts);
      await waitFor(() => agent.state === "connected");
      await append(join(logs, "app.log"), "first run\n");
      await waitFor(() => agent.stats.linesStored === 1);
    }
    await append(join(logs, "app.log"), "app while down\n");
    await Deno.writeTextFile(join(logs, "new.log"), "new while down\n");
    {
      await using agent = await runAgent(opts);
      await waitFor(() => agent.stats.linesStored === 2, { timeoutMs: 20_000 });
      assert.equal(agent.stats.linesDuplicate, 0);
    }
    assert.deepEqual(await storedMessages(server.store), [
      "app while down",
      "first run",
      "new while down",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
