// deno-lint-ignore-file no-console -- a benchmark's output is its result, printed for the person running it
/**
 * The agent on a busy node: one `--path '<dir>/*.log'` glob matching N files
 * (1, 100 and 1,000 by default), a real server and a real agent process per
 * row, and for each N:
 *
 * - RSS idle: VmRSS once the agent has followed every file for a few seconds;
 * - CPU idle: user + system ticks over `--idle-seconds` with nothing written;
 * - latency: single lines appended to one file (the others idle), time until
 *   each is committed, p50 / p99;
 * - state writes: `--lines` lines appended round-robin over the N files, 5 ms
 *   apart, with `strace` attached to the agent: bytes it wrote to its state
 *   directory and the fsyncs it made, per 1,000 acknowledged lines; plus the
 *   block-device bytes of `/proc/<pid>/io` (page-sized, fsyncs included).
 *
 * With `--tree DIR` the same rows are measured first for the agent of another
 * checkout (a worktree of the commit before a change, say), against the
 * server of this tree, so "before" and "after" come from one run.
 *
 * Each file starts with one 300-byte line, so every file's fingerprint (its
 * first 256 bytes) is complete, as a log file's is after its first lines.
 *
 * Usage: deno run -A tests/bench/agent_files.ts [--files 1,100,1000] [--idle-seconds 20] [--latency 200] [--lines 1000] [--tree DIR]
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join, resolve } from "node:path";
import { spawnServer } from "./_load.ts";
import { benchArgs, numberOption, usageError } from "./_args.ts";
import { agentConnected, spawnBenchAgent } from "./_agent_process.ts";
import { percentile } from "./_timing.ts";

const encoder = new TextEncoder();
const MB = 1024 * 1024;
/** Time the agent is left alone after following every file, before RSS and CPU are read. */
const SETTLE_MS = 3_000;
/** Pause between the lines of the state-writes phase, in milliseconds. */
const WRITE_PHASE_GAP_MS = 5;
/** Time left for the agent's last coalesced save after the last line is stored. */
const LAST_SAVE_WAIT_MS = 1_500;
const THIS_TREE = resolve(import.meta.dirname!, "../..");

/** One row of the table. */
interface Row {
  tree: string;
  files: number;
  rssMb: number;
  cpuPercent: number;
  p50Ms: number;
  p99Ms: number;
  stateBytesPer1000: number | undefined;
  fsyncsPer1000: number | undefined;
  diskBytesPer1000: number;
}

