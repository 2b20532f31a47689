/**
 * Rotation by the real `logrotate` (Debian's package), as on an operator's
 * machine: a logging program of its own (tests/faults/_line_writer.ts) appends
 * numbered lines, `logrotate -f` runs with a configuration and a state file
 * in the run's temp directory, and real `nms-agent` and `nms-server`
 * processes follow the README's glob (`--path '<dir>/*.log' --exclude '*.gz'
 * --exclude '*.[0-9]'`) with `--state-dir`, while the agent or the server is
 * killed. Used by tests/faults/logrotate_test.ts (short) and
 * `deno task soak -- --logrotate` (long).
 *
 * Every run is judged against what is still on disk: a line stored by the
 * server in no copy is a duplicate; a line stored nowhere is lost, and must
 * be in no `app.log*` file and no gunzipped `.gz` ("gone from disk":
 * logrotate's own copy→truncate window); order must hold within each stream;
 * and a loss the agent could see (a copy that ends in the middle of a line)
 * must be covered by a gap event.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { type ServerProcess, spawnServerProcess } from "../_harness/server_process.ts";
import { waitFor } from "../_harness/wait_for.ts";
import { watchChild } from "../_harness/watched_child.ts";
import { type AgentProcess, countStored, freePort, pause, spawnAgentProcess } from "./_harness.ts";

/** Where Debian's `logrotate` package installs the tool. */
export const LOGROTATE = "/usr/sbin/logrotate";

/** Whether {@linkcode LOGROTATE} is installed (`.ci/run` installs it). */
export const hasLogrotate: boolean = await Deno.stat(LOGROTATE).then(() => true, () => false);

/** The logrotate configurations the runs cover. */
export type LogrotateScheme =
  | "create"
  | "create + delaycompress + compress"
  | "copytruncate"
  | "copytruncate + compress";

/** Every {@linkcode LogrotateScheme}, in the order of docs/DELIVERY.md. */
export const LOGROTATE_SCHEMES: readonly LogrotateScheme[] = [
  "create",
  "create + delaycompress + compress",
  "copytruncate",
  "copytruncate + compress",
];

/** Directives of each scheme; `create` ones signal the writer to reopen (postrotate). */
const SCHEME_DIRECTIVES: Record<LogrotateScheme, { directives: string[]; signal: boolean }> = {
  "create": { directives: ["create 0640"], signal: true },
  "create + delaycompress + compress": {
    directives: ["create 0640", "compress", "delaycompress"],
    signal: true,
  },
  "copytruncate": { directives: ["copytruncate"], signal: false },
  "copytruncate + compress": { directives: ["copytruncate", "compress"], signal: false },
};

/** Name of the numbered lines in every run (`line a-<n> …`). */
const LINE_NAME = "a";
/** Filler bytes after each line's number. */
const PAD_BYTES = 40;
/** A complete line of the writer, and nothing else. */
const LINE_PATTERN = new RegExp(`^line ${LINE_NAME}-(\\d+) x{${PAD_BYTES}}$`);
/** The offsets of a gap event's message (protocol/gap_event.ts). */
const GAP_PATTERN = /\(stream (\S+), offsets (\d+)-(\d+)\) not delivered: (.*)$/;
/** Agent log lines that say it noticed a rotation or a truncation (agent/file_follower.ts). */
const NOTICED_PATTERN = /file truncated, |reading the old file to its end/g;
/** `logs.flags` bits (server/store/store.ts EVENT_FLAGS). */
const FLAG_GAP = 2;
const FLAG_INTERNAL = 4;

/**
 * The logrotate configuration of a scheme for one file: `rotate 50` and
 * `nodateext` (rotated files are `app.log.1`, `app.log.2.gz`, …).
 *
 * @param logPath The rotated file.
 * @param scheme Which directives.
 * @param writerPid The logging program, signalled with SIGHUP after a `create` rotation.
 * @returns The configuration text.
 */
export function logrotateConfig(
  logPath: string,
  scheme: LogrotateScheme,
  writerPid: number,
): string {
  const { directives, signal } = SCHEME_DIRECTIVES[scheme];
  return [
    `${JSON.stringify(logPath)} {`,
    "  rotate 50",
    "  nodateext",
    "  missingok",
    ...directives.map((d) => `  ${d}`),
    ...(signal ? ["  postrotate", `    kill -HUP ${writerPid}`, "  endscript"] : []),
    "}",
    "",
  ].join("\n");
}

