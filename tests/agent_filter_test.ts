/**
 * Filtering on the agent: `--include`, `--exclude-line` and
 * `--min-severity` drop lines before they are sent, and a dropped line is
 * consumed, not lost: the saved offset moves past it exactly, so a restart
 * neither resends nor skips anything. Also checks that the agent's copy of
 * the severity keyword table agrees with the server's (the source of truth).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, type RunAgentOptions, SILENT_LOGGER } from "../agent/mod.ts";
import { renderAgentMetrics } from "../agent/metrics_server.ts";
import * as agentSeverity from "../agent/sources/severity.ts";
import { inferSeverity } from "../protocol/mod.ts";
import { clientEvents } from "./_harness/events.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

Deno.test("runAgent() sends only lines that pass the filter and saves offsets past the filtered ones", async () => {
  await using server = await startTestServer();
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-filter-" });
  try {
    const path = join(dir, "app.log");
    const stateDir = join(dir, "state");
    await Deno.writeTextFile(path, "");
    const options: RunAgentOptions = {
      hostname: "127.0.0.1",
      port: server.port,
      username: "admin",
      password: "admin",
      paths: [path],
      stateDir,
      logger: SILENT_LOGGER,
      host: { version: "0.1.0", hostname: "filter-node", os: "Test OS" },
      filter: { include: [/app/], exclude: [/healthz/], minSeverity: 4 },
    };
    const lines = [
      ["<11>Nov 23 19:43:33 web-01 app[1]: database unreachable", true],
      ["<14>Nov 23 19:43:34 web-01 app[1]: request served", false], // info: below warning
      ["Nov 23 19:43:35 web-01 app[1]: warning: slow healthz probe", false], // excluded
      ["Nov 23 19:43:36 web-01 app[1]: ERROR: payment failed", true], // inferred err
      ["Nov 23 19:43:37 web-01 cron[2]: error in job", false], // not included
      ["Nov 23 19:43:38 web-01 app[1]: all good", false], // inferred info, and the last line
    ] as const;
    {
      await using agent = await runAgent(options);
      await waitFor(() => agent.state === "connected");
      await Deno.writeTextFile(path, lines.map(([l]) => l + "\n").join(""), { append: true });
      await waitFor(() => agent.stats.linesStored === 2 && agent.stats.linesFiltered === 4, {
        timeoutMs: 20_000,
      });
      const metrics = renderAgentMetrics(agent.stats, []);
      assert.match(metrics, /^nms_agent_lines_filtered_total 4$/m);
      assert.equal(agent.stats.linesSent, 2);
    }
    // The saved offset covers the filtered last line too: nothing is read again.
    {
      await using agent = await runAgent(options);
      await waitFor(() => agent.state === "connected");
      await Deno.writeTextFile(path, "<12>Nov 23 19:44:00 web-01 app[1]: disk 91% full\n", {
        append: true,
      });
      await waitFor(() => agent.stats.linesStored === 1, { timeoutMs: 20_000 });
      assert.equal(agent.stats.linesRead, 1, "no line before the saved offset was read again");
      assert.equal(agent.stats.linesDuplicate, 0);
    }
    assert.deepEqual(
      (await clientEvents(server.store)).map((e) => e.raw),
      [
        lines[0][0],
        lines[3][0],
        "<12>Nov 23 19:44:00 web-01 app[1]: disk 91% full",
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the agent rates a line without PRI by the same keyword rules as the server", () => {
  for (
    const message of [
      "Kernel panic - not syncing",
      "FATAL: the database system is shutting down",
      "Failed password for invalid user admin",
      "WARNING: low disk space",
      "[debug] cache hit",
      "Accepted publickey for deploy",
      "0 errors, 0 warnings",
    ]
  ) {
    assert.equal(agentSeverity.lineSeverity(message), inferSeverity(message), message);
  }
});
