import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../tests/_harness/wait_for.ts";
import { runAgent, type RunAgentOptions, SILENT_LOGGER } from "./mod.ts";
import { STATE_FILE_NAME, STATE_FILE_VERSION } from "./checkpoint/mod.ts";

/** A port nothing listens on: listen on port 0, note the port, close. */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "nms-agent-unit-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

function options(paths: string[], extra: Partial<RunAgentOptions> = {}): RunAgentOptions {
  return {
    hostname: "127.0.0.1",
    port: deadPort(),
    username: "agent",
    password: "secret",
    paths,
    logger: SILENT_LOGGER,
    host: { version: "0.1.0", hostname: "unit", os: "Test OS" },
    backoffInitialMs: 10,
    backoffMaxMs: 50,
    ...extra,
  };
}

Deno.test("runAgent() saves the end of each existing file as its starting offset", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "existing 1\nexisting 2\n");
  const stateDir = join(dir.path, "state");
  await using _agent = await runAgent(options([path], { stateDir }));
  const state = JSON.parse(await Deno.readTextFile(join(stateDir, STATE_FILE_NAME)));
  assert.equal(state.version, STATE_FILE_VERSION);
  assert.equal(state.files.length, 1);
  assert.equal(state.files[0].path, path);
  assert.equal(state.files[0].incarnations[0].offset, 22);
  assert.match(state.files[0].incarnations[0].stream, /^[A-Za-z0-9_-]{22}$/);
});

Deno.test("runAgent() keeps retrying while the server is down and stop() ends it promptly", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  const agent = await runAgent(options([path]));
  await waitFor(() => agent.stats.connectFailures >= 3);
  assert.notEqual(agent.state, "connected");
  const started = performance.now();
  await agent.stop();
  assert.equal(agent.state, "stopped");
  assert.ok(performance.now() - started < 2_000);
  await agent.done;
});

Deno.test("runAgent() moves a corrupt state file aside and starts afresh", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "x\n");
  const stateDir = join(dir.path, "state");
  await Deno.mkdir(stateDir);
  await Deno.writeTextFile(join(stateDir, STATE_FILE_NAME), "{ not json");
  await using _agent = await runAgent(options([path], { stateDir }));
  assert.equal(await Deno.readTextFile(join(stateDir, `${STATE_FILE_NAME}.corrupt`)), "{ not json");
  const state = JSON.parse(await Deno.readTextFile(join(stateDir, STATE_FILE_NAME)));
  assert.equal(state.files[0].incarnations[0].offset, 2);
});

Deno.test("runAgent() refuses a state file written by a newer agent", async () => {
  await using dir = await tempDir();
  const stateDir = join(dir.path, "state");
  await Deno.mkdir(stateDir);
  await Deno.writeTextFile(
    join(stateDir, STATE_FILE_NAME),
    JSON.stringify({ version: STATE_FILE_VERSION + 1, files: [] }),
  );
  await assert.rejects(
    () => runAgent(options([join(dir.path, "app.log")], { stateDir })),
    /newer than the supported version/,
  );
});

Deno.test("runAgent() rejects a path that is a directory and invalid options", async () => {
  await using dir = await tempDir();
  await assert.rejects(() => runAgent(options([dir.path])), TypeError);
  await assert.rejects(() => runAgent(options([])), TypeError);
  await assert.rejects(() => runAgent(options(["/x"], { port: 70_000 })), RangeError);
  await assert.rejects(() => runAgent(options(["/x"], { heartbeatSeconds: 0 })), RangeError);
});

Deno.test("runAgent() stops when its signal is aborted", async () => {
  await using dir = await tempDir();
  const controller = new AbortController();
  const agent = await runAgent(options([join(dir.path, "a.log")], { signal: controller.signal }));
  controller.abort();
  await agent.done;
  assert.equal(agent.state, "stopped");
});
