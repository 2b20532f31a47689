/**
 * `deno task soak -- --minutes N`: a long run of the agent and the server as
 * real processes while numbered lines are written to two files, with faults
 * injected at random intervals: the agent or the server stopped with SIGTERM
 * or killed with SIGKILL, a long server outage, rotation by rename (some
 * rotated files compressed afterwards, some rotations in quick succession),
 * copytruncate, and truncation. Every 10 s it prints the write and store
 * rates and the agent's and server's RSS; at the end, how many lines were
 * lost and duplicated. Exits 1 when any was.
 *
 * Flags: `--minutes N` (default 1), `--seed N` (default: time), `--rate N`
 * lines per second per file (default 2000), `--fault-every S` mean seconds
 * between faults (default 15), `--keep` keeps the temp directory.
 *
 * `--logrotate` runs the real logrotate instead (tests/soak/logrotate_soak.ts):
 * each scheme with agent and server kills, `--minutes` per run (default 1),
 * `--rate` lines per second (default 5000), and prints the table of
 * docs/DELIVERY.md.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ServerProcess, spawnServerProcess } from "../_harness/server_process.ts";
import { waitFor } from "../_harness/wait_for.ts";
import {
  type AgentProcess,
  checkDelivery,
  countStored,
  freePort,
  gzipFile,
  NumberedWriter,
  pause,
  spawnAgentProcess,
} from "../faults/_harness.ts";
import { prng } from "../_harness/prng.ts";
import { runLogrotateSoak } from "./logrotate_soak.ts";

const { values } = parseArgs({
  args: Deno.args.filter((a) => a !== "--"),
  options: {
    minutes: { type: "string", default: "1" },
    seed: { type: "string" },
    rate: { type: "string" },
    "fault-every": { type: "string", default: "15" },
    keep: { type: "boolean", default: false },
    logrotate: { type: "boolean", default: false },
  },
});

const minutes = Number(values.minutes);
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
const rate = Number(values.rate ?? (values.logrotate ? "5000" : "2000"));
const faultEverySeconds = Number(values["fault-every"]);
for (
  const [name, value] of [["minutes", minutes], ["rate", rate], [
    "fault-every",
    faultEverySeconds,
  ]] as const
) {
  if (!(value > 0)) {
    Deno.stderr.writeSync(new TextEncoder().encode(`soak: invalid --${name}\n`));
    Deno.exit(2);
  }
}

function out(line: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
}

if (values.logrotate) Deno.exit(await runLogrotateSoak({ minutes, rate, out }));

/** Interval of the progress lines, in ms. */
const REPORT_INTERVAL_MS = 10_000;
/** Longest wait for the last lines to be stored at the end, in ms. */
const DRAIN_TIMEOUT_MS = 180_000;
/** Lines per write of each writer; the pace follows from the rate. */
const LINES_PER_WRITE = 20;

function rssMiB(pid: number): string {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return (kb / 1024).toFixed(0);
  } catch {
    return "-";
  }
}

const random = prng(seed);
const dir = await Deno.makeTempDir({ prefix: "nms-soak-" });
const dbPath = join(dir, "nms.db");
const stateDir = join(dir, "state");
const port = freePort();
const files = [
  { name: "a", path: join(dir, "app.log"), rotations: 0 },
  { name: "b", path: join(dir, "sys.log"), rotations: 0 },
];
for (const file of files) await Deno.writeTextFile(file.path, "");

out(`soak: ${minutes} min, seed ${seed}, ${rate} lines/s per file, dir ${dir}`);

const spawnServer = () =>
  spawnServerProcess({
    args: ["--db", dbPath, "--port", String(port), "--workers", "2"],
    startTimeoutMs: 60_000,
  });
const spawnAgent = () =>
  spawnAgentProcess({
    port,
    paths: files.map((f) => f.path),
    stateDir,
    workDir: dir,
  });

let server: ServerProcess = await spawnServer();
let agent: AgentProcess = await spawnAgent();
// The first start begins at the end of each file: start writing once it runs.
await waitFor(() => agent.connected(), { timeoutMs: 60_000 });

const writers = files.map((f, i) =>
  new NumberedWriter(f.path, f.name, {
    linesPerWrite: LINES_PER_WRITE,
    intervalMs: Math.max(1, Math.round((1000 * LINES_PER_WRITE) / rate)),
    padBytes: i === 1 ? 120 : 0,
    random: prng(seed + i + 1),
  })
);
for (const w of writers) w.start();

const faults = new Map<string, number>();
const startedAt = Date.now();
const endAt = startedAt + minutes * 60_000;

async function rotate(i: number, compressLater: boolean): Promise<void> {
  const file = files[i]!;
  const rotated = `${file.path}.${++file.rotations}`;
  await Deno.rename(file.path, rotated);
  // logrotate's `create`: the new file exists before the program reopens.
  await Deno.writeTextFile(file.path, "", { append: true });
  // The program goes on writing to the renamed file until its HUP.
  await pause(50 + Math.floor(random() * 200));
  await writers[i]!.reopen();
  if (compressLater) {
    // Compressed (and removed) while the agent may still be reading it.
    await pause(Math.floor(random() * 2_000));
    await gzipFile(rotated);
  }
}

async function copytruncate(i: number): Promise<void> {
  const file = files[i]!;
  // The writer pauses during copy and truncate: lines written in between are
  // lost by copytruncate itself, an inherent race (docs/DELIVERY.md).
  await writers[i]!.pause();
  try {
    await Deno.copyFile(file.path, `${file.path}.${++file.rotations}`);
    await Deno.truncate(file.path, 0);
  } finally {
    writers[i]!.resume();
  }
}

