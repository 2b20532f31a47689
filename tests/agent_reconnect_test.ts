/**
 * Delivery across outages: the agent starts while the server is down, the
 * server restarts in the middle of a stream, the agent itself restarts with a
 * state directory. In every case each line must be stored exactly once, in
 * file order: the agent resends from the first unacknowledged byte and the
 * server drops resends by (stream, position).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AccessDeniedError,
  type AgentHandle,
  runAgent,
  type RunAgentOptions,
  SILENT_LOGGER,
} from "../agent/mod.ts";
import { clientEvents } from "./_harness/events.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

/** Deadline of waits that depend on bulk delivery or reconnects, in ms (slow CI machines). */
const SLOW_TIMEOUT_MS = 60_000;

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "nms-agent-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A port that was free a moment ago: listen on port 0, note the port, close. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function agentOptions(port: number, paths: string[]): RunAgentOptions {
  return {
    hostname: "127.0.0.1",
    port,
    username: "admin",
    password: "admin",
    paths,
    logger: SILENT_LOGGER,
    host: { version: "0.1.0", hostname: "test-node", os: "Test OS" },
    // Short retries keep the tests fast; the defaults are 100 ms to 30 s.
    backoffInitialMs: 20,
    backoffMaxMs: 200,
  };
}

function acknowledged(agent: AgentHandle): number {
  return agent.stats.linesStored + agent.stats.linesDuplicate;
}

function numbered(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `${prefix} line ${from + i}`);
}

async function appendLines(path: string, lines: string[]): Promise<void> {
  await Deno.writeTextFile(path, lines.join("\n") + "\n", { append: true });
}

Deno.test("runAgent() retries while the server is down and delivers the lines written meanwhile", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "syslog");
  await Deno.writeTextFile(path, "before the agent started\n");
  const port = freePort();
  await using agent = await runAgent(agentOptions(port, [path]));
  await waitFor(() => agent.stats.connectFailures >= 2);
  assert.notEqual(agent.state, "connected");

  const lines = numbered("offline", 0, 1_000);
  await appendLines(path, lines);
  await using server = await startTestServer({ port });
  await waitFor(() => acknowledged(agent) === lines.length, { timeoutMs: SLOW_TIMEOUT_MS });
  assert.equal(agent.state, "connected");
  assert.deepEqual((await clientEvents(server.store)).map((e) => e.raw), lines);
});