/**
 * Runs `logrotate -f -s <state> <conf>` once and waits for it.
 *
 * @param confPath Its configuration (mode 0600: logrotate ignores one others may write).
 * @param statePath Its state file.
 * @throws {Error} With logrotate's output when it fails or reports an error.
 */
export async function runLogrotate(confPath: string, statePath: string): Promise<void> {
  const output = await new Deno.Command(LOGROTATE, {
    args: ["-f", "-s", statePath, confPath],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
  if (!output.success || /error/i.test(said)) {
    throw new Error(`logrotate failed (code ${output.code}): ${said.trim()}`);
  }
}

/** A running tests/faults/_line_writer.ts. */
export interface LineWriterProcess {
  readonly pid: number;
  /** Stops it with SIGTERM; resolves with the number of lines it wrote. */
  stop(): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the logging program and waits until its file is open.
 *
 * @param path The file it appends to.
 * @param rate Lines per second.
 * @returns The process.
 */
export async function startLineWriter(path: string, rate: number): Promise<LineWriterProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(import.meta.dirname!, "_line_writer.ts"),
      "--path",
      path,
      "--name",
      LINE_NAME,
      "--rate",
      String(rate),
      "--pad",
      String(PAD_BYTES),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const watched = watchChild(child);
  let stdout = "";
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => ready = resolve);
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += chunk;
      if (stdout.includes("ready\n")) ready();
    }
  })();
  await Promise.race([
    isReady,
    watched.status.then((s) => {
      throw new Error(`Line writer exited (code ${s.code}): ${watched.stderr()}`);
    }),
  ]);
  let stopped: Promise<number> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await watched.stop("SIGTERM");
      await reading;
      const match = /written=(\d+)/.exec(stdout);
      if (match === null) throw new Error(`Line writer did not report: ${watched.stderr()}`);
      return Number(match[1]);
    })();
  return {
    pid: child.pid,
    stop,
    async [Symbol.asyncDispose]() {
      await stop().catch(() => 0);
    },
  };
}

/** What the rotated files still hold. */
export interface DiskScan {
  /** Per line number, whether a complete copy of it is in some `app.log*` file. */
  readonly onDisk: Uint8Array;
  /**
   * Numbers of lines whose beginning ends a file without their end: a copy
   * cut in the middle of a line (the rest was written between logrotate's
   * copy and its truncation). Such a loss is visible to the agent.
   */
  readonly cutLines: ReadonlySet<number>;
  /** Files read, for the failure message. */
  readonly files: readonly string[];
}

/**
 * Reads every `<base>*` file of a directory (gunzipping `.gz` ones, as
 * streams) and notes which numbered lines it holds.
 *
 * @param dir The log directory.
 * @param base The followed file's name (`app.log`).
 * @param written Lines written in all.
 * @returns The lines on disk and the cut ones.
 */
export async function scanDisk(dir: string, base: string, written: number): Promise<DiskScan> {
  const onDisk = new Uint8Array(written);
  const cutLines = new Set<number>();
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.startsWith(base)) continue;
    files.push(entry.name);
    const file = await Deno.open(join(dir, entry.name));
    let bytes: ReadableStream<Uint8Array<ArrayBuffer>> = file.readable;
    if (entry.name.endsWith(".gz")) bytes = bytes.pipeThrough(new DecompressionStream("gzip"));
    let rest = "";
    let last = -1;
    for await (const text of bytes.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        const match = LINE_PATTERN.exec(line);
        if (match === null) continue;
        const n = Number(match[1]);
        if (n < written) onDisk[n] = 1;
        last = n;
      }
    }
    if (rest !== "" && last >= 0) cutLines.add(last + 1);
  }
  return { onDisk, cutLines, files: files.sort() };
}