async function procStat(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

async function rss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function diskWriteBytes(pid: number): Promise<number> {
  const io = await Deno.readTextFile(`/proc/${pid}/io`);
  return Number(/write_bytes:\s+(\d+)/.exec(io)?.[1] ?? 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Timed out");
    await sleep(1);
  }
}

/** The newest row id of the server's database (rows only come from this benchmark). */
function newestId(dbPath: string): { get(): number; close(): void } {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  const statement = db.prepare("SELECT coalesce(max(id), 0) AS id FROM logs");
  return { get: () => Number((statement.get() as { id: number }).id), close: () => db.close() };
}

/** Whether `strace` can be started. */
async function haveStrace(): Promise<boolean> {
  try {
    return (await new Deno.Command("strace", { args: ["-V"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/** What strace saw the agent write. */
interface StraceTotals {
  stateBytes: number;
  fsyncs: number;
}

/**
 * Sums the bytes written to files under `stateDir` and counts fsync and
 * fdatasync calls in strace's output (`-f -y`: fds carry their paths; a call
 * split into `<unfinished ...>` and `resumed>` is joined by thread id).
 */
function parseStrace(text: string, stateDir: string): StraceTotals {
  let stateBytes = 0;
  let fsyncs = 0;
  const pending = new Map<string, string>();
  for (let line of text.split("\n")) {
    const tid = /^(\d+)\s+/.exec(line)?.[1] ?? "";
    line = line.replace(/^\d+\s+/, "");
    if (line.endsWith("<unfinished ...>")) {
      pending.set(tid, line.slice(0, -"<unfinished ...>".length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(line);
    if (resumed) {
      line = (pending.get(tid) ?? "") + resumed[1];
      pending.delete(tid);
    }
    const call = /^(\w+)\((\d+)<([^>]*)>/.exec(line);
    if (call === null) continue;
    const [, name, , path] = call;
    if (name === "fsync" || name === "fdatasync") {
      fsyncs++;
      continue;
    }
    const result = /\)\s+=\s+(\d+)/.exec(line);
    if (result && path!.startsWith(stateDir)) stateBytes += Number(result[1]);
  }
  return { stateBytes, fsyncs };
}

async function measure(
  tree: string,
  files: number,
  options: { idleSeconds: number; latency: number; lines: number; strace: boolean },
): Promise<Row> {
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-files-bench-" });
  try {
    await Deno.writeTextFile(join(dir, "password"), "bench-password\n");
    await Deno.mkdir(join(dir, "logs"));
    const paths: string[] = [];
    const head = `${"x".repeat(299)}\n`;
    for (let i = 0; i < files; i++) {
      const path = join(dir, "logs", `container-${String(i).padStart(5, "0")}.log`);
      await Deno.writeTextFile(path, head);
      paths.push(path);
    }
    const server = await spawnServer(join(dir, "server"));
    const agent = spawnBenchAgent({
      tree,
      port: server.port,
      dir,
      path: join(dir, "logs", "*.log"),
    });
    const newest = newestId(join(dir, "server", "nms.db"));
    const handles: Deno.FsFile[] = [];
    try {
      await agentConnected(agent);
      await sleep(SETTLE_MS);
      const idleRss = await rss(agent.pid);
      const ticksBefore = await procStat(agent.pid);
      const idleStart = performance.now();
      await sleep(options.idleSeconds * 1000);
      const ticks = await procStat(agent.pid) - ticksBefore;
      const cpuPercent = ticks / ((performance.now() - idleStart) / 1000);

      for (const path of paths) handles.push(await Deno.open(path, { append: true }));
      // Latency: one file written, the others idle.
      const latencies: number[] = [];
      for (let i = 0; i < options.latency; i++) {
        const before = newest.get();
        const start = performance.now();
        await handles[0]!.write(encoder.encode(`latency line ${i}\n`));
        await until(() => newest.get() > before, 10_000);
        latencies.push(performance.now() - start);
        await sleep(2);
      }
      latencies.sort((a, b) => a - b);
      // Let the save of the latency lines pass before counting writes.
      await sleep(LAST_SAVE_WAIT_MS);

      // State writes: lines spread round-robin over every file.
      const stateDir = join(dir, "state");
      const traceFile = join(dir, "strace.txt");
      const tracer = options.strace
        ? new Deno.Command("strace", {
          args: [
            "-f",
            "-qq",
            "-y",
            "-s",
            "0",
            "--seccomp-bpf",
            "-e",
            "trace=write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync",
            "-e",
            "signal=none",
            "-o",
            traceFile,
            "-p",
            String(agent.pid),
          ],
          stdout: "null",
          stderr: "null",
        }).spawn()
        : undefined;
      if (tracer) await sleep(500);
      const diskBefore = await diskWriteBytes(agent.pid);
      const first = newest.get();
      for (let i = 0; i < options.lines; i++) {
        await handles[i % files]!.write(encoder.encode(`spread line ${i}\n`));
        await sleep(WRITE_PHASE_GAP_MS);
      }
      await until(() => newest.get() >= first + options.lines, 60_000);
      await sleep(LAST_SAVE_WAIT_MS);
      const diskBytes = await diskWriteBytes(agent.pid) - diskBefore;
      let totals: StraceTotals | undefined;
      if (tracer) {
        tracer.kill("SIGINT");
        await tracer.status;
        totals = parseStrace(await Deno.readTextFile(traceFile), stateDir);
      }
      const per1000 = (n: number) => n * 1000 / options.lines;
      return {
        tree,
        files,
        rssMb: idleRss / MB,
        cpuPercent,
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        stateBytesPer1000: totals && per1000(totals.stateBytes),
        fsyncsPer1000: totals && per1000(totals.fsyncs),
        diskBytesPer1000: per1000(diskBytes),
      };
    } finally {
      for (const handle of handles) handle.close();
      newest.close();
      agent.kill("SIGTERM");
      await agent.status;
      await server.stop().catch(() => {});
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return "n/a";
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${Math.round(bytes)} B`;
}

function printTable(rows: Row[], labels: Map<string, string>): void {
  const header = [
    "agent",
    "files",
    "RSS idle",
    "CPU idle",
    "append→stored p50 / p99",
    "state bytes / 1,000 lines",
    "fsyncs / 1,000 lines",
    "disk write_bytes / 1,000 lines",
  ];
  const lines = rows.map((row) => [
    labels.get(row.tree) ?? row.tree,
    row.files.toLocaleString("en-US"),
    `${row.rssMb.toFixed(1)} MB`,
    `${row.cpuPercent.toFixed(2)}% of a core`,
    `${row.p50Ms.toFixed(1)} / ${row.p99Ms.toFixed(1)} ms`,
    formatBytes(row.stateBytesPer1000),
    row.fsyncsPer1000 === undefined ? "n/a" : row.fsyncsPer1000.toFixed(0),
    formatBytes(row.diskBytesPer1000),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  console.log(format(header));
  console.log("| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |");
  for (const line of lines) console.log(format(line));
}

if (import.meta.main) {
  const values = benchArgs(import.meta.url, {
    files: { type: "string", default: "1,100,1000" },
    "idle-seconds": { type: "string", default: "20" },
    latency: { type: "string", default: "200" },
    lines: { type: "string", default: "1000" },
    tree: { type: "string" },
  });
  const counts = values.files.split(",").map((n) => numberOption("files", n, { min: 1 }));
  const options = {
    idleSeconds: numberOption("idle-seconds", values["idle-seconds"], { min: 1 }),
    latency: numberOption("latency", values.latency, { min: 1 }),
    lines: numberOption("lines", values.lines, { min: 1 }),
    strace: await haveStrace(),
  };
  const trees = [THIS_TREE];
  const labels = new Map([[THIS_TREE, "this tree"]]);
  if (values.tree !== undefined) {
    const other = resolve(values.tree);
    try {
      await Deno.stat(join(other, "agent/main.ts"));
    } catch {
      usageError(`--tree ${values.tree} holds no agent/main.ts`);
    }
    trees.unshift(other);
    labels.set(other, "--tree");
  }
  if (!options.strace) {
    console.log("agent files: strace is not installed, so state bytes and fsyncs are not counted");
  }
  const rows: Row[] = [];
  for (const tree of trees) {
    // Deno transpiles and caches modules on their first run: start warm.
    await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(tree, "agent/main.ts"), "version"],
      stdout: "null",
      stderr: "null",
    }).output();
    for (const files of counts) rows.push(await measure(tree, files, options));
  }
  console.log(
    `agent files: one glob over N files; idle over ${options.idleSeconds} s; ` +
      `${options.latency} single lines to one file; ${options.lines} lines spread over the N files, ` +
      `${WRITE_PHASE_GAP_MS} ms apart`,
  );
  printTable(rows, labels);
}
