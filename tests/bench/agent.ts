// deno-lint-ignore-file no-console -- a benchmark's output is its result, printed for the person running it
/**
 * Agent benchmarks, with real processes: a file followed by `nms-agent`, the
 * server as a subprocess, the database polled for commits.
 *
 * - latency: one line appended at a time, time until it is committed;
 * - burst: 1,000,000 lines appended at once, lines/s until all are committed;
 * - memory: the agent's RSS idle, during the burst, and with a backlog while
 *   the server is down.
 *
 * Usage: deno run -A tests/bench/agent.ts [--burst 1000000] [--latency 200] [--backlog-mb 512]
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sampleLine, spawnServer } from "./_load.ts";

const encoder = new TextEncoder();
const MB = 1024 * 1024;

async function rss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

function spawnAgent(port: number, dir: string, path: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(import.meta.dirname!, "../../agent/main.ts"),
      "run",
      "--server",
      `127.0.0.1:${port}`,
      "--user",
      "admin",
      "--password-file",
      join(dir, "password"),
      "--path",
      path,
      "--state-dir",
      join(dir, "state"),
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** Resolves once the agent reports `state=connected` on stderr; keeps draining it after. */
async function connected(agent: Deno.ChildProcess): Promise<void> {
  const reader = agent.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("state=connected")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Agent exited:\n${text}`);
    text += value;
  }
  (async () => {
    try {
      while (!(await reader.read()).done);
    } catch { /* closed */ }
  })();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Counts committed client events by polling the server's database (WAL allows a concurrent reader). */
function committedCounter(dbPath: string): () => number {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  const statement = db.prepare("SELECT count(*) AS n FROM logs WHERE flags & 4 = 0");
  return () => Number((statement.get() as { n: number }).n);
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
  /** Backlog written while the server is down, in MB. @default {512} */
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
  const backlogMb = options.backlogMb ?? 512;
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-bench-" });
  await Deno.writeTextFile(join(dir, "password"), "bench-password\n");
  const log = join(dir, "app.log");
  await Deno.writeTextFile(log, "");
  const server = await spawnServer(join(dir, "server"));
  const agent = spawnAgent(server.port, dir, log);
  try {
    const committed = committedCounter(join(dir, "server", "nms.db"));
    const file = await Deno.open(log, { append: true });
    try {
      // The agent starts at the end of an existing file: write once it follows it.
      await connected(agent);
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
      const target = committed() + burst;
      let peakRss = 0;
      const sampler = setInterval(async () => {
        peakRss = Math.max(peakRss, await rss(agent.pid).catch(() => 0));
      }, 100);
      const start = performance.now();
      for (const chunk of chunks) {
        let written = 0;
        while (written < chunk.length) written += await file.write(chunk.subarray(written));
      }
      await until(() => committed() >= target, 300_000);
      const seconds = (performance.now() - start) / 1000;
      clearInterval(sampler);
      console.log(
        `agent     ${burst.toLocaleString("en-US")}-line burst, file to database: ${
          Math.round(burst / seconds).toLocaleString("en-US")
        } lines/s (${seconds.toFixed(1)} s); agent RSS ${(idleRss / MB).toFixed(0)} MB idle, ${
          (peakRss / MB).toFixed(0)
        } MB peak`,
      );

      // Backlog: the server is away while the file grows.
      await server.stop();
      let backlogPeak = 0;
      const backlogSampler = setInterval(async () => {
        backlogPeak = Math.max(backlogPeak, await rss(agent.pid).catch(() => 0));
      }, 100);
      const block = encoder.encode((sampleLine(2, 0) + "\n").repeat(Math.floor(4 * MB / 130)));
      for (let written = 0; written < backlogMb * MB; written += block.length) {
        await file.write(block);
      }
      await new Promise((r) => setTimeout(r, 2000));
      clearInterval(backlogSampler);
      console.log(
        `agent     ${backlogMb} MB backlog while the server is down: agent RSS peak ${
          (backlogPeak / MB).toFixed(0)
        } MB (the file is the buffer: memory does not grow with the backlog)`,
      );
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
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      burst: { type: "string", default: "1000000" },
      latency: { type: "string", default: "200" },
      "backlog-mb": { type: "string", default: "512" },
    },
  });
  await runAgentBench({
    burst: Number(values.burst),
    latency: Number(values.latency),
    backlogMb: Number(values["backlog-mb"]),
  });
}