/** How one run went. */
export interface LogrotateReport {
  /** Lines written. */
  readonly written: number;
  /** Numbers stored exactly once. */
  readonly storedOnce: number;
  /** Numbers stored nowhere. */
  readonly lost: number;
  /** Lost numbers that are in no file on disk any more. */
  readonly goneFromDisk: number;
  /** Lost numbers still in some file on disk: must be 0. */
  readonly lostOnDisk: number;
  /** Extra copies of numbers stored more than once: must be 0. */
  readonly duplicated: number;
  /** Lines stored after a higher number of the same stream: must be 0. */
  readonly outOfOrder: number;
  /** Lines stored after a higher number, whatever their stream. */
  readonly outOfOrderInFile: number;
  /** Stored lines that are not whole numbered lines: must be none. */
  readonly foreign: readonly string[];
  /** Gap events stored. */
  readonly gaps: number;
  /** Runs of lost lines the agent could see (the first one's start ends a copy). */
  readonly detectableLosses: number;
  /** Of those, runs no gap event covers: must be 0. */
  readonly unreportedLosses: number;
  /** Gap event messages, for the failure message. */
  readonly gapMessages: readonly string[];
  /** A few lost numbers still on disk, for the failure message. */
  readonly lostOnDiskExamples: string;
  /** A few duplicated numbers with the stream and position of both copies. */
  readonly duplicateExamples: readonly string[];
}

/**
 * Judges a run: the server's database against what was written and what is
 * still on disk.
 *
 * @param dbPath The server's SQLite file (opened read-only).
 * @param scan What the files on disk hold.
 * @param written Lines written.
 * @returns The counts.
 */
export function judgeRun(dbPath: string, scan: DiskScan, written: number): LogrotateReport {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const rows = db.prepare(
      "SELECT l.raw, l.flags, l.pos, s.key FROM logs l LEFT JOIN streams s ON s.id = l.stream_id " +
        "ORDER BY l.id",
    ).iterate() as Iterable<{ raw: string; flags: number; pos: number | null; key: string | null }>;
    const counts = new Uint8Array(written);
    /** Stream and position of each stored number (the first copy). */
    const origin = new Map<number, { stream: string; position: number }>();
    const lastInStream = new Map<string, number>();
    const gaps: { stream: string; from: number; to: number }[] = [];
    const gapMessages: string[] = [];
    const foreign: string[] = [];
    const duplicateExamples: string[] = [];
    let duplicated = 0;
    let outOfOrder = 0;
    let outOfOrderInFile = 0;
    let lastInFile = -1;
    for (const { raw, flags, pos, key } of rows) {
      if (flags & FLAG_INTERNAL) continue;
      if (flags & FLAG_GAP) {
        gapMessages.push(raw);
        const match = GAP_PATTERN.exec(raw);
        if (match !== null) {
          gaps.push({ stream: match[1]!, from: Number(match[2]), to: Number(match[3]) });
        }
        continue;
      }
      const match = LINE_PATTERN.exec(raw);
      const n = match === null ? -1 : Number(match[1]);
      if (n < 0 || n >= written) {
        foreign.push(raw.slice(0, 120));
        continue;
      }
      if (counts[n]! > 0) {
        duplicated++;
        if (duplicateExamples.length < 5) {
          const first = origin.get(n)!;
          duplicateExamples.push(
            `${n} at ${first.stream}:${first.position} and ${key ?? ""}:${pos ?? -1}`,
          );
        }
      } else origin.set(n, { stream: key ?? "", position: pos ?? -1 });
      counts[n] = Math.min(255, counts[n]! + 1);
      const stream = key ?? "";
      if (n < (lastInStream.get(stream) ?? -1)) outOfOrder++;
      else lastInStream.set(stream, n);
      if (n < lastInFile) outOfOrderInFile++;
      else lastInFile = n;
    }
    let storedOnce = 0;
    let lost = 0;
    let lostOnDisk = 0;
    let detectableLosses = 0;
    let unreportedLosses = 0;
    const examples: number[] = [];
    for (let n = 0; n < written; n++) {
      if (counts[n] === 1) storedOnce++;
      if (counts[n] !== 0) continue;
      lost++;
      if (scan.onDisk[n] === 1) {
        lostOnDisk++;
        if (examples.length < 10) examples.push(n);
      }
      // The first line of a run of lost lines: could the agent see the loss?
      if (n === 0 || counts[n - 1] === 0 || !scan.cutLines.has(n)) continue;
      detectableLosses++;
      const before = origin.get(n - 1)!;
      const covered = gaps.some((gap) =>
        gap.stream === before.stream && gap.from <= before.position && gap.to > before.position
      );
      if (!covered) unreportedLosses++;
    }
    return {
      written,
      storedOnce,
      lost,
      goneFromDisk: lost - lostOnDisk,
      lostOnDisk,
      duplicated,
      outOfOrder,
      outOfOrderInFile,
      foreign,
      gaps: gapMessages.length,
      detectableLosses,
      unreportedLosses,
      gapMessages,
      lostOnDiskExamples: examples.join(","),
      duplicateExamples,
    };
  } finally {
    db.close();
  }
}

