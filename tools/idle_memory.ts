// deno-lint-ignore-file no-console -- a measurement's output is its result, printed for the person running it
/**
 * Memory of idle agent connections: starts `nms-server serve` as a
 * subprocess, reads its RSS, opens `--connections` logged-in, registered
 * connections, each sending two events, and reads the RSS again once they
 * are idle. Then it closes them all, opens as many again (the same hosts
 * registering again) and reads the RSS once more: the first difference
 * includes what the server keeps after the work of a first registration
 * (caches, allocator arenas), the second is what each open connection holds.
 * Prints the figures per connection (docs/SCALING.md).
 *
 *     deno run -A tools/idle_memory.ts --connections 2000
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";

/** Connections being opened at once, so the pre-login budget never evicts one. */
const OPEN_CONCURRENCY = 64;
/** Time the server gets to settle (timers, GC) before the second reading, in ms. */
const SETTLE_MS = 3_000;
/** Longest wait for the server to listen or a connection to be answered, in ms. */
const WAIT_MS = 60_000;

const { values } = parseArgs({
  args: Deno.args,
  options: { connections: { type: "string", default: "2000" } },
});
const count = Number(values.connections);
if (!Number.isInteger(count) || count < 1 || count > 60_000) {
  throw new RangeError(`Cannot measure: invalid --connections ${values.connections}`);
}

const root = join(import.meta.dirname!, "..");
const dir = await Deno.makeTempDir({ prefix: "nms-idle-memory-" });
const db = join(dir, "nms.db");
const flags = ["--v8-flags=--enable-experimental-regexp-engine"];
const main = join(root, "server/main.ts");

try {
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...flags,
      main,
      "serve",
      "--db",
      db,
      "--port",
      "0",
      "--host",
      "0.0.0.0",
      "--max-connections",
      String(count + 100),
      "--max-connections-per-ip",
      "0",
      "--idle-timeout",
      "0",
    ],
    env: { NMS_ADMIN_PASSWORD: "admin", NMS_LOG_LEVEL: "info" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const port = await listeningPort(server.stderr);
    const created = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ...flags, main, "token", "create", "--name", "fleet", "--db", db],
      env: { NMS_ADMIN_PASSWORD: "admin" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const token = new TextDecoder().decode(created.stdout).trim();
    if (!created.success || token.length === 0) {
      throw new Error(`Cannot create a token: ${new TextDecoder().decode(created.stderr)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const before = rssKiB(server.pid);
    const first = await openAll(port, token);
    const afterFirst = rssKiB(server.pid);
    for (const conn of first.conns) conn.close();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const closed = rssKiB(server.pid);
    const second = await openAll(port, token);
    const afterSecond = rssKiB(server.pid);
    for (const conn of second.conns) conn.close();
    const mb = (kib: number) => (kib / 1024).toFixed(1);
    const perConnection = (kib: number) => (kib / count).toFixed(1);
    console.log(
      `connections=${count} open_s=${first.seconds.toFixed(1)} rss_idle_mb=${mb(before)} ` +
        `rss_open_mb=${mb(afterFirst)} per_connection_kb=${perConnection(afterFirst - before)} ` +
        `rss_closed_mb=${mb(closed)} rss_reopened_mb=${mb(afterSecond)} ` +
        `held_per_connection_kb=${perConnection(afterSecond - closed)}`,
    );
  } finally {
    server.kill("SIGKILL");
    await server.status;
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

/** Opens `count` agents, a few at a time, and lets the server settle. */
async function openAll(
  port: number,
  token: string,
): Promise<{ conns: Deno.TcpConn[]; seconds: number }> {
  const conns: Deno.TcpConn[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i += OPEN_CONCURRENCY) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + OPEN_CONCURRENCY); j++) {
      batch.push(openAgent(port, j, token));
    }
    conns.push(...await Promise.all(batch));
  }
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return { conns, seconds };
}

/** Resident set size of a process, in KiB, from /proc/<pid>/status. */
function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!match) throw new Error(`No VmRSS for process ${pid}`);
  return Number(match[1]);
}

/** Waits for the server's "Listening for agents" line and returns its port. */
async function listeningPort(stderr: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    const match = /Listening for agents address=[^ ]*:(\d+)/.exec(text);
    if (match) {
      // Keep draining stderr so the server never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* discard */ }
      })().catch(() => {});
      return Number(match[1]);
    }
  }
  throw new Error(`Server did not listen:\n${text}`);
}

/**
 * One agent: LOGIN, REGISTER, two events. `Deno.connect` cannot choose its
 * source address, so all come from 127.0.0.1 (`--max-connections-per-ip 0`).
 */
async function openAgent(port: number, n: number, token: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = [
    `LOGIN @token ${token}`,
    `REGISTER 1.0 host-${n} Linux`,
    `BATCH_EVENT host-${n} 2024-11-23T19:43:33Z sshd[1]: first event of host ${n}`,
    `BATCH_EVENT host-${n} 2024-11-23T19:43:34Z sshd[1]: second event of host ${n}`,
  ];
  await conn.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  // Welcome line plus four answers.
  await readLines(conn, 5);
  return conn;
}

async function readLines(conn: Deno.TcpConn, lines: number): Promise<void> {
  const buffer = new Uint8Array(4096);
  let seen = 0;
  let text = "";
  const deadline = Date.now() + WAIT_MS;
  while (seen < lines && Date.now() < deadline) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`Server closed the connection after:\n${text}`);
    text += new TextDecoder().decode(buffer.subarray(0, n));
    for (let i = 0; i < n; i++) if (buffer[i] === 10) seen++;
  }
}
