/**
 * The agent's `/metrics` endpoint (`--metrics-port`): counters of a
 * real agent shipping to a real server, in the Prometheus text format.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, SILENT_LOGGER } from "../agent/mod.ts";
import { startMetricsFromFlags } from "../agent/metrics_server.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

/** The value of one sample line of a Prometheus text, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

Deno.test("startMetricsFromFlags() serves lines read, sent, acknowledged and bytes behind per file", async () => {
  await using server = await startTestServer();
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-metrics-" });
  try {
    const path = join(dir, 'app "quoted".log');
    await Deno.writeTextFile(path, "");
    await using agent = await runAgent({
      hostname: server.hostname,
      port: server.port,
      username: "admin",
      password: "admin",
      paths: [path],
      logger: SILENT_LOGGER,
      host: { version: "0.1.0", hostname: "metrics-node", os: "Test OS" },
    });
    const metrics = startMetricsFromFlags(agent, { metricsPort: 0 });
    assert.ok(metrics);
    try {
      assert.equal(metrics.addr.hostname, "127.0.0.1");
      await waitFor(() => agent.state === "connected", { timeoutMs: 20_000 });
      await Deno.writeTextFile(path, "one\ntwo\nthree\n", { append: true });
      await waitFor(() => agent.stats.linesStored === 3, { timeoutMs: 20_000 });
      const url = `http://127.0.0.1:${metrics.addr.port}/metrics`;
      const response = await fetch(url);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      assert.equal(sample(text, "nms_agent_lines_read_total"), 3);
      assert.equal(sample(text, "nms_agent_lines_sent_total"), 3);
      assert.equal(sample(text, 'nms_agent_lines_acknowledged_total{result="stored"}'), 3);
      assert.equal(sample(text, "nms_agent_connects_total"), 1);
      assert.equal(sample(text, "nms_agent_reconnects_total"), 0);
      assert.equal(sample(text, "nms_agent_connected"), 1);
      // One line per file, its path escaped as a label value.
      assert.equal(sample(text, `nms_agent_bytes_behind{path="${path.replace(/"/g, '\\"')}"}`), 0);
      assert.match(text, /# TYPE nms_agent_lines_read_total counter\n/);
      const other = await fetch(`http://127.0.0.1:${metrics.addr.port}/`);
      assert.equal(other.status, 404);
      await other.body?.cancel();
    } finally {
      await metrics.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startMetricsFromFlags() serves nothing without --metrics-port", () => {
  const source = { stats: {} as never, fileLag: () => Promise.resolve([]) };
  assert.equal(startMetricsFromFlags(source, {}), undefined);
});
