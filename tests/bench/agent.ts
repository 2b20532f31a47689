// deno-lint-ignore-file no-console -- a benchmark's output is its result, printed for the person running it
/**
 * Agent benchmarks, with real processes: a file followed by `nms-agent`, the
 * server as a subprocess, the database polled for commits.
 *
 * - latency: one line appended at a time, time until it is committed;
 * - burst: 1,000,000 lines appended at once, lines/s until all are committed;
 * - memory: the agent's RSS idle, during the burst, with a backlog written
 *   while the server is down (10 GiB by default), and while it catches up
 *   once the server is back.
 *
 * Usage: deno run -A tests/bench/agent.ts [--burst 1000000] [--latency 200] [--backlog-mb 10240]
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { sampleLine, spawnServer } from "./_load.ts";
import { benchArgs, numberOption } from "./_args.ts";
import { agentConnected, spawnBenchAgent } from "./_agent_process.ts";
import { percentile } from "./_timing.ts";
import { writeAll } from "../_harness/write_all.ts";

const encoder = new TextEncoder();
const MB = 1024 * 1024;
/** Longest time the agent's memory is sampled while it catches up with the backlog. */
const BACKLOG_CATCH_UP_SAMPLE_MS = 15_000;

/** CPU seconds (user + system) a process has used so far, from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Counts committed client events by polling the server's database (WAL allows a concurrent reader). */
function committedCounter(dbPath: string): () => number {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  const statement = db.prepare("SELECT count(*) AS n FROM logs WHERE flags & 4 = 0");
  return () => Number((statement.get() as { n: number }).n);
}

/**
 * The newest row id, read through the primary key: cheap enough to poll while
 * a burst is stored (a `count(*)` scans the table and would take a core from
 * the processes being measured).
 */
