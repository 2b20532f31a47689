/**
 * The collector of the fleet benchmark: `nms-server serve` as a subprocess
 * that can be killed with SIGKILL and started again on the same ports and
 * data directory, its RSS and CPU from /proc, and the console API as an
 * operator reads it.
 *
 * @module
 */

import { join } from "node:path";
import { LINEAR_REGEX_V8_FLAGS } from "../../server/rules/linear_regex.ts";
import type { ProbeAnswer, ProbeRequest } from "./_console_probe.ts";
import { parseStat, readThreadCpu, type ThreadCpu } from "./_thread_cpu.ts";

const MAIN = join(import.meta.dirname!, "../../server/main.ts");
/** Password of the bootstrapped `admin`, for the console. */
export const ADMIN_PASSWORD = "bench-password";
/** How long the server may take to listen, in milliseconds. */
const START_TIMEOUT_MS = 60_000;
/** Characters of the server's stderr kept for an error message. */
const STDERR_TAIL_CHARS = 4000;
/** A server log line at level ERROR: its message, and its `error=` field when it has one. */
const ERROR_LINE = /\sERROR (.*?)(?=\s[\w.]+=|$)(?:.*?\serror="((?:[^"\\]|\\.)*)")?/;

/**
 * Counts the ERROR lines of a log read in chunks that may end mid-line: each
 * line is counted once it is whole (see {@linkcode tallyErrors}).
 *
 * @param errors Where the counts go.
 * @returns Takes the next chunk.
 */
export function errorFeed(errors: Map<string, number>): (chunk: string) => void {
  let partial = "";
  return (chunk) => {
    const lines = partial + chunk;
    const end = lines.lastIndexOf("\n") + 1;
    tallyErrors(lines.slice(0, end), errors);
    partial = lines.slice(end);
  };
}

/**
 * Counts the ERROR lines of a server's log by message and error, so that a run
 * shows what the server logged as broken, not only what the agents saw.
 *
 * @param text Whole lines of the server's stderr.
 * @param errors Where the counts go.
 */
export function tallyErrors(text: string, errors: Map<string, number>): void {
  for (const line of text.split("\n")) {
    const match = ERROR_LINE.exec(line);
    if (match === null) continue;
    const key = match[2] === undefined ? match[1]! : `${match[1]}: ${match[2]}`;
    errors.set(key, (errors.get(key) ?? 0) + 1);
  }
}

/** A process's memory and CPU, read from /proc. */
export interface ProcessStats {
  readonly pid: number;
  rssBytes(): Promise<number>;
  /** CPU seconds (user + system) used so far. */
  cpuSeconds(): Promise<number>;
  /** CPU time of each thread so far. */
  threadCpu(): Promise<ThreadCpu[]>;
}

/**
 * Reads a process's RSS and CPU time from /proc.
 *
 * @param pid The process.
 * @returns Its figures, read at each call.
 */
export function processStats(pid: number): ProcessStats {
  const procFile = (name: string) => Deno.readTextFile(`/proc/${pid}/${name}`);
  return {
    pid,
    async rssBytes() {
      return Number(/VmRSS:\s+(\d+) kB/.exec(await procFile("status"))?.[1] ?? 0) * 1024;
    },
    async cpuSeconds() {
      const { userSeconds, systemSeconds } = parseStat(await procFile("stat"));
      return userSeconds + systemSeconds;
    },
    threadCpu: () => readThreadCpu(pid),
  };
}