/** A process killed during a run, and for how many rotations it stays down. */
export interface LogrotateFault {
  /** Which process gets SIGKILL. */
  readonly kind: "agent SIGKILL" | "server SIGKILL";
  /** Killed just before this rotation (1 = the first). */
  readonly beforeRotation: number;
  /**
   * Rotations run while it is down; the server is restarted only once the
   * agent has noticed the last of them.
   * @default {1}
   */
  readonly rotationsWhileDown?: number;
}

/** Options of {@linkcode runLogrotateScenario}. */
export interface LogrotateRunOptions {
  /** The logrotate configuration. */
  readonly scheme: LogrotateScheme;
  /** How many times `logrotate -f` runs. */
  readonly rotations: number;
  /** Pause before each rotation, in ms (pacing, not a wait for an outcome). */
  readonly rotationIntervalMs: number;
  /** Lines per second the logging program writes. */
  readonly rate: number;
  /** Processes killed meanwhile. */
  readonly faults: readonly LogrotateFault[];
  /** Longest wait for the lines still on disk to be stored at the end, in ms. */
  readonly drainTimeoutMs: number;
  /** Progress lines (the soak prints them); none by default. */
  readonly progress?: (line: string) => void;
}

/** A {@linkcode LogrotateReport} with the agent's log tail, for failure messages. */
export interface LogrotateRun extends LogrotateReport {
  /** The files left on disk. */
  readonly files: readonly string[];
  /** The end of the last agent's stderr. */
  readonly agentLog: string;
  /** Wall time of the run, in ms. */
  readonly elapsedMs: number;
}

/**
 * Runs one scheme with real processes and judges the result (see the module doc).
 *
 * @param options Scheme, rotations, rate and faults.
 * @returns The report.
 */
