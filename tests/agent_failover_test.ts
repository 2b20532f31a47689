/**
 * Several servers with failover: the agent is given more than one
 * server; when its server cannot be reached or goes away it tries the next one
 * at once (round robin, the backoff applying only when every server failed)
 * and resends what was not acknowledged there.
 *
 * With two servers on one PostgreSQL database, every line is stored exactly
 * once across the failover (the database's (stream, position) key drops the
 * resends). That test is ignored, with the reason, when no PostgreSQL is
 * reachable (`NMS_TEST_REQUIRE_PG=1` makes that a failure); see
 * tests/_harness/postgres.ts. Two SQLite servers cannot share a database, so
 * the SQLite test checks that what is written after the first server stops
 * arrives at the second.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type AgentHandle, runAgent, type RunAgentOptions, SILENT_LOGGER } from "../agent/mod.ts";
import { openStore } from "../server/store/open_store.ts";
import { clientEvents } from "./_harness/events.ts";
import { pgTestTarget, requirePg, testSchema } from "./_harness/postgres.ts";
import { startTestServer } from "./_harness/server.ts";
import { type ServerProcess, spawnServerProcess } from "./_harness/server_process.ts";
import { waitFor } from "./_harness/wait_for.ts";

/** Deadline of waits that depend on a failover, in ms (slow CI machines). */
const SLOW_TIMEOUT_MS = 30_000;

function options(
  ports: number[],
  path: string,
  extra: Partial<RunAgentOptions> = {},
): RunAgentOptions {
  return {
    hostname: "127.0.0.1",
    port: ports[0]!,
    failoverServers: ports.slice(1).map((port) => ({ hostname: "127.0.0.1", port })),
    username: "admin",
    password: "admin",
    paths: [path],
    logger: SILENT_LOGGER,
    host: { version: "0.1.0", hostname: "failover-node", os: "Test OS" },
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    ...extra,
  };
}

