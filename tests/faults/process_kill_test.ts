/**
 * Fault injection: the agent and the server stopped with SIGTERM or
 * killed with SIGKILL in the middle of a burst, and restarted later. Lines
 * `line <file>-<n>` are written the whole time (some in two parts, so a
 * partial last line is there at some of the kills); afterwards the database
 * must hold every number exactly once, in file order.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer } from "../_harness/server.ts";
import { spawnServerProcess } from "../_harness/server_process.ts";
import { waitFor } from "../_harness/wait_for.ts";
import {
  checkDelivery,
  countStored,
  freePort,
  NumberedWriter,
  pause,
  spawnAgentProcess,
  tempDir,
} from "./_harness.ts";

/** Deadline of waits for delivery and restarts, in ms (slow, shared CI machines). */
const SLOW_TIMEOUT_MS = 60_000;

function assertExactlyOnce(dbPath: string, expected: Map<string, number>): void {
  const report = checkDelivery(dbPath, expected);
  assert.deepEqual(
    { lost: report.lost, duplicated: report.duplicated, outOfOrder: report.outOfOrder },
    { lost: 0, duplicated: 0, outOfOrder: 0 },
    `lost: ${report.lostExamples}`,
  );
  assert.deepEqual(report.foreign, []);
  assert.equal(report.gaps, 0);
}

for (const signal of ["SIGKILL", "SIGTERM"] as const) {
  Deno.test(`nms-agent killed with ${signal} mid-burst and restarted loses and duplicates no line`, async () => {
    await using dir = await tempDir();
    await using server = await startTestServer();
    const path = join(dir.path, "app.log");
    const stateDir = join(dir.path, "state");
    await Deno.writeTextFile(path, "");
    const writer = new NumberedWriter(path, "a", { linesPerWrite: 10, intervalMs: 4 });
    const spawn = () =>
      spawnAgentProcess({ port: server.port, paths: [path], stateDir, workDir: dir.path });
    let agent = await spawn();
    try {
      await waitFor(() => agent.connected(), { timeoutMs: SLOW_TIMEOUT_MS });
      writer.start();
      for (const target of [300, 900]) {
        await waitFor(() => countStored(server.dbPath) >= target, { timeoutMs: SLOW_TIMEOUT_MS });
        await agent.stop(signal);
        // The file grows while no agent runs.
        await pause(200);
        agent = await spawn();
        await waitFor(() => agent.connected(), { timeoutMs: SLOW_TIMEOUT_MS });
      }
      await pause(300);
      const total = await writer.stop();
      await waitFor(() => countStored(server.dbPath) >= total, { timeoutMs: SLOW_TIMEOUT_MS });
      assertExactlyOnce(server.dbPath, new Map([["a", total]]));
    } finally {
      await writer.stop();
      await agent.stop("SIGKILL");
    }
  });

  Deno.test(`nms-server killed with ${signal} mid-burst and restarted loses and duplicates no line`, async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "app.log");
    const stateDir = join(dir.path, "state");
    const dbPath = join(dir.path, "nms.db");
    const port = freePort();
    await Deno.writeTextFile(path, "");
    const spawnServer = () =>
      spawnServerProcess({
        args: ["--db", dbPath, "--port", String(port), "--workers", "1"],
        startTimeoutMs: SLOW_TIMEOUT_MS,
      });
    let server = await spawnServer();
    const writer = new NumberedWriter(path, "s", { linesPerWrite: 10, intervalMs: 4 });
    await using agent = await spawnAgentProcess({
      port,
      paths: [path],
      stateDir,
      workDir: dir.path,
    });
    try {
      await waitFor(() => agent.connected(), { timeoutMs: SLOW_TIMEOUT_MS });
      writer.start();
      for (const target of [300, 900]) {
        await waitFor(() => countStored(dbPath) >= target, { timeoutMs: SLOW_TIMEOUT_MS });
        await server.stop(signal);
        // The file grows while the server is down.
        await pause(300);
        server = await spawnServer();
      }
      await pause(300);
      const total = await writer.stop();
      await waitFor(() => countStored(dbPath) >= total, { timeoutMs: SLOW_TIMEOUT_MS });
      assertExactlyOnce(dbPath, new Map([["s", total]]));
    } finally {
      await writer.stop();
      await agent.stop("SIGKILL");
      await server.stop("SIGKILL");
    }
  });
}
