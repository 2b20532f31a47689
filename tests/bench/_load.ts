/**
 * Load generation for the benchmarks: K protocol clients that pipeline EVENT
 * lines as fast as the server acknowledges them, and the server as a real
 * subprocess so that client and server do not share a thread.
 *
 * @module
 */

import { join } from "node:path";
import { LINEAR_REGEX_V8_FLAGS } from "../../server/rules/linear_regex.ts";
import { writeAll } from "../_harness/write_all.ts";

const encoder = new TextEncoder();

/** Lines per second of log time in {@linkcode sampleLine}: times only move forward, as in a real log. */
const SAMPLE_LINES_PER_SECOND = 2000;

/**
 * Message templates of a busy web server's /var/log/syslog, in proportion: out
 * of 50 lines, 10 systemd, 10 cron, 10 nginx, 5 kernel firewall, 5 postfix,
 * 5 DHCP/DNS, 3 accepted SSH logins, 1 closed pre-auth SSH connection and
 * 1 failed SSH password. The detection rules match about 10% of them.
 */
const TEMPLATES: ((i: number) => string)[] = [
  ...Array(10).fill((i: number) => `systemd[1]: Started Session ${i} of User deploy.`),
  ...Array(10).fill((i: number) =>
    `CRON[${2000 + (i % 3000)}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)`
  ),
  ...Array(10).fill((i: number) =>
    `nginx[${900 + (i % 8)}]: 10.0.${i % 250}.${i % 199} - - "GET /api/orders/${i} HTTP/1.1" 200 ${
      300 + (i % 900)
    } "-" "curl/8.5.0"`
  ),
  ...Array(5).fill((i: number) =>
    `kernel: [${(i / 1000).toFixed(6)}] [UFW BLOCK] IN=eth0 OUT= MAC= SRC=192.0.2.${
      i % 250
    } DST=198.51.100.10 LEN=40 TOS=0x00 PREC=0x00 TTL=244 ID=${i % 65535} PROTO=TCP SPT=${
      40000 + (i % 20000)
    } DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0`
  ),
  ...Array(5).fill((i: number) =>
    `postfix/smtpd[${3000 + (i % 500)}]: connect from unknown[203.0.113.${i % 250}]`
  ),
  ...Array(5).fill((i: number) =>
    `systemd-resolved[611]: Clock change detected. Flushing caches. (${i})`
  ),
  ...Array(3).fill((i: number) =>
    `sshd[${800 + (i % 97)}]: Accepted publickey for deploy from 198.51.100.${i % 250} port ${
      40000 + (i % 20000)
    } ssh2: ED25519 SHA256:${i.toString(36)}`
  ),
  (i: number) =>
    `sshd[${800 + (i % 97)}]: Connection closed by authenticating user root 203.0.113.${
      i % 250
    } port ${40000 + (i % 20000)} [preauth]`,
  (i: number) =>
    `sshd[${800 + (i % 97)}]: Failed password for invalid user admin from 203.0.113.${
      i % 250
    } port ${40000 + (i % 20000)} ssh2`,
];

/**
 * What the benchmark clients send: `realistic`, the mix above; `attack`, an
 * auth log during a brute force, every line
 * `sshd[…]: Failed password for invalid user admin from 203.0.113.7 port … ssh2`
 * (each one a match, an alert to fold and a correlation candidate).
 */
export type Workload = "realistic" | "attack";

/** The workloads, for option parsing. */
export const WORKLOADS = ["realistic", "attack"] as const;

/** The brute force's line. */
const ATTACK_TEMPLATE = (i: number) =>
  `sshd[${800 + (i % 97)}]: Failed password for invalid user admin from 203.0.113.7 port ${
    40000 + (i % 20000)
  } ssh2`;

