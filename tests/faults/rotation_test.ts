/**
 * Fault injection: log rotation while lines are being written, with
 * the agent running. Rename and re-create (logrotate's default, several in
 * quick succession), `copytruncate` while the agent is behind, compression of
 * the rotated file, and rotations during a server outage. Every number must
 * be stored exactly once, in order per file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, type RunAgentOptions, SILENT_LOGGER } from "../../agent/mod.ts";
import { startTestServer } from "../_harness/server.ts";
import { waitFor } from "../_harness/wait_for.ts";
import {
  checkDelivery,
  countStored,
  gzipFile,
  NumberedWriter,
  pause,
  tempDir,
} from "./_harness.ts";
import { prng } from "../_harness/prng.ts";

/** Deadline of waits for delivery and reconnects, in ms (slow, shared CI machines). */
const SLOW_TIMEOUT_MS = 60_000;

function agentOptions(port: number, paths: string[], stateDir: string): RunAgentOptions {
  return {
    hostname: "127.0.0.1",
    port,
    username: "admin",
    password: "admin",
    paths,
    stateDir,
    logger: SILENT_LOGGER,
    host: { version: "0.1.0", hostname: "fault-node", os: "Test OS" },
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    pollIntervalMs: 100,
  };
}

async function assertExactlyOnce(dbPath: string, expected: Map<string, number>): Promise<void> {
  const total = [...expected.values()].reduce((a, b) => a + b, 0);
  try {
    await waitFor(() => countStored(dbPath) >= total, { timeoutMs: SLOW_TIMEOUT_MS });
  } catch {
    // Say which lines never came, rather than only that the wait ran out.
    const missing = checkDelivery(dbPath, expected);
    assert.fail(
      `Only ${countStored(dbPath)} of ${total} lines stored: lost ${missing.lost} ` +
        `(${missing.lostExamples}), foreign ${JSON.stringify(missing.foreign.slice(0, 3))}`,
    );
  }
  const report = checkDelivery(dbPath, expected);
  assert.deepEqual(
    { lost: report.lost, duplicated: report.duplicated, outOfOrder: report.outOfOrder },
    { lost: 0, duplicated: 0, outOfOrder: 0 },
    `lost: ${report.lostExamples}`,
  );
  assert.deepEqual(report.foreign, []);
  assert.deepEqual(report.gapMessages, []);
}

/** logrotate's default: rename, create the new file, the program reopens a little later. */
async function rotate(path: string, writer: NumberedWriter, n: number): Promise<string> {
  const rotated = `${path}.${n}`;
  await Deno.rename(path, rotated);
  await Deno.writeTextFile(path, "", { append: true });
  await pause(20);
  await writer.reopen();
  return rotated;
}

Deno.test("runAgent() loses no line across several rename rotations in quick succession", async () => {
  await using dir = await tempDir();
  await using server = await startTestServer();
  const path = join(dir.path, "syslog");
  await Deno.writeTextFile(path, "");
  await using agent = await runAgent(agentOptions(server.port, [path], join(dir.path, "state")));
  await waitFor(() => agent.state === "connected", { timeoutMs: SLOW_TIMEOUT_MS });
  const writer = new NumberedWriter(path, "r", {
    linesPerWrite: 10,
    intervalMs: 2,
    random: prng(3),
  });
  writer.start();
  try {
    let n = 0;
    for (let burst = 0; burst < 3; burst++) {
      await waitFor(() => countStored(server.dbPath) >= 200 * (burst + 1), {
        timeoutMs: SLOW_TIMEOUT_MS,
      });
      // Three rotations back to back, lines written in between. Each waits
      // until the agent has opened the file the last one created: a file
      // renamed away before the agent could open it by its path is a known
      // limit (docs/DELIVERY.md), which a starved CI machine would otherwise hit.
      for (let k = 0; k < 3; k++) {
        await rotate(path, writer, ++n);
        await waitFor(() => agent.stats.rotations >= n && agent.stats.openFiles === 1, {
          timeoutMs: SLOW_TIMEOUT_MS,
        });
      }
    }
    await pause(200);
  } finally {
    await writer.stop();
  }
  await assertExactlyOnce(server.dbPath, new Map([["r", writer.written]]));
  assert.ok(agent.stats.rotations >= 9);
});