/** A port that was free a moment ago: listen on port 0, note the port, close. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function numbered(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `${prefix} line ${from + i}`);
}

async function append(path: string, lines: string[]): Promise<void> {
  await Deno.writeTextFile(path, lines.map((l) => l + "\n").join(""), { append: true });
}

function acknowledged(agent: AgentHandle): number {
  return agent.stats.linesStored + agent.stats.linesDuplicate;
}

Deno.test("runAgent() with several servers tries the next one at once when the first is down", async () => {
  await using server = await startTestServer();
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-failover-" });
  try {
    const path = join(dir, "app.log");
    await Deno.writeTextFile(path, "");
    // A backoff far longer than the test: only an immediate failover connects in time.
    await using agent = await runAgent(
      options([freePort(), server.port], path, { backoffInitialMs: 60_000, backoffMaxMs: 60_000 }),
    );
    await waitFor(() => agent.state === "connected", { timeoutMs: SLOW_TIMEOUT_MS });
    assert.equal(agent.stats.connectFailures, 1);
    await append(path, ["to the second server"]);
    await waitFor(() => agent.stats.linesStored === 1);
    assert.deepEqual((await clientEvents(server.store)).map((e) => e.raw), [
      "to the second server",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runAgent() fails over to the next server when its server stops, and sends the new lines there", async () => {
  await using first = await startTestServer();
  await using second = await startTestServer();
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-failover-" });
  try {
    const path = join(dir, "app.log");
    await Deno.writeTextFile(path, "");
    await using agent = await runAgent(options([first.port, second.port], path));
    await waitFor(() => agent.state === "connected");
    await append(path, numbered("before", 0, 200));
    await waitFor(() => agent.stats.linesStored === 200, { timeoutMs: SLOW_TIMEOUT_MS });
    assert.deepEqual(
      (await clientEvents(first.store)).map((e) => e.raw),
      numbered("before", 0, 200),
    );
    await first.stop();
    await append(path, numbered("after", 0, 300));
    await waitFor(() => acknowledged(agent) === 500, { timeoutMs: SLOW_TIMEOUT_MS });
    assert.ok(agent.stats.connects >= 2);
    assert.equal(agent.stats.linesFailed, 0);
    // Lines in flight when the first server stopped may have reached both.
    const onSecond = (await clientEvents(second.store)).map((e) => e.raw);
    assert.deepEqual(onSecond.slice(-300), numbered("after", 0, 300));
    assert.equal(new Set(onSecond).size, onSecond.length, "no line twice on the second server");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const pg = await pgTestTarget();
const pgUnreachable = requirePg(pg);

Deno.test({
  name:
    "runAgent() on two servers sharing PostgreSQL stores every line exactly once when one is killed" +
    (pgUnreachable === undefined ? "" : ` (ignored: ${pgUnreachable})`),
  ignore: pgUnreachable !== undefined,
  async fn() {
    await using schema = testSchema(pg);
    const args = ["--store", schema.url, "--workers", "1"];
    // Both start at once on a new schema: one migrates and bootstraps admin, the other waits.
    const [a, b] = await Promise.all([
      spawnServerProcess({ args }),
      spawnServerProcess({ args }),
    ]) as [ServerProcess, ServerProcess];
    await using _a = a;
    await using _b = b;
    const dir = await Deno.makeTempDir({ prefix: "nms-agent-failover-pg-" });
    try {
      const path = join(dir, "app.log");
      await Deno.writeTextFile(path, "");
      const total = 5_000;
      const firstPart = 2_000;
      await using agent = await runAgent(options([a.port, b.port], path));
      await waitFor(() => agent.state === "connected");
      await append(path, numbered("pg", 0, firstPart));
      await waitFor(() => agent.stats.linesStored === firstPart, { timeoutMs: SLOW_TIMEOUT_MS });
      // Kill the first server while it stores the next lines: those
      // it committed without acknowledging are resent to the second server,
      // which answers "Duplicate event" for them.
      await append(path, numbered("pg", firstPart, total));
      await waitFor(() => agent.stats.linesStored > firstPart, { intervalMs: 1 });
      await a.stop("SIGKILL");
      await waitFor(() => agent.stats.connects >= 2, {
        timeoutMs: SLOW_TIMEOUT_MS,
        message: "the agent to fail over to the second server",
      });
      await waitFor(() => acknowledged(agent) >= total, { timeoutMs: SLOW_TIMEOUT_MS });
      assert.equal(agent.stats.linesFailed, 0);
      const store = await openStore(schema.url, { maxConnections: 1 });
      try {
        const raws = (await clientEvents(store)).map((e) => e.raw);
        assert.equal(raws.length, total, "no line lost and none stored twice");
        assert.deepEqual(raws.sort(), numbered("pg", 0, total).sort());
      } finally {
        await store.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Runs the nms-agent CLI. */
async function agentCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(import.meta.dirname!, "../agent/main.ts"), ...args],
    env,
    stdin: "null",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("nms-agent takes several servers from repeated --server flags or a comma-separated NMS_SERVER", async () => {
  const flags = await agentCli([
    "config",
    "check",
    "--server",
    "a:1",
    "--server",
    "b:2",
    "--journal",
  ]);
  assert.equal(flags.code, 0, flags.stderr);
  assert.match(flags.stdout, /^server: "a:1,b:2" +# flag$/m);
  const env = await agentCli(["config", "check", "--journal"], { NMS_SERVER: "a:1,b:2" });
  assert.match(env.stdout, /^server: "a:1,b:2" +# env NMS_SERVER$/m);
  const bad = await agentCli(["run", "--server", "a:1,b:x", "--journal"], { NMS_PASSWORD: "x" });
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    'nms-agent: Invalid --server "b:x": the port must be a number from 1 to 65535\n',
  );
  const severity = await agentCli(
    ["run", "--server", "a:1", "--user", "u", "--path", "/tmp/x.log", "--min-severity", "loud"],
    { NMS_PASSWORD: "x" },
  );
  assert.equal(severity.code, 2);
  assert.match(severity.stderr, /^nms-agent: Invalid --min-severity "loud": .*\n$/);
});
