/**
 * The agent against the real server: following files (a burst of 100,000
 * lines stored exactly once and in order, several files, latency of a single
 * line) in-process through `runAgent()`, and once as a real `nms-agent`
 * process to check the CLI, its state lines on stderr and a clean SIGTERM exit.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type AgentHandle, runAgent, type RunAgentOptions, SILENT_LOGGER } from "../agent/mod.ts";
import { clientEvents } from "./_harness/events.ts";
import { startTestServer, type TestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

const AGENT_MAIN = fileURLToPath(new URL("../agent/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Deadline of waits that depend on bulk delivery, in ms (slow CI machines). */
const BULK_TIMEOUT_MS = 60_000;

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "nms-agent-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

function agentOptions(server: TestServer, paths: string[]): RunAgentOptions {
  return {
    hostname: server.hostname,
    port: server.port,
    username: "admin",
    password: "admin",
    paths,
    logger: SILENT_LOGGER,
    host: { version: "0.1.0", hostname: "test-node", os: "Test OS" },
  };
}

function acknowledged(agent: AgentHandle): number {
  return agent.stats.linesStored + agent.stats.linesDuplicate;
}

Deno.test("runAgent() delivers a burst of 100,000 appended lines exactly once and in order", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  const path = join(dir.path, "syslog");
  await Deno.writeTextFile(path, "history that existed before the agent started\n");
  await using agent = await runAgent(agentOptions(server, [path]));
  await waitFor(() => agent.state === "connected");

  const count = 100_000;
  const lines = Array.from(
    { length: count },
    (_, i) => `Dec 11 16:00:00 web-1 app[42]: burst line ${i}`,
  );
  await Deno.writeTextFile(path, lines.join("\n") + "\n", { append: true });
  await waitFor(() => acknowledged(agent) >= count, { timeoutMs: BULK_TIMEOUT_MS, intervalMs: 50 });

  const events = await clientEvents(server.store);
  assert.equal(events.length, count);
  assert.deepEqual(events.map((e) => e.raw), lines);
  assert.equal(agent.stats.linesFailed, 0);
  assert.equal(agent.stats.linesStored, count);
  assert.equal(agent.stats.inFlightLines, 0);
});

Deno.test("runAgent() follows several files at once, including one created later", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  const a = join(dir.path, "a.log");
  const b = join(dir.path, "b.log");
  const later = join(dir.path, "later.log");
  await Deno.writeTextFile(a, "");
  await Deno.writeTextFile(b, "");
  await using agent = await runAgent(agentOptions(server, [a, b, later]));
  await waitFor(() => agent.state === "connected");
  await Deno.writeTextFile(a, "from a 1\nfrom a 2\n", { append: true });
  await Deno.writeTextFile(b, "from b 1\n", { append: true });
  await Deno.writeTextFile(later, "born later\n");
  await waitFor(() => acknowledged(agent) === 4);
  const raws = (await clientEvents(server.store)).map((e) => e.raw).sort();
  assert.deepEqual(raws, ["born later", "from a 1", "from a 2", "from b 1"]);
});

Deno.test("runAgent() ships each single appended line on the watcher's notice, not at the next poll", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  const path = join(dir.path, "single.log");
  await Deno.writeTextFile(path, "");
  await using agent = await runAgent({ ...agentOptions(server, [path]), pollIntervalMs: 60_000 });
  await waitFor(() => agent.state === "connected");
  const latencies: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const started = performance.now();
    await Deno.writeTextFile(path, `single line ${i}\n`, { append: true });
    await waitFor(() => agent.stats.linesStored === i, { intervalMs: 1 });
    latencies.push(performance.now() - started);
  }
  latencies.sort((x, y) => x - y);
  // The median includes the server's commit; the poll (every 60 s here) played
  // no part. The bound only tells the two apart: `deno task bench` measures the
  // latency itself (milliseconds).
  assert.ok(latencies[2]! < 5_000, `median latency ${latencies[2]} ms`);
});

Deno.test("runAgent() skips empty lines and sends lines with NUL bytes replaced", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  const path = join(dir.path, "odd.log");
  await Deno.writeTextFile(path, "");
  await using agent = await runAgent(agentOptions(server, [path]));
  await waitFor(() => agent.state === "connected");
  await Deno.writeTextFile(path, "first\n\n\r\nnul\0byte\n  spaced  \nlast\r\n", { append: true });
  await waitFor(() => agent.stats.linesStored === 4);
  const raws = (await clientEvents(server.store)).map((e) => e.raw);
  assert.deepEqual(raws, ["first", "nul\uFFFDbyte", "  spaced  ", "last"]);
  assert.equal(agent.stats.linesSkipped, 2);
  assert.equal(agent.stats.linesFailed, 0);
});