async function truncateCaughtUp(i: number): Promise<void> {
  const file = files[i]!;
  await writers[i]!.pause();
  try {
    // Truncating unread lines loses them by definition: wait until all are stored.
    const written = writers[i]!.written;
    await waitFor(() => countStored(dbPath, file.name) >= written, { timeoutMs: 120_000 });
    await Deno.truncate(file.path, 0);
  } finally {
    writers[i]!.resume();
  }
}

const FAULTS: Record<string, () => Promise<void>> = {
  "agent SIGKILL": async () => {
    await agent.stop("SIGKILL");
    await pause(random() * 3_000);
    agent = await spawnAgent();
  },
  "agent SIGTERM": async () => {
    await agent.stop("SIGTERM");
    await pause(random() * 3_000);
    agent = await spawnAgent();
  },
  "server SIGKILL": async () => {
    await server.stop("SIGKILL");
    await pause(random() * 3_000);
    server = await spawnServer();
  },
  "server SIGTERM": async () => {
    await server.stop("SIGTERM");
    await pause(random() * 3_000);
    server = await spawnServer();
  },
  "server down 20 s": async () => {
    await server.stop("SIGTERM");
    await pause(20_000);
    server = await spawnServer();
  },
  "rotate (rename)": () => rotate(Math.floor(random() * files.length), false),
  "rotate (rename + gzip)": () => rotate(Math.floor(random() * files.length), true),
  "rotate 3x quickly": async () => {
    const i = Math.floor(random() * files.length);
    for (let k = 0; k < 3; k++) await rotate(i, false);
  },
  "copytruncate": () => copytruncate(Math.floor(random() * files.length)),
  "truncate": () => truncateCaughtUp(Math.floor(random() * files.length)),
  "rotate while agent stopped": async () => {
    await agent.stop("SIGTERM");
    await rotate(Math.floor(random() * files.length), random() < 0.5);
    agent = await spawnAgent();
  },
};
const faultNames = Object.keys(FAULTS);

let lastReportAt = startedAt;
let lastWritten = 0;
let lastStored = 0;
let nextFaultAt = startedAt + (0.5 + random()) * faultEverySeconds * 1000;

function written(): number {
  return writers.reduce((sum, w) => sum + w.written, 0);
}

function report(now: number): void {
  const seconds = (now - lastReportAt) / 1000;
  const w = written();
  const stored = countStored(dbPath);
  const line = [
    `t=${((now - startedAt) / 1000).toFixed(0)}s`,
    `written=${w}`,
    `stored=${stored}`,
    `write=${((w - lastWritten) / seconds).toFixed(0)}/s`,
    `store=${stored < 0 ? "-" : ((stored - lastStored) / seconds).toFixed(0)}/s`,
    `agentRSS=${rssMiB(agent.pid)}MiB`,
    `serverRSS=${rssMiB(server.pid)}MiB`,
    `faults=${[...faults.values()].reduce((a, b) => a + b, 0)}`,
  ].join(" ");
  out(line);
  lastReportAt = now;
  lastWritten = w;
  if (stored >= 0) lastStored = stored;
}

let exitCode = 0;
try {
  while (Date.now() < endAt) {
    const now = Date.now();
    if (now - lastReportAt >= REPORT_INTERVAL_MS) report(now);
    if (now >= nextFaultAt) {
      const name = faultNames[Math.floor(random() * faultNames.length)]!;
      faults.set(name, (faults.get(name) ?? 0) + 1);
      out(`  fault: ${name}`);
      await FAULTS[name]!();
      nextFaultAt = Date.now() + (0.5 + random()) * faultEverySeconds * 1000;
    }
    await pause(200);
  }
  const expected = new Map<string, number>();
  for (const [i, w] of writers.entries()) expected.set(files[i]!.name, await w.stop());
  const total = [...expected.values()].reduce((a, b) => a + b, 0);
  out(`soak: writing stopped after ${total} lines; waiting for the rest to be stored`);
  const drainStart = Date.now();
  await waitFor(() => countStored(dbPath) >= total, {
    timeoutMs: DRAIN_TIMEOUT_MS,
    intervalMs: 500,
  })
    .catch(() => {});
  report(Date.now());
  out(`soak: drained in ${((Date.now() - drainStart) / 1000).toFixed(1)} s`);
  const result = checkDelivery(dbPath, expected);
  const elapsed = (Date.now() - startedAt) / 1000;
  out(`soak: faults ${JSON.stringify(Object.fromEntries(faults))}`);
  out(
    `soak: ${result.expected} lines in ${elapsed.toFixed(0)} s (${
      (result.expected / elapsed).toFixed(0)
    } lines/s), stored=${result.stored} lost=${result.lost} duplicated=${result.duplicated} ` +
      `outOfOrder=${result.outOfOrder} gaps=${result.gaps} foreign=${result.foreign.length}`,
  );
  if (result.lost > 0) out(`soak: lost examples ${result.lostExamples}`);
  for (const message of result.gapMessages.slice(0, 5)) out(`soak: gap event: ${message}`);
  for (const line of result.foreign.slice(0, 5)) out(`soak: foreign line: ${line}`);
  if (result.lost > 0 || result.duplicated > 0 || result.outOfOrder > 0) exitCode = 1;
} catch (error) {
  out(`soak: failed: ${(error as Error).stack}`);
  exitCode = 1;
} finally {
  for (const w of writers) await w.stop().catch(() => 0);
  if (exitCode !== 0) {
    out(`soak: agent stderr tail:\n${agent.stderr().slice(-4000)}`);
  }
  await agent.stop("SIGTERM");
  await server.stop("SIGTERM");
  if (!values.keep && exitCode === 0) await Deno.remove(dir, { recursive: true });
  else out(`soak: files kept in ${dir}`);
}
Deno.exit(exitCode);
