/**
 * Fault injection: very long lines. Lines up to the limit
 * (`MAX_EVENT_MESSAGE_BYTES`) arrive whole, across a server restart; a line
 * over it cannot be sent as one event and is replaced, at its place, by a
 * gap event naming its file, offsets and size, so it is never lost silently.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { MAX_EVENT_MESSAGE_BYTES, runAgent, SILENT_LOGGER } from "../../agent/mod.ts";
import { startTestServer } from "../_harness/server.ts";
import { waitFor } from "../_harness/wait_for.ts";
import { prng } from "../_harness/prng.ts";
import { checkDelivery, countStored, NumberedWriter, tempDir } from "./_harness.ts";

/** Deadline for a condition that waits on the agent and the server, generous for a loaded CI machine. */
const SLOW_TIMEOUT_MS = 60_000;

Deno.test("runAgent() delivers lines near the size limit whole and reports a longer one as a gap", async () => {
  await using dir = await tempDir();
  const dataDir = join(dir.path, "server");
  await Deno.mkdir(dataDir);
  let server = await startTestServer({ dataDir });
  const port = server.port;
  const dbPath = server.dbPath;
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "");
  try {
    await using agent = await runAgent({
      hostname: "127.0.0.1",
      port,
      username: "admin",
      password: "admin",
      paths: [path],
      stateDir: join(dir.path, "state"),
      logger: SILENT_LOGGER,
      host: { version: "0.1.0", hostname: "fault-node", os: "Test OS" },
      backoffInitialMs: 20,
      backoffMaxMs: 200,
    });
    await waitFor(() => agent.state === "connected", { timeoutMs: SLOW_TIMEOUT_MS });
    // Lines just under the limit: "line l-<n> " plus padding.
    const pad = MAX_EVENT_MESSAGE_BYTES - 20;
    const writer = new NumberedWriter(path, "l", {
      linesPerWrite: 5,
      padBytes: pad,
      random: prng(9),
    });
    await writer.write(20);
    await waitFor(() => countStored(dbPath) >= 10, { timeoutMs: 60_000 });
    await server.stop();
    await writer.write(20);
    server = await startTestServer({ dataDir, port });
    await writer.finishLine();
    await waitFor(() => countStored(dbPath) >= writer.written, { timeoutMs: 60_000 });
    const before = (await Deno.stat(path)).size;
    // One line over the limit, between two normal ones.
    await Deno.writeTextFile(path, "x".repeat(MAX_EVENT_MESSAGE_BYTES + 1_000) + "\n", {
      append: true,
    });
    await writer.write(1, false);
    const total = await writer.stop();
    await waitFor(() => countStored(dbPath) >= total, { timeoutMs: 60_000 });
    const report = checkDelivery(dbPath, new Map([["l", total]]));
    assert.deepEqual([report.lost, report.duplicated, report.outOfOrder], [0, 0, 0]);
    assert.deepEqual(report.foreign, []);
    assert.equal(report.gaps, 1);
    const size = MAX_EVENT_MESSAGE_BYTES + 1_001;
    assert.match(
      report.gapMessages[0]!,
      new RegExp(
        `^nms-agent: gap: ${size} bytes of .*offsets ${before}-${before + size}\\) ` +
          `not delivered: line longer than ${MAX_EVENT_MESSAGE_BYTES} bytes$`,
      ),
    );
    assert.equal(agent.stats.linesTooLong, 1);
  } finally {
    await server.stop();
  }
});