Deno.test("runAgent() delivers every line exactly once across a server restart mid-stream", async () => {
  await using dir = await tempDir();
  const dataDir = join(dir.path, "server-data");
  await Deno.mkdir(dataDir);
  const path = join(dir.path, "syslog");
  await Deno.writeTextFile(path, "");
  let server = await startTestServer({ dataDir });
  const port = server.port;
  // A writer appends 60,000 lines in chunks while the server goes down and up.
  const total = 60_000;
  const chunk = 2_000;
  let writing = true;
  let writer = Promise.resolve();
  try {
    await using agent = await runAgent(agentOptions(port, [path]));
    await waitFor(() => agent.state === "connected");
    writer = (async () => {
      for (let from = 0; from < total && writing; from += chunk) {
        await appendLines(path, numbered("stream", from, from + chunk));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await waitFor(() => acknowledged(agent) >= 10_000, { timeoutMs: SLOW_TIMEOUT_MS });
    await server.stop();
    await waitFor(() => agent.state !== "connected");
    server = await startTestServer({ dataDir, port });
    await writer;
    // The agent may have had every line acknowledged before the server went
    // down: wait for the new session too, not only for the count.
    await waitFor(() => agent.stats.connects >= 2, { timeoutMs: SLOW_TIMEOUT_MS });
    await waitFor(() => acknowledged(agent) === total, { timeoutMs: SLOW_TIMEOUT_MS });

    assert.ok(agent.stats.connects >= 2);
    assert.equal(agent.stats.linesFailed, 0);
    const raws = (await clientEvents(server.store)).map((e) => e.raw);
    assert.equal(raws.length, total);
    assert.deepEqual(raws, numbered("stream", 0, total));
  } finally {
    writing = false;
    await writer;
    await server.stop();
  }
});

Deno.test("runAgent() with a state dir resumes after its own restart without loss or duplicates", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  const path = join(dir.path, "syslog");
  const stateDir = join(dir.path, "state");
  await Deno.writeTextFile(path, "history\n");
  const options = { ...agentOptions(server.port, [path]), stateDir };
  {
    await using first = await runAgent(options);
    await waitFor(() => first.state === "connected");
    await appendLines(path, numbered("first run", 0, 500));
    await waitFor(() => first.stats.linesStored === 500);
  }
  // Written while no agent runs: a restart without state would skip these.
  await appendLines(path, numbered("while down", 0, 300));
  {
    await using second = await runAgent(options);
    await waitFor(() => second.state === "connected");
    await appendLines(path, numbered("second run", 0, 200));
    await waitFor(() => second.stats.linesStored === 500, { timeoutMs: SLOW_TIMEOUT_MS });
    assert.equal(second.stats.linesDuplicate, 0);
  }
  const raws = (await clientEvents(server.store)).map((e) => e.raw);
  assert.deepEqual(raws, [
    ...numbered("first run", 0, 500),
    ...numbered("while down", 0, 300),
    ...numbered("second run", 0, 200),
  ]);
});

Deno.test("runAgent() without a state dir starts at the end of the file after a restart", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  const path = join(dir.path, "syslog");
  await Deno.writeTextFile(path, "");
  {
    await using first = await runAgent(agentOptions(server.port, [path]));
    await waitFor(() => first.state === "connected");
    await appendLines(path, ["seen"]);
    await waitFor(() => first.stats.linesStored === 1);
  }
  await appendLines(path, ["missed while down"]);
  await using second = await runAgent(agentOptions(server.port, [path]));
  await waitFor(() => second.state === "connected");
  await appendLines(path, ["after restart"]);
  await waitFor(() => second.stats.linesStored === 1);
  assert.deepEqual((await clientEvents(server.store)).map((e) => e.raw), ["seen", "after restart"]);
});

Deno.test("runAgent() resends lines whose ACK was lost, and the server stores them once", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  const path = join(dir.path, "syslog");
  const stateDir = join(dir.path, "state");
  await Deno.writeTextFile(path, "");
  const options = { ...agentOptions(server.port, [path]), stateDir };
  const first = await runAgent(options);
  await waitFor(() => first.state === "connected");
  await appendLines(path, numbered("acked", 0, 100));
  await waitFor(() => first.stats.linesStored === 100);
  await first.stop();
  // Simulate a crash after the server stored lines but before the agent saved
  // their ACKs: put the saved offset back to the start of the file.
  const statePath = join(stateDir, "agent-state.json");
  const state = JSON.parse(await Deno.readTextFile(statePath));
  state.files[0].incarnations[0].offset = 0;
  await Deno.writeTextFile(statePath, JSON.stringify(state));

  await using second = await runAgent(options);
  await waitFor(() => second.stats.linesDuplicate === 100);
  await appendLines(path, ["new"]);
  await waitFor(() => second.stats.linesStored === 1);
  const raws = (await clientEvents(server.store)).map((e) => e.raw);
  assert.deepEqual(raws, [...numbered("acked", 0, 100), "new"]);
});

Deno.test("runAgent() stops with AccessDeniedError when the password is wrong", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  const path = join(dir.path, "syslog");
  await Deno.writeTextFile(path, "");
  const agent = await runAgent({ ...agentOptions(server.port, [path]), password: "wrong" });
  await assert.rejects(() => agent.done, AccessDeniedError);
  assert.equal(agent.state, "stopped");
  assert.equal(agent.stats.connects, 0);
  await agent.stop();
});

Deno.test("runAgent() waits a jittered part of the reconnect spread after its session dropped", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "syslog");
  await Deno.writeTextFile(path, "");
  const port = freePort();
  const states: Record<string, unknown>[] = [];
  const logger = {
    debug() {},
    info(_message: string, fields?: Record<string, unknown>) {
      if (fields?.state === "disconnected") states.push(fields);
    },
    warn() {},
    error() {},
  };
  const server = await startTestServer({ port });
  await using agent = await runAgent({
    ...agentOptions(port, [path]),
    logger,
    backoffMaxMs: 60_000,
    reconnectSpreadMs: 40_000,
    random: () => 0.25,
  });
  await waitFor(() => agent.state === "connected");
  await server[Symbol.asyncDispose]();
  await waitFor(() => states.length > 0);
  // Not the first backoff ceiling (20 ms here) but a quarter of the spread.
  assert.equal(states[0]!.retryInMs, 10_000);
});