/** Collects a child's stderr as text while it runs. */
function collectText(
  stream: ReadableStream<Uint8Array>,
): { text: () => string; done: Promise<void> } {
  let text = "";
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  })();
  return { text: () => text, done };
}

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("NMS_")),
  );
  return { ...env, NO_COLOR: "1", ...extra };
}

Deno.test("nms-agent run ships lines, logs its state on stderr and exits 0 on SIGTERM", async () => {
  await using server = await startTestServer({ adminPassword: "s3cret pass" });
  await using dir = await tempDir();
  const path = join(dir.path, "syslog");
  const passwordFile = join(dir.path, "password");
  await Deno.writeTextFile(path, "old line\n");
  await Deno.writeTextFile(passwordFile, "s3cret pass\n", { mode: 0o600 });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      AGENT_MAIN,
      "run",
      "--server",
      `${server.hostname}:${server.port}`,
      "--user",
      "admin",
      "--password-file",
      passwordFile,
      "--path",
      path,
      "--state-dir",
      join(dir.path, "state"),
      "--heartbeat",
      "1",
    ],
    cwd: ROOT,
    clearEnv: true,
    env: cleanEnv(),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = collectText(child.stderr);
  try {
    await waitFor(() => stderr.text().includes("state=connected"), { timeoutMs: 30_000 });
    await Deno.writeTextFile(path, "cli line 1\ncli line 2\n", { append: true });
    await waitFor(async () => (await clientEvents(server.store)).length === 2, {
      timeoutMs: 30_000,
    });
    // Heartbeats arrive every second.
    await waitFor(async () => {
      const [node] = await server.store.listAgents();
      return node !== undefined && node.lastHeartbeat !== null;
    });
  } finally {
    child.kill("SIGTERM");
  }
  const status = await child.status;
  await stderr.done;
  const text = stderr.text();
  assert.equal(status.code, 0, text);
  assert.deepEqual((await clientEvents(server.store)).map((e) => e.raw), [
    "cli line 1",
    "cli line 2",
  ]);
  const states = [...text.matchAll(/state=(\w+)/g)].map((m) => m[1]);
  assert.deepEqual(states, ["connecting", "connected", "stopping", "stopped"]);
  assert.doesNotMatch(text, /ERROR|s3cret/);
  // The agent said BYE: the server shows it as stopped.
  const [node] = await server.store.listAgents();
  assert.notEqual(node?.stoppedAt, null);
  // The state file records the acknowledged offset.
  const state = JSON.parse(await Deno.readTextFile(join(dir.path, "state", "agent-state.json")));
  assert.equal(state.files[0].incarnations[0].offset, (await Deno.stat(path)).size);
});

Deno.test("nms-agent run exits 1 with one clear line when the password is wrong", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  const path = join(dir.path, "syslog");
  await Deno.writeTextFile(path, "");
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      AGENT_MAIN,
      "run",
      "--server",
      `${server.hostname}:${server.port}`,
      "--user",
      "admin",
      "--path",
      path,
      "--log-level",
      "warn",
    ],
    cwd: ROOT,
    clearEnv: true,
    env: cleanEnv({ NMS_PASSWORD: "wrong" }),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 1, text);
  assert.equal(
    text,
    `nms-agent: Login to ${server.hostname}:${server.port} as admin was refused: Invalid credentials\n`,
  );
});

Deno.test("nms-agent run exits 2 with one line for usage errors", async () => {
  await using dir = await tempDir();
  const cases: [string[], RegExp][] = [
    [
      ["run", "--server", "h:1", "--user", "u", "--path", "/x", "--bogus"],
      /unknown option '--bogus'/,
    ],
    [["run", "--server", "h:0", "--user", "u", "--path", "/x"], /Invalid --server "h:0"/],
    [
      [
        "run",
        "--server",
        "h:1",
        "--user",
        "u",
        "--path",
        "/x",
        "--password-file",
        join(dir.path, "none"),
      ],
      /Cannot read the password file .*: no such file/,
    ],
    [["run", "--server", "h:1", "--user", "u", "--path", "/x"], /Missing password/],
    [["run", "--server", "h:1", "--user", "u", "--path", dir.path], /is a directory/],
  ];
  for (const [args, expected] of cases) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", AGENT_MAIN, ...args],
      cwd: ROOT,
      clearEnv: true,
      env: cleanEnv(args.includes(dir.path) ? { NMS_PASSWORD: "x" } : {}),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 2, `${args.join(" ")}: ${text}`);
    assert.match(text, expected);
    assert.equal(text.trimEnd().split("\n").length, 1, text);
    assert.doesNotMatch(text, /\n\s+at /);
  }
});
