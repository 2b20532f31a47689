/**
 * `/metrics` and `/healthz` of a real server and a real agent, read as
 * Prometheus reads them: every exposition must pass `promtool check metrics`
 * (Prometheus's own parser and linter: the format, `_total` only on
 * counters, units in names), and the documented scrape configuration with
 * `basic_auth` must pass `promtool check config`. The promtool tests are
 * ignored, with the reason, when promtool is missing (.ci/run installs
 * Debian's `prometheus` package, which has it).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runAgent, SILENT_LOGGER } from "../agent/mod.ts";
import { startMetricsFromFlags } from "../agent/metrics_server.ts";
import { silentLogger, startServer } from "../server/mod.ts";
import { BUILD_COMMIT, BUILD_VERSION } from "../server/build_info.ts";
import type { EventBatch } from "../server/store/mod.ts";
import { LineClient } from "./_harness/line_client.ts";
import { waitFor } from "./_harness/wait_for.ts";

const PROMTOOL = "/usr/bin/promtool";
const hasPromtool = await Deno.stat(PROMTOOL).then(() => true, () => false);
const PROMTOOL_MISSING = `${PROMTOOL} is not installed; .ci/run installs the prometheus package`;

const PRODUCTION_MD = fileURLToPath(new URL("../docs/PRODUCTION.md", import.meta.url));

/** Runs promtool with `args`, `input` on its stdin; returns its exit code and output. */
async function promtool(args: string[], input = ""): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(PROMTOOL, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** Sample lines of an exposition: `name{labels}` as written → value. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    const value = line.slice(cut + 1);
    found.set(line.slice(0, cut), value === "+Inf" ? Infinity : Number(value));
  }
  return found;
}

/** Every `# TYPE` line: name → type. */
function types(text: string): Map<string, string> {
  return new Map(
    [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]),
  );
}