/** A line of the workload in RFC 3164 form, as /var/log/syslog holds it, with times in order. */
export function sampleLine(client: number, i: number, workload: Workload = "realistic"): string {
  const second = Math.floor(i / SAMPLE_LINES_PER_SECOND);
  const time = [Math.floor(second / 3600) % 24, Math.floor(second / 60) % 60, second % 60]
    .map((n) => String(n).padStart(2, "0")).join(":");
  const text = workload === "attack" ? ATTACK_TEMPLATE(i) : TEMPLATES[i % TEMPLATES.length]!(i);
  return `Nov 23 ${time} web-${client} ${text}`;
}

/** A server subprocess. */
export interface ServerProcess {
  readonly port: number;
  readonly pid: number;
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts `nms-server serve` on port 0 with a database in `dir`.
 *
 * @param dir Data directory.
 * @param args Extra serve flags.
 * @returns The running process.
 */
export async function spawnServer(dir: string, args: string[] = []): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--v8-flags=${LINEAR_REGEX_V8_FLAGS}`,
      join(import.meta.dirname!, "../../server/main.ts"),
      "serve",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--db",
      join(dir, "nms.db"),
      "--http-port",
      "0",
      ...args,
    ],
    env: { NMS_ADMIN_PASSWORD: "bench-password" },
    stderr: "piped",
    stdout: "null",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port = 0;
  while (port === 0) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Server exited before listening:\n${text}`);
    text += value;
    const match = /Listening for agents address=[^ ]*:(\d+)/.exec(text);
    if (match) port = Number(match[1]);
  }
  // Keep draining stderr so the server never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done);
    } catch { /* closed */ }
  })();
  return {
    port,
    pid: child.pid,
    async cpuSeconds() {
      const stat = await Deno.readTextFile(`/proc/${child.pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]);
      return ticks / 100;
    },
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/**
 * Runs `clients` pipelined clients sending `perClient` EVENT lines each and
 * waits until every line is acknowledged.
 *
 * @returns Elapsed milliseconds from the first byte sent to the last ACK.
 */
export async function runClients(
  port: number,
  clients: number,
  perClient: number,
  command: "EVENT" | "BATCH_EVENT" = "EVENT",
  workload: Workload = "realistic",
): Promise<number> {
  // Payloads are built before the clock starts.
  const payloads = Array.from({ length: clients }, (_, c) => {
    const chunks: Uint8Array[] = [];
    let text = "";
    const stream = `bench-${crypto.randomUUID()}`;
    for (let i = 0; i < perClient; i++) {
      text += command === "EVENT"
        ? `EVENT ${stream} ${i + 1} ${sampleLine(c, i, workload)}\n`
        : `BATCH_EVENT ${sampleLine(c, i, workload)}\n`;
      if (text.length > 1 << 20) {
        chunks.push(encoder.encode(text));
        text = "";
      }
    }
    if (text) chunks.push(encoder.encode(text));
    return chunks;
  });
  const conns = await Promise.all(
    payloads.map(async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(encoder.encode("LOGIN admin bench-password\n"));
      // Welcome + login ACK.
      await countLines(conn, 2);
      return conn;
    }),
  );
  const start = performance.now();
  await Promise.all(conns.map(async (conn, c) => {
    const writing = (async () => {
      for (const chunk of payloads[c]!) {
        await writeAll(conn, chunk);
      }
    })();
    const failed = await countLines(conn, perClient);
    await writing;
    if (failed > 0) throw new Error(`${failed} events were not acknowledged OK`);
    conn.close();
  }));
  return performance.now() - start;
}

/** Reads until `count` lines arrived; returns how many were not `ACK OK`. */
async function countLines(conn: Deno.Conn, count: number): Promise<number> {
  const buffer = new Uint8Array(1 << 16);
  let lines = 0;
  let failed = 0;
  let lineStart = true;
  while (lines < count) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`Connection closed after ${lines} of ${count} lines`);
    for (let i = 0; i < n; i++) {
      const byte = buffer[i]!;
      // "ACK F..." at the start of a line is a failure.
      if (lineStart && byte === 65 && buffer[i + 4] === 70) failed++;
      lineStart = byte === 10;
      if (lineStart) lines++;
    }
  }
  return failed;
}
