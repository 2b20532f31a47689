/**
 * The agent on a busy node: a thousand followed files, the agent killed with
 * SIGKILL (mid-burst, and once everything was acknowledged), and ten
 * thousand files under a descriptor limit far below them. Every line must be
 * stored exactly once, in order per file, and a restart must resume each file
 * exactly at its acknowledged offset: with the positions saved between whole
 * writes in the state's change file (agent/checkpoint/state_changes.ts), a
 * kill leaves them only there.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer } from "../_harness/server.ts";
import { waitFor } from "../_harness/wait_for.ts";
import {
  type AgentProcess,
  checkDelivery,
  countStored,
  freePort,
  pause,
  spawnAgentProcess,
  tempDir,
} from "./_harness.ts";

/** Deadline of waits for delivery and restarts, in ms (slow, shared CI machines). */
const SLOW_TIMEOUT_MS = 120_000;

/** Appends `line <name>-<n>` for n in [from, to) to each file, one write per file. */
async function writeRound(paths: readonly string[], from: number, to: number): Promise<void> {
  for (let i = 0; i < paths.length; i++) {
    let text = "";
    for (let n = from; n < to; n++) text += `line f${i}-${n}\n`;
    await Deno.writeTextFile(paths[i]!, text, { append: true });
  }
}

async function makeFiles(dir: string, count: number): Promise<string[]> {
  await Deno.mkdir(join(dir, "logs"));
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, "logs", `f${i}.log`);
    await Deno.writeTextFile(path, "");
    paths.push(path);
  }
  return paths;
}

function assertExactlyOnce(dbPath: string, files: number, linesPerFile: number): void {
  const expected = new Map<string, number>();
  for (let i = 0; i < files; i++) expected.set(`f${i}`, linesPerFile);
  const report = checkDelivery(dbPath, expected);
  assert.deepEqual(
    {
      lost: report.lost,
      duplicated: report.duplicated,
      outOfOrder: report.outOfOrder,
      gaps: report.gaps,
    },
    { lost: 0, duplicated: 0, outOfOrder: 0, gaps: 0 },
    `lost: ${report.lostExamples}`,
  );
  assert.deepEqual(report.foreign, []);
}

/** A counter of the agent's `/metrics`. */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} in the metrics`);
  return Number(line.slice(name.length + 1));
}

Deno.test("nms-agent following 1,000 files resumes each exactly at its offset after SIGKILL", async () => {
  await using dir = await tempDir("nms-many-files-");
  await using server = await startTestServer();
  const files = 1_000;
  const paths = await makeFiles(dir.path, files);
  const metricsPort = freePort();
  const spawn = () =>
    spawnAgentProcess({
      port: server.port,
      paths: [join(dir.path, "logs", "*.log")],
      stateDir: join(dir.path, "state"),
      workDir: dir.path,
      args: ["--metrics-port", String(metricsPort)],
    });
  let agent: AgentProcess = await spawn();
  try {
    await waitFor(() => agent.connected(), { timeoutMs: SLOW_TIMEOUT_MS });
    await writeRound(paths, 0, 1);
    await waitFor(() => countStored(server.dbPath) >= files, { timeoutMs: SLOW_TIMEOUT_MS });
    // Killed in the middle of a burst over every file.
    await writeRound(paths, 1, 3);
    await waitFor(() => countStored(server.dbPath) >= files + 500, {
      timeoutMs: SLOW_TIMEOUT_MS,
    });
    await agent.stop("SIGKILL");
    // The files grow while no agent runs.
    await writeRound(paths, 3, 4);
    agent = await spawn();
    await waitFor(() => agent.connected(), { timeoutMs: SLOW_TIMEOUT_MS });
    await waitFor(() => countStored(server.dbPath) >= 4 * files, { timeoutMs: SLOW_TIMEOUT_MS });
    assertExactlyOnce(server.dbPath, files, 4);

    // Killed once everything is acknowledged and saved (saves are at most
    // 200 ms apart; the whole state was written only at start): the restart
    // must send no line again, which it can only do from the change file.
    await waitFor(async () => await metric(metricsPort, "nms_agent_lines_in_flight") === 0);
    await pause(1_000);
    await agent.stop("SIGKILL");
    agent = await spawn();
    await waitFor(() => agent.connected(), { timeoutMs: SLOW_TIMEOUT_MS });
    await writeRound(paths, 4, 5);
    await waitFor(() => countStored(server.dbPath) >= 5 * files, { timeoutMs: SLOW_TIMEOUT_MS });
    assertExactlyOnce(server.dbPath, files, 5);
    await waitFor(async () => await metric(metricsPort, "nms_agent_lines_in_flight") === 0);
    assert.equal(await metric(metricsPort, "nms_agent_lines_sent_total"), files, "no resend");
    assert.equal(
      await metric(metricsPort, 'nms_agent_lines_acknowledged_total{result="duplicate"}'),
      0,
    );
  } finally {
    await agent.stop("SIGKILL");
  }
});

Deno.test("nms-agent follows 10,000 files under a limit of 256 descriptors with --max-open-files 64", async () => {
  await using dir = await tempDir("nms-many-files-");
  await using server = await startTestServer();
  const files = 10_000;
  const paths = await makeFiles(dir.path, files);
  await using agent = await spawnAgentProcess({
    port: server.port,
    paths: [join(dir.path, "logs", "*.log")],
    stateDir: join(dir.path, "state"),
    workDir: dir.path,
    args: ["--max-open-files", "64"],
    wrapper: ["prlimit", "--nofile=256:256"],
  });
  await waitFor(() => agent.connected(), { timeoutMs: SLOW_TIMEOUT_MS });
  await writeRound(paths, 0, 1);
  await waitFor(() => countStored(server.dbPath) >= files, { timeoutMs: SLOW_TIMEOUT_MS });
  assertExactlyOnce(server.dbPath, files, 1);
  let open = 0;
  for await (const entry of Deno.readDir(`/proc/${agent.pid}/fd`)) {
    try {
      if ((await Deno.readLink(`/proc/${agent.pid}/fd/${entry.name}`)).startsWith(dir.path)) {
        open++;
      }
    } catch {
      // Closed meanwhile.
    }
  }
  // The budget, plus the state files and the moment a file is being reopened.
  assert.ok(open <= 64 + 4, `${open} descriptors of the agent point into the test directory`);
  assert.doesNotMatch(agent.stderr(), /Too many open files|EMFILE/);
});