/** A running server with its console, a syslog UDP port and an alert webhook that answers 200. */
async function serverWithEverything() {
  const dir = await Deno.makeTempDir({ prefix: "nms-metrics-" });
  let deliveries = 0;
  const hook = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    await req.body?.cancel();
    deliveries++;
    return new Response(null, { status: 204 });
  });
  const server = await startServer({
    port: 0,
    hostname: "127.0.0.1",
    dbPath: join(dir, "nms.db"),
    workers: 1,
    adminPassword: "admin",
    log: silentLogger,
    httpPort: 0,
    syslogUdpPort: 0,
    alertWebhook: { url: `http://127.0.0.1:${hook.addr.port}/hook` },
  });
  return {
    server,
    url: `http://127.0.0.1:${server.httpAddr!.port}`,
    deliveries: () => deliveries,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await hook.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const ADMIN = { authorization: `Basic ${btoa("admin:admin")}` };

/** Logs in over the agent protocol, registers, heartbeats and sends one event. */
async function oneAgentSession(port: number): Promise<void> {
  await using client = await LineClient.connect(port);
  await client.readLine();
  for (
    const [line, answer] of [
      ["LOGIN admin admin", "ACK OK Login successful"],
      ["REGISTER 0.1.0 metrics-host Linux", "ACK OK Registration successful"],
      ["HEARTBEAT 12", "ACK OK Heartbeat received"],
      ["BATCH_EVENT Nov 23 19:43:33 metrics-host sshd[1]: hello", "ACK OK Event received"],
      ["BYE", "ACK OK Goodbye"],
    ]
  ) {
    await client.send(line!);
    assert.equal(await client.readLine(), answer);
  }
}

Deno.test("server /metrics exports build, process, ingest, syslog, alert, webhook and writer metrics", async () => {
  await using env = await serverWithEverything();
  const unauthorized = await fetch(`${env.url}/metrics`);
  assert.equal(unauthorized.status, 401, "/metrics stays behind credentials");
  await unauthorized.body?.cancel();

  await oneAgentSession(env.server.addr.port);
  const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const message = new TextEncoder().encode("<13>Nov 23 19:43:33 router1 kernel: link up");
    await udp.send(message, { transport: "udp", ...env.server.syslogAddrs.udp! });
  } finally {
    udp.close();
  }
  await waitFor(() => env.server.syslogStats().stored === 1, { message: "the datagram stored" });
  await waitFor(() => env.deliveries() >= 1, { message: "the alert delivered to the webhook" });

  const text = await waitFor(async () => {
    const response = await fetch(`${env.url}/metrics`, { headers: ADMIN });
    const body = await response.text();
    return /^nms_alert_webhook_deliveries_total [1-9]/m.test(body) ? body : null;
  }, { message: "the webhook delivery counted" });
  const values = samples(text);
  const value = (key: string) => {
    assert.ok(values.has(key), `no sample ${key}`);
    return values.get(key)!;
  };
  assert.equal(
    value(
      `nms_build_info{version="${BUILD_VERSION}",commit="${BUILD_COMMIT}",deno="${Deno.version.deno}"}`,
    ),
    1,
  );
  assert.ok(value("process_resident_memory_bytes") > 10_000_000);
  assert.ok(value("process_cpu_seconds_total") > 0);
  const started = value("process_start_time_seconds");
  assert.ok(started <= Date.now() / 1000 && started > Date.now() / 1000 - 3600, String(started));
  // `deno test -A` may read /proc/self; the compiled binaries may not (common/process_metrics.ts).
  if (Deno.build.os === "linux") assert.ok(value("process_open_fds") > 3);
  assert.equal(value("nms_agent_registrations_total"), 1);
  assert.equal(value("nms_agent_heartbeats_total"), 1);
  assert.equal(value("nms_syslog_messages_received_total"), 1);
  assert.equal(value("nms_syslog_messages_stored_total"), 1);
  assert.equal(value("nms_syslog_datagrams_denied_total"), 0);
  assert.ok(value("nms_alerts_raised_total") >= 1, "the new agent's registration raised an alert");
  assert.equal(value("nms_alert_webhook_failures_total"), 0);
  assert.ok(value("nms_writer_commit_duration_seconds_count") >= 1);
  assert.equal(
    value('nms_writer_commit_duration_seconds_bucket{le="+Inf"}'),
    value("nms_writer_commit_duration_seconds_count"),
  );
  assert.ok(value("nms_text_index_lag_events") >= 0);
  assert.ok(value("nms_oldest_event_received_timestamp_seconds") > 1_600_000_000);
  for (const old of ["nms_uptime_seconds", "nms_oldest_event_received_seconds"]) {
    assert.ok(!types(text).has(old), `${old} was renamed`);
  }
  for (const [name, type] of types(text)) {
    assert.equal(name.endsWith("_total"), type === "counter", `${name} is a ${type}`);
  }

  const health = await (await fetch(`${env.url}/healthz`)).json();
  assert.deepEqual(
    { status: health.status, writer: health.writer, listeners: health.listeners },
    { status: "ok", writer: "ok", listeners: { agents: "ok", "syslog-udp": "ok" } },
  );
});