Deno.test("runAgent() reads the rest of a copytruncate'd file from the copy when behind", async () => {
  await using dir = await tempDir();
  await using server = await startTestServer();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "");
  // A small window keeps the agent behind the writer, so the copy matters.
  await using agent = await runAgent({
    ...agentOptions(server.port, [path], join(dir.path, "state")),
    maxInFlightLines: 20,
  });
  await waitFor(() => agent.state === "connected", { timeoutMs: SLOW_TIMEOUT_MS });
  const writer = new NumberedWriter(path, "c", {
    linesPerWrite: 50,
    intervalMs: 2,
    random: prng(4),
  });
  writer.start();
  try {
    // One copytruncate while the agent is behind. Several in quick succession,
    // before the agent has noticed the previous one, are a known limit
    // (docs/DELIVERY.md); the soak runs copytruncates at random intervals.
    {
      const n = 1;
      await waitFor(() => countStored(server.dbPath) >= 300 * n, { timeoutMs: SLOW_TIMEOUT_MS });
      // copytruncate: copy, then truncate in place; the writer keeps its descriptor.
      // It pauses meanwhile, with its last line complete: lines (and halves of
      // a line) written between the copy and the truncation are lost by
      // copytruncate itself (docs/DELIVERY.md), whatever the reader does.
      await writer.pause();
      try {
        await Deno.copyFile(path, `${path}.${n}`);
        await Deno.truncate(path, 0);
      } finally {
        writer.resume();
      }
    }
    await pause(200);
  } finally {
    await writer.stop();
  }
  await assertExactlyOnce(server.dbPath, new Map([["c", writer.written]]));
  assert.ok(agent.stats.truncations >= 1);
});

Deno.test("runAgent() finishes a rotated file that is compressed and removed while it reads", async () => {
  await using dir = await tempDir();
  await using server = await startTestServer();
  const path = join(dir.path, "syslog");
  await Deno.writeTextFile(path, "");
  await using agent = await runAgent({
    ...agentOptions(server.port, [path], join(dir.path, "state")),
    maxInFlightLines: 20,
  });
  await waitFor(() => agent.state === "connected", { timeoutMs: SLOW_TIMEOUT_MS });
  const writer = new NumberedWriter(path, "z", {
    linesPerWrite: 50,
    intervalMs: 2,
    random: prng(5),
  });
  writer.start();
  try {
    for (let n = 1; n <= 3; n++) {
      await waitFor(() => countStored(server.dbPath) >= 300 * n, { timeoutMs: SLOW_TIMEOUT_MS });
      const rotated = await rotate(path, writer, n);
      // Compression removes the rotated file, maybe before the agent read it
      // all: it reads on through its open handle.
      await gzipFile(rotated);
    }
    await pause(200);
  } finally {
    await writer.stop();
  }
  await assertExactlyOnce(server.dbPath, new Map([["z", writer.written]]));
});

Deno.test("runAgent() loses no line while the server is down and the file grows and rotates", async () => {
  await using dir = await tempDir();
  const dataDir = join(dir.path, "server");
  await Deno.mkdir(dataDir);
  let server = await startTestServer({ dataDir });
  const port = server.port;
  const dbPath = server.dbPath;
  const path = join(dir.path, "syslog");
  await Deno.writeTextFile(path, "");
  await using agent = await runAgent(agentOptions(port, [path], join(dir.path, "state")));
  const writer = new NumberedWriter(path, "o", {
    linesPerWrite: 20,
    intervalMs: 2,
    random: prng(6),
  });
  try {
    await waitFor(() => agent.state === "connected", { timeoutMs: SLOW_TIMEOUT_MS });
    writer.start();
    await waitFor(() => countStored(dbPath) >= 300, { timeoutMs: SLOW_TIMEOUT_MS });
    await server.stop();
    // Unreachable for a while: the file grows, and is rotated twice meanwhile.
    await pause(500);
    await rotate(path, writer, 1);
    await pause(500);
    await rotate(path, writer, 2);
    await pause(500);
    server = await startTestServer({ dataDir, port });
    await pause(300);
  } finally {
    await writer.stop();
  }
  try {
    await assertExactlyOnce(dbPath, new Map([["o", writer.written]]));
    assert.ok(agent.stats.connects >= 2);
  } finally {
    await server.stop();
  }
});
