/**
 * Fault injection: what happens to a followed file while the agent
 * is stopped. Rotation (found again under its new name, compressed or not),
 * `copytruncate`, truncation, deletion with inode reuse, a file that does not
 * exist yet, zero-byte and tiny files, a partial last line at the stop, and
 * files created and rotated away entirely while the agent was stopped.
 * Where lines truly cannot be found again (rotated, compressed and removed),
 * a gap event must be stored and flagged, naming the file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, type RunAgentOptions, SILENT_LOGGER } from "../../agent/mod.ts";
import { EVENT_FLAGS } from "../../server/mod.ts";
import { formatEvent } from "../../server/cli/format.ts";
import { startTestServer, type TestServer } from "../_harness/server.ts";
import { waitFor } from "../_harness/wait_for.ts";
import { clientEvents } from "../_harness/events.ts";
import { prng } from "../_harness/prng.ts";
import { checkDelivery, countStored, gzipFile, NumberedWriter, tempDir } from "./_harness.ts";

/** Deadline of waits for delivery, in ms (slow, shared CI machines). */
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
    // The first run reads what the test wrote before it.
    startAtEnd: false,
  };
}

/** A server, a followed path, a writer, and agent runs that start and stop. */
async function scenario(name: string) {
  const dir = await tempDir();
  const server = await startTestServer();
  const path = join(dir.path, name);
  await Deno.writeTextFile(path, "");
  const stateDir = join(dir.path, "state");
  const writer = new NumberedWriter(path, "w", { linesPerWrite: 25, random: prng(name.length) });
  return {
    dir: dir.path,
    server,
    path,
    writer,
    /** Runs the agent until every number written so far (but `lost`) is stored, then stops it. */
    async runUntilStored(lost = 0): Promise<void> {
      await using agent = await runAgent(agentOptions(server.port, [path], stateDir));
      await waitFor(() => agent.state === "connected", { timeoutMs: SLOW_TIMEOUT_MS });
      await waitFor(() => countStored(server.dbPath) >= writer.written - lost, {
        timeoutMs: SLOW_TIMEOUT_MS,
      });
    },
    async [Symbol.asyncDispose]() {
      await writer.stop();
      await server[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

function assertExactlyOnce(server: TestServer, written: number, gaps = 0): void {
  const report = checkDelivery(server.dbPath, new Map([["w", written]]));
  assert.deepEqual(
    { lost: report.lost, duplicated: report.duplicated, outOfOrder: report.outOfOrder },
    { lost: 0, duplicated: 0, outOfOrder: 0 },
    `lost: ${report.lostExamples}`,
  );
  assert.deepEqual(report.foreign, []);
  assert.equal(report.gaps, gaps, report.gapMessages.join("\n"));
}

Deno.test("runAgent() reads a file rotated while it was stopped under its new name, then the new file", async () => {
  await using s = await scenario("syslog");
  await s.runUntilStored();
  // Written while stopped, ending with half a line, then rotated.
  await s.writer.write(100);
  await Deno.rename(s.path, `${s.path}.1`);
  await s.writer.finishLine();
  await s.writer.reopen();
  await s.writer.write(100);
  await s.runUntilStored();
  assertExactlyOnce(s.server, s.writer.written);
});

Deno.test("runAgent() reads a file created and rotated away entirely while it was stopped (two rotations), before the current file", async () => {
  await using s = await scenario("app.log");
  await s.writer.write(50);
  await s.runUntilStored();
  await s.writer.write(30);
  // Rotation 1: the followed file becomes app.log.1, a new app.log gets lines.
  await Deno.rename(s.path, `${s.path}.1`);
  await s.writer.reopen();
  await s.writer.write(100);
  // Rotation 2: the file born while stopped is rotated away too.
  await Deno.rename(`${s.path}.1`, `${s.path}.2`);
  await Deno.rename(s.path, `${s.path}.1`);
  await s.writer.reopen();
  await s.writer.write(100);
  await s.runUntilStored();
  assertExactlyOnce(s.server, s.writer.written);
});

Deno.test("runAgent() reads files created and rotated while it was stopped oldest first, a compressed one decompressed, and reports an unreadable one as a gap naming it", async () => {
  await using s = await scenario("app.log");
  await s.writer.write(50);
  await s.runUntilStored();
  // An undecompressable rotated file written after the stop: a gap, not silence.
  await Deno.writeTextFile(`${s.path}.9.gz`, "not gzip at all\n");
  // Three rotations; the first file born while stopped is compressed
  // (gzip keeps the modification time, so the order is still by age).
  await Deno.rename(s.path, `${s.path}.1`);
  await s.writer.reopen();
  await s.writer.write(100);
  await Deno.rename(`${s.path}.1`, `${s.path}.2`);
  await Deno.rename(s.path, `${s.path}.1`);
  await s.writer.reopen();
  await s.writer.write(100);
  await Deno.rename(`${s.path}.2`, `${s.path}.3`);
  await Deno.rename(`${s.path}.1`, `${s.path}.2`);
  const mtime = (await Deno.stat(`${s.path}.2`)).mtime!;
  await gzipFile(`${s.path}.2`);
  await Deno.utime(`${s.path}.2.gz`, mtime, mtime);
  await Deno.rename(s.path, `${s.path}.1`);
  await s.writer.reopen();
  await s.writer.write(100);
  await s.runUntilStored();
  await waitFor(async () =>
    (await clientEvents(s.server.store)).some((e) => e.flags & EVENT_FLAGS.gap)
  );
  assertExactlyOnce(s.server, s.writer.written, 1);
  const report = checkDelivery(s.server.dbPath, new Map([["w", s.writer.written]]));
  assert.match(report.gapMessages[0]!, /app\.log\.9\.gz/);
});

Deno.test("runAgent() reads the rest of a file rotated and compressed while it was stopped", async () => {
  await using s = await scenario("syslog");
  await s.writer.write(50);
  await s.runUntilStored();
  await s.writer.write(100, false);
  await Deno.rename(s.path, `${s.path}.1`);
  await s.writer.reopen();
  await gzipFile(`${s.path}.1`);
  await s.writer.write(100);
  await s.runUntilStored();
  assertExactlyOnce(s.server, s.writer.written);
});

Deno.test("runAgent() reads the rest of a file copied and truncated while it was stopped", async () => {
  await using s = await scenario("app.log");
  await s.writer.write(50);
  await s.runUntilStored();
  await s.writer.write(100, false);
  await Deno.copyFile(s.path, `${s.path}.1`);
  await Deno.truncate(s.path, 0);
  await s.writer.write(100);
  await s.runUntilStored();
  assertExactlyOnce(s.server, s.writer.written);
});

Deno.test("runAgent() reports a gap event for a file rotated, compressed and removed while it was stopped", async () => {
  await using s = await scenario("syslog");
  await s.writer.write(50);
  await s.runUntilStored();
  const before = s.writer.written;
  // Lines written while stopped, then the file is gone for good.
  await s.writer.write(100, false);
  await Deno.rename(s.path, `${s.path}.1`);
  await s.writer.reopen();
  await Deno.remove(`${s.path}.1`);
  await s.writer.write(100);
  await s.runUntilStored(100);
  await waitFor(async () =>
    (await clientEvents(s.server.store)).some((e) => e.flags & EVENT_FLAGS.gap)
  );
  const report = checkDelivery(s.server.dbPath, new Map([["w", s.writer.written]]));
  // Exactly the lines of the removed file are missing, and a gap says so.
  assert.equal(report.lost, 100);
  assert.equal(report.duplicated, 0);
  assert.match(report.lostExamples, new RegExp(`^w: ${before},`));
  assert.equal(report.gaps, 1);
  assert.match(
    report.gapMessages[0]!,
    new RegExp(`^nms-agent: gap: \\d+ bytes of ${JSON.stringify(s.path).replaceAll("/", "\\/")}`),
  );
  const gap = (await clientEvents(s.server.store)).find((e) => e.flags & EVENT_FLAGS.gap)!;
  assert.equal(gap.program, "nms-agent");
  assert.match(formatEvent(gap), / warning \[GAP\] nms-agent: gap: /);
});

Deno.test("runAgent() reads a file truncated while it was stopped from its start and reports the gap", async () => {
  await using s = await scenario("app.log");
  await s.writer.write(50, false);
  await s.runUntilStored();
  await s.writer.write(30, false);
  await Deno.truncate(s.path, 0);
  await s.writer.write(40, false);
  await s.runUntilStored(30);
  const report = checkDelivery(s.server.dbPath, new Map([["w", s.writer.written]]));
  assert.equal(report.lost, 30);
  assert.equal(report.duplicated, 0);
  assert.equal(report.gaps, 1);
});

Deno.test("runAgent() catches inode reuse: a file deleted and re-created while it was stopped is read from its start", async () => {
  await using s = await scenario("app.log");
  await s.writer.write(50, false);
  await s.runUntilStored();
  await Deno.remove(s.path);
  // The new file very likely gets the same inode number back.
  await s.writer.reopen();
  await s.writer.write(30);
  await s.runUntilStored();
  // Every line is there; the old file's end was read, so the gap names 0 bytes.
  const report = checkDelivery(s.server.dbPath, new Map([["w", s.writer.written]]));
  assert.equal(report.lost, 0);
  assert.equal(report.duplicated, 0);
  assert.equal(report.gaps, 1);
  assert.match(report.gapMessages[0]!, /^nms-agent: gap: 0 bytes of /);
});

Deno.test("runAgent() reads a file from its start when it did not exist at start or appeared while stopped", async () => {
  await using dir = await tempDir();
  await using server = await startTestServer();
  const stateDir = join(dir.path, "state");
  const early = join(dir.path, "early.log");
  const late = join(dir.path, "late.log");
  const options = agentOptions(server.port, [early, late], stateDir);
  {
    await using agent = await runAgent(options);
    await waitFor(() => agent.state === "connected", { timeoutMs: SLOW_TIMEOUT_MS });
    // Appears while the agent runs.
    await Deno.writeTextFile(early, "line e-0\nline e-1\n");
    await waitFor(() => countStored(server.dbPath) === 2, { timeoutMs: SLOW_TIMEOUT_MS });
  }
  // Appears while the agent is stopped; a zero-byte file and a tiny one.
  await Deno.writeTextFile(late, "line l-0\n");
  await Deno.writeTextFile(early, "line e-2\n", { append: true });
  {
    await using agent = await runAgent(options);
    await waitFor(() => countStored(server.dbPath) === 4, { timeoutMs: SLOW_TIMEOUT_MS });
    assert.equal(agent.stats.linesDuplicate, 0);
  }
  const report = checkDelivery(server.dbPath, new Map([["e", 3], ["l", 1]]));
  assert.deepEqual([report.lost, report.duplicated, report.gaps], [0, 0, 0]);
});