Deno.test({
  name: hasPromtool
    ? "promtool check metrics accepts the server's and the agent's /metrics"
    : `promtool check metrics (ignored: ${PROMTOOL_MISSING})`,
  ignore: !hasPromtool,
  fn: async () => {
    await using env = await serverWithEverything();
    await oneAgentSession(env.server.addr.port);
    const serverText = await (await fetch(`${env.url}/metrics`, { headers: ADMIN })).text();
    const serverCheck = await promtool(["check", "metrics"], serverText);
    assert.equal(serverCheck.code, 0, `promtool on the server's metrics:\n${serverCheck.output}`);

    const dir = await Deno.makeTempDir({ prefix: "nms-metrics-agent-" });
    try {
      const path = join(dir, 'a "quoted"\\path.log');
      await Deno.writeTextFile(path, "one\n");
      await using agent = await runAgent({
        hostname: "127.0.0.1",
        port: env.server.addr.port,
        username: "admin",
        password: "admin",
        paths: [path],
        logger: SILENT_LOGGER,
        host: { version: "0.1.0", hostname: "metrics-agent", os: "Test OS" },
      });
      await using metrics = startMetricsFromFlags(agent, { metricsPort: 0 })!;
      await waitFor(() => agent.state === "connected", { timeoutMs: 20_000 });
      const base = `http://127.0.0.1:${metrics.addr.port}`;
      const agentText = await (await fetch(`${base}/metrics`)).text();
      const agentCheck = await promtool(["check", "metrics"], agentText);
      assert.equal(agentCheck.code, 0, `promtool on the agent's metrics:\n${agentCheck.output}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: hasPromtool
    ? "promtool check config accepts the scrape configuration of docs/PRODUCTION.md"
    : `promtool check config (ignored: ${PROMTOOL_MISSING})`,
  ignore: !hasPromtool,
  fn: async () => {
    const doc = await Deno.readTextFile(PRODUCTION_MD);
    const block = /```yaml\n(# prometheus\.yml[^]*?)```/.exec(doc)?.[1];
    assert.ok(block, "docs/PRODUCTION.md has a ```yaml block starting with # prometheus.yml");
    assert.match(block, /basic_auth:/);
    const dir = await Deno.makeTempDir({ prefix: "nms-prometheus-" });
    try {
      // The password file the configuration names must exist for promtool.
      const passwordFile = /password_file: (\S+)/.exec(block)?.[1];
      assert.ok(passwordFile, "the scrape configuration reads its password from a file");
      await Deno.writeTextFile(join(dir, "nms-metrics-password"), "secret\n");
      const config = block.replaceAll(passwordFile, join(dir, "nms-metrics-password"));
      await Deno.writeTextFile(join(dir, "prometheus.yml"), config);
      const result = await promtool(["check", "config", join(dir, "prometheus.yml")]);
      assert.equal(result.code, 0, result.output);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("server /healthz answers 503 once the writer worker has died", async () => {
  await using env = await serverWithEverything();
  const before = await fetch(`${env.url}/healthz`);
  assert.equal(before.status, 200);
  await before.body?.cancel();
  // A batch the writer cannot take kills its worker, as a crash in it would.
  env.server.writer.recordEvents(null as unknown as EventBatch);
  const body = await waitFor(async () => {
    const response = await fetch(`${env.url}/healthz`);
    return response.status === 503 ? await response.json() : (await response.body?.cancel(), null);
  }, { message: "/healthz to report the dead writer" });
  assert.equal(body.status, "unavailable");
  assert.equal(body.writer, "failing");
});

Deno.test("agent /healthz answers 200 while logged in and 503 while the server is away", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-health-" });
  const server = await startServer({
    port: 0,
    hostname: "127.0.0.1",
    dbPath: join(dir, "nms.db"),
    workers: 1,
    adminPassword: "admin",
    log: silentLogger,
  });
  try {
    const path = join(dir, "app.log");
    await Deno.writeTextFile(path, "");
    await using agent = await runAgent({
      hostname: "127.0.0.1",
      port: server.addr.port,
      username: "admin",
      password: "admin",
      paths: [path],
      logger: SILENT_LOGGER,
      host: { version: "0.1.0", hostname: "health-agent", os: "Test OS" },
    });
    await using metrics = startMetricsFromFlags(agent, { metricsPort: 0 })!;
    const url = `http://127.0.0.1:${metrics.addr.port}/healthz`;
    await waitFor(() => agent.state === "connected", { timeoutMs: 20_000 });
    const up = await fetch(url);
    assert.equal(up.status, 200);
    assert.deepEqual(await up.json(), { status: "ok", state: "connected", linesInFlight: 0 });
    await server.shutdown();
    const down = await waitFor(async () => {
      const response = await fetch(url);
      return response.status === 503
        ? await response.json()
        : (await response.body?.cancel(), null);
    }, { timeoutMs: 20_000, message: "the agent's /healthz to report the lost server" });
    assert.equal(down.status, "disconnected");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