export async function runLogrotateScenario(options: LogrotateRunOptions): Promise<LogrotateRun> {
  const startedAt = Date.now();
  const progress = options.progress ?? (() => {});
  const dir = await Deno.makeTempDir({ prefix: "nms-logrotate-" });
  // logrotate refuses a log directory that others may write to.
  const logs = join(dir, "logs");
  await Deno.mkdir(logs, { mode: 0o750 });
  const appLog = join(logs, "app.log");
  const confPath = join(dir, "logrotate.conf");
  const statePath = join(dir, "logrotate.state");
  const dbPath = join(dir, "nms.db");
  const stateDir = join(dir, "agent-state");
  await Deno.writeTextFile(appLog, "");
  const port = freePort();
  const spawnServer = () =>
    spawnServerProcess({
      args: ["--db", dbPath, "--port", String(port), "--workers", "1"],
      startTimeoutMs: 60_000,
    });
  const spawnAgent = () =>
    spawnAgentProcess({
      port,
      paths: [join(logs, "*.log")],
      args: ["--exclude", "*.gz", "--exclude", "*.[0-9]"],
      stateDir,
      workDir: dir,
    });
  const noticed = (agent: AgentProcess) => agent.stderr().match(NOTICED_PATTERN)?.length ?? 0;
  let server: ServerProcess | undefined;
  let agent: AgentProcess | undefined;
  let writer: LineWriterProcess | undefined;
  let agentLog = "";
  try {
    server = await spawnServer();
    agent = await spawnAgent();
    await waitFor(() => agent!.connected(), { timeoutMs: 60_000, message: "agent connected" });
    writer = await startLineWriter(appLog, options.rate);
    await Deno.writeTextFile(confPath, logrotateConfig(appLog, options.scheme, writer.pid), {
      mode: 0o600,
    });
    let agentBackAfter = 0;
    let serverBackAfter = 0;
    let downSince = 0;
    for (let k = 1; k <= options.rotations; k++) {
      await pause(options.rotationIntervalMs);
      for (const fault of options.faults.filter((f) => f.beforeRotation === k)) {
        const last = k + (fault.rotationsWhileDown ?? 1) - 1;
        progress(`  ${fault.kind} before rotation ${k}, down for ${last - k + 1}`);
        downSince = Date.now();
        if (fault.kind === "agent SIGKILL") {
          agentLog = agent!.stderr();
          await agent!.stop("SIGKILL");
          agentBackAfter = last;
        } else {
          await server!.stop("SIGKILL");
          serverBackAfter = last;
        }
      }
      const seen = agentBackAfter >= k ? 0 : noticed(agent!);
      await runLogrotate(confPath, statePath);
      if (agentBackAfter === k) {
        progress(`  agent restarted after ${((Date.now() - downSince) / 1000).toFixed(1)} s`);
        agent = await spawnAgent();
        if (serverBackAfter < k) {
          await waitFor(() => agent!.connected(), { timeoutMs: 60_000, message: "agent back" });
        }
      } else if (agentBackAfter < k) {
        // The agent notices every rotation, even while it cannot send (server down).
        await waitFor(() => noticed(agent!) > seen, {
          timeoutMs: 60_000,
          message: `agent noticing rotation ${k}`,
        });
      }
      if (serverBackAfter === k) {
        progress(`  server restarted after ${((Date.now() - downSince) / 1000).toFixed(1)} s`);
        server = await spawnServer();
      }
      progress(`  rotation ${k} done (${options.scheme})`);
    }
    // The writer goes on for one more interval after the last rotation.
    await pause(options.rotationIntervalMs);
    const written = await writer.stop();
    const scan = await scanDisk(logs, "app.log", written);
    let onDisk = 0;
    for (const bit of scan.onDisk) onDisk += bit;
    progress(`  ${written} lines written, ${onDisk} still on disk; waiting for them to be stored`);
    let report = judgeRun(dbPath, scan, written);
    try {
      await waitFor(() => {
        // Cheap first: every line still on disk needs a stored line.
        if (countStored(dbPath) < onDisk) return false;
        report = judgeRun(dbPath, scan, written);
        return report.lostOnDisk === 0;
      }, { timeoutMs: options.drainTimeoutMs, intervalMs: 250, message: "lines on disk stored" });
    } catch {
      // Judged as it stands: the report says what is missing.
    }
    agentLog = agent.stderr();
    return { ...report, files: scan.files, agentLog, elapsedMs: Date.now() - startedAt };
  } catch (error) {
    // What the agent said is the best clue to a failed wait.
    const log = agent?.stderr() ?? agentLog;
    throw new Error(`${(error as Error).message}\nagent log tail:\n${log.slice(-6000)}`, {
      cause: error,
    });
  } finally {
    await writer?.[Symbol.asyncDispose]();
    await agent?.stop("SIGTERM");
    await server?.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * One row of the figures table of docs/DELIVERY.md.
 *
 * @param label Scheme and fault.
 * @param r The report.
 * @returns A Markdown table row.
 */
export function reportRow(label: string, r: LogrotateReport): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return `| ${label} | ${n(r.written)} | ${n(r.storedOnce)} | ${n(r.lost)} (${
    n(r.goneFromDisk)
  }) | ${n(r.lostOnDisk)} | ${n(r.duplicated)} | ${n(r.outOfOrder)} / ${n(r.outOfOrderInFile)} | ${
    n(r.gaps)
  } | ${n(r.detectableLosses)} / ${n(r.unreportedLosses)} |`;
}

/** Header of the table {@linkcode reportRow} fills. */
export const REPORT_HEADER =
  "| scheme, fault | written | stored once | lost (gone from disk) | lost still on disk | duplicated | out of order (stream / file) | gap events | detectable losses / without gap |\n" +
  "|---|---|---|---|---|---|---|---|---|";