function newestId(dbPath: string): () => number {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  const statement = db.prepare("SELECT coalesce(max(id), 0) AS id FROM logs");
  return () => Number((statement.get() as { id: number }).id);
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Options of {@linkcode runAgentBench}. */
export interface AgentBenchOptions {
  /** Lines of the burst. @default {1000000} */
  burst?: number;
  /** Single lines timed. @default {200} */
  latency?: number;
  /** Backlog written while the server is down, in MiB. @default {10240} */
  backlogMb?: number;
}

/**
 * Runs the agent benchmarks and prints one line each.
 *
 * @param options Sizes.
 */
export async function runAgentBench(options: AgentBenchOptions = {}): Promise<void> {
  const burst = options.burst ?? 1_000_000;
  const latencyLines = options.latency ?? 200;
  const backlogMb = options.backlogMb ?? 10_240;
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-bench-" });
  await Deno.writeTextFile(join(dir, "password"), "bench-password\n");
  const log = join(dir, "app.log");
  await Deno.writeTextFile(log, "");
  // Deno transpiles and caches the agent's modules on their first run, which
  // leaves a few MB in that run's RSS; a compiled binary never does. `version`
  // loads the same modules as `run`, so the measured agent starts warm.
  await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(import.meta.dirname!, "../../agent/main.ts"), "version"],
    stdout: "null",
    stderr: "null",
  }).output();
  const server = await spawnServer(join(dir, "server"));
  const agent = spawnBenchAgent({ port: server.port, dir, path: log });
  try {
    const committed = committedCounter(join(dir, "server", "nms.db"));
    const file = await Deno.open(log, { append: true });
    try {
      // The agent starts at the end of an existing file: write once it follows it.
      await agentConnected(agent);
      await file.write(encoder.encode(sampleLine(0, 0) + "\n"));
      await until(() => committed() >= 1, 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      const idleRss = await rss(agent.pid);

      const latencies: number[] = [];
      for (let i = 1; i <= latencyLines; i++) {
        const before = committed();
        const start = performance.now();
        await file.write(encoder.encode(sampleLine(0, i) + "\n"));
        await until(() => committed() > before, 10_000);
        latencies.push(performance.now() - start);
        await new Promise((r) => setTimeout(r, 2));
      }
      latencies.sort((a, b) => a - b);
      console.log(
        `agent     single appended line to commit: median ${
          percentile(latencies, 0.5).toFixed(1)
        } ms, ` +
          `p99 ${percentile(latencies, 0.99).toFixed(1)} ms (${latencyLines} lines)`,
      );

      // The burst is generated before the clock starts, then written at once.
      const chunks: Uint8Array[] = [];
      let text = "";
      for (let i = 0; i < burst; i++) {
        text += sampleLine(1, i) + "\n";
        if (text.length > 4 * MB) {
          chunks.push(encoder.encode(text));
          text = "";
        }
      }
      if (text) chunks.push(encoder.encode(text));
      const before = committed();
      const target = before + burst;
      const newest = newestId(join(dir, "server", "nms.db"));
      // Nothing else is stored during the burst: the last line's row has this id.
      const lastId = newest() + burst;
      let peakRss = 0;
      const sampler = setInterval(async () => {
        peakRss = Math.max(peakRss, await rss(agent.pid).catch(() => 0));
      }, 100);
      const agentCpu = await cpuSeconds(agent.pid);
      const serverCpu = await server.cpuSeconds();
      const start = performance.now();
      for (const chunk of chunks) {
        await writeAll(file, chunk);
      }
      await until(() => newest() >= lastId, 300_000);
      const seconds = (performance.now() - start) / 1000;
      clearInterval(sampler);
      const microsPerLine = (cpu: number) => (cpu * 1e6 / burst).toFixed(1);
      const agentMicros = microsPerLine(await cpuSeconds(agent.pid) - agentCpu);
      const serverMicros = microsPerLine(await server.cpuSeconds() - serverCpu);
      const stored = committed();
      if (stored !== target) throw new Error(`${stored - before} of ${burst} burst lines stored`);
      console.log(
        `agent     ${burst.toLocaleString("en-US")}-line burst, file to database: ${
          Math.round(burst / seconds).toLocaleString("en-US")
        } lines/s (${seconds.toFixed(1)} s); agent RSS ${(idleRss / MB).toFixed(0)} MB idle, ${
          (peakRss / MB).toFixed(0)
        } MB peak; CPU per line: agent ${agentMicros} µs, server ${serverMicros} µs`,
      );

      // Backlog: the server is away while the file grows, then comes back on
      // the same port and the agent catches up; its memory is sampled throughout.
      const port = server.port;
      await server.stop();
      let backlogPeak = 0;
      const backlogSampler = setInterval(async () => {
        backlogPeak = Math.max(backlogPeak, await rss(agent.pid).catch(() => 0));
      }, 100);
      const linesPerBlock = Math.floor(4 * MB / 130);
      const block = encoder.encode((sampleLine(2, 0) + "\n").repeat(linesPerBlock));
      let backlogLines = 0;
      for (let written = 0; written + block.length <= backlogMb * MB; written += block.length) {
        await file.write(block);
        backlogLines += linesPerBlock;
      }
      backlogPeak = Math.max(backlogPeak, await rss(agent.pid));
      const whileDown = backlogPeak;
      const restarted = await spawnServer(join(dir, "server"), ["--port", String(port)]);
      try {
        const start = newest();
        // The agent reconnects after its backoff (at most 30 s), then streams the backlog.
        await until(() => newest() > start, 60_000);
        const catchUpStart = performance.now();
        const from = newest();
        // Nothing else is stored meanwhile: the backlog's last line gets this id.
        const lastBacklogId = start + backlogLines;
        const deadline = catchUpStart + BACKLOG_CATCH_UP_SAMPLE_MS;
        while (newest() < lastBacklogId && performance.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
        }
        const sampledMs = performance.now() - catchUpStart;
        const rate = (newest() - from) / (sampledMs / 1000);
        clearInterval(backlogSampler);
        console.log(
          `agent     ${(backlogMb / 1024).toFixed(1)} GiB backlog (${
            backlogLines.toLocaleString("en-US")
          } lines) written while the server was down: agent RSS peak ${
            (whileDown / MB).toFixed(0)
          } MB while down, ${(backlogPeak / MB).toFixed(0)} MB while catching up at ${
            Math.round(rate).toLocaleString("en-US")
          } lines/s (sampled for ${(sampledMs / 1000).toFixed(1)} s)`,
        );
      } finally {
        clearInterval(backlogSampler);
        await restarted.stop();
      }
    } finally {
      file.close();
    }
  } finally {
    agent.kill("SIGTERM");
    await agent.status;
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const values = benchArgs(import.meta.url, {
    burst: { type: "string", default: "1000000" },
    latency: { type: "string", default: "200" },
    "backlog-mb": { type: "string", default: "10240" },
  });
  await runAgentBench({
    burst: numberOption("burst", values.burst),
    latency: numberOption("latency", values.latency),
    backlogMb: numberOption("backlog-mb", values["backlog-mb"]),
  });
}