/** A running collector. */
export interface FleetServer extends ProcessStats {
  readonly port: number;
  readonly httpPort: number;
  readonly httpUrl: string;
  /** `performance.now()` when it logged that it listens for agents. */
  readonly listeningAt: number;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `nms-server serve` on 127.0.0.1 with its database in `dir`.
 *
 * @param dir Data directory (`nms.db`).
 * @param options Ports (0: any free one), extra `serve` flags and extra
 *   `deno run` flags (`--cpu-prof` to profile the server).
 * @returns The running server.
 */
export async function startFleetServer(
  dir: string,
  options: {
    port?: number;
    httpPort?: number;
    args?: string[];
    denoFlags?: string[];
    /** Counts of the ERROR lines the server logs (see {@linkcode tallyErrors}). */
    errors?: Map<string, number>;
  } = {},
): Promise<FleetServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--v8-flags=${LINEAR_REGEX_V8_FLAGS}`,
      ...(options.denoFlags ?? []),
      MAIN,
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      String(options.port ?? 0),
      "--http-port",
      String(options.httpPort ?? 0),
      "--db",
      join(dir, "nms.db"),
      ...(options.args ?? []),
    ],
    env: { NMS_ADMIN_PASSWORD: ADMIN_PASSWORD },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port = 0;
  let httpUrl = "";
  const deadline = performance.now() + START_TIMEOUT_MS;
  const timer = setTimeout(() => child.kill("SIGKILL"), START_TIMEOUT_MS);
  try {
    while (port === 0) {
      const { value, done } = await reader.read();
      if (done || performance.now() > deadline) {
        throw new Error(`Server exited before listening:\n${text.slice(-STDERR_TAIL_CHARS)}`);
      }
      text += value;
      httpUrl ||= /Web console listening url="?(http[^\s"]+)/.exec(text)?.[1] ?? "";
      port = Number(/Listening for agents address="?[^\s"]*:(\d+)/.exec(text)?.[1] ?? 0);
    }
  } finally {
    clearTimeout(timer);
  }
  const listeningAt = performance.now();
  const errors = options.errors ?? new Map<string, number>();
  // Keep draining stderr so the server never blocks on a full pipe; a line
  // split across two reads is counted once it is whole.
  const feed = errorFeed(errors);
  feed(text);
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feed(value);
      }
    } catch { /* closed */ }
  })();
  return {
    ...processStats(child.pid),
    port,
    httpPort: Number(new URL(httpUrl).port),
    httpUrl,
    listeningAt,
    async kill() {
      child.kill("SIGKILL");
      await child.status;
    },
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/**
 * Runs an `nms-server` command (`token create`, `user add`) and returns its stdout.
 *
 * @param args The command's arguments.
 * @returns What it printed.
 * @throws {Error} When it fails.
 */
export async function serverCli(args: string[]): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--v8-flags=${LINEAR_REGEX_V8_FLAGS}`, MAIN, ...args],
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`nms-server ${args[0]} ${args[1]} failed: ${decoder.decode(output.stderr)}`);
  }
  return decoder.decode(output.stdout);
}

/** Nodes per status among those whose hostname starts with a prefix. */
export type StatusCounts = Record<string, number>;

/** The console API, signed in as `admin`. */
export interface ConsoleApi {
  /**
   * `GET /api/agents`: statuses of the nodes named `<prefix>…`, from the
   * server's counts when it pages, else from the whole list.
   */
  statuses(prefix: string): Promise<StatusCounts>;
  /** Latencies of every request so far, in milliseconds, by path without its query. */
  readonly latencies: Map<string, number[]>;
  /** Fetches a path and reads the whole answer; returns its status code. */
  get(path: string): Promise<number>;
  /** Stops the client's thread. */
  close(): void;
}

/**
 * Signs in to the console API as `admin`. Requests are made and timed by a
 * Worker (`_console_probe.ts`), as a browser beside the fleet would.
 *
 * @param baseUrl The console's URL.
 * @returns The client.
 */
export async function signInConsole(baseUrl: string): Promise<ConsoleApi> {
  const probe = new Worker(new URL("./_console_probe.ts", import.meta.url), { type: "module" });
  const waiting = new Map<number, (answer: ProbeAnswer) => void>();
  probe.onmessage = (event: MessageEvent<ProbeAnswer>) => {
    waiting.get(event.data.id)?.(event.data);
    waiting.delete(event.data.id);
  };
  let next = 0;
  const ask = (request: Omit<ProbeRequest, "id">) =>
    new Promise<ProbeAnswer>((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      probe.postMessage({ ...request, id });
    });
  const login = await ask({ login: { baseUrl, password: ADMIN_PASSWORD } });
  if (login.status !== 200) {
    probe.terminate();
    throw new Error(`Console login failed: ${login.status} ${login.text}`);
  }
  const latencies = new Map<string, number[]>();
  async function timed(path: string): Promise<ProbeAnswer> {
    const answer = await ask({ path });
    if (answer.status === 0) throw new Error(`GET ${path}: ${answer.text}`);
    const key = path.split("?")[0]!;
    if (!latencies.has(key)) latencies.set(key, []);
    latencies.get(key)!.push(answer.ms);
    return answer;
  }
  return {
    latencies,
    async get(path) {
      return (await timed(path)).status;
    },
    async statuses(prefix) {
      // The server counts per status itself, over the nodes the name filter keeps.
      const path = `/api/agents?name=${encodeURIComponent(prefix)}&limit=1`;
      const { status, text } = await timed(path);
      if (status !== 200) throw new Error(`GET ${path}: ${status} ${text.slice(0, 200)}`);
      return (JSON.parse(text) as { counts: StatusCounts }).counts;
    },
    close() {
      probe.terminate();
    },
  };
}
