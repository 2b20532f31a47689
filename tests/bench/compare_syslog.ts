// deno-lint-ignore-file no-console -- a benchmark's output is its result, printed for the person running it
/**
 * Side by side: the same TCP syslog load through NMS and through the syslog
 * daemons installed on this machine (rsyslog, syslog-ng), each writing to its
 * own store (NMS: SQLite with indexes and durable commits; the daemons: a
 * plain file). Daemons that are not installed are skipped with a note.
 *
 * Usage: deno run -A tests/bench/compare_syslog.ts [--events 500000]
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { sampleLine, spawnServer } from "./_load.ts";
import { benchArgs, numberOption } from "./_args.ts";

const encoder = new TextEncoder();

/** Options of {@linkcode runSyslogComparison}. */
export interface CompareOptions {
  /** Messages sent to each receiver. @default {500000} */
  events?: number;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function connectWhenUp(port: number, timeoutMs = 10_000): Promise<Deno.TcpConn> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await Deno.connect({ hostname: "127.0.0.1", port });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The messages, RFC 3164 with PRI, newline-framed, built before any clock starts. */
function payload(events: number): Uint8Array {
  let text = "";
  for (let i = 0; i < events; i++) text += `<30>${sampleLine(1, i)}\n`;
  return encoder.encode(text);
}

/** Sends the payload on one connection and waits until `stored()` reaches `events`. */
async function measure(
  port: number,
  bytes: Uint8Array,
  events: number,
  stored: () => number | Promise<number>,
): Promise<number> {
  const conn = await connectWhenUp(port);
  const start = performance.now();
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
  conn.close();
  const deadline = Date.now() + 600_000;
  while (await stored() < events) {
    if (Date.now() > deadline) throw new Error("Timed out waiting for the receiver");
    await new Promise((r) => setTimeout(r, 5));
  }
  return events / ((performance.now() - start) / 1000);
}

async function countLines(path: string): Promise<number> {
  try {
    const data = await Deno.readFile(path);
    let lines = 0;
    for (const byte of data) if (byte === 10) lines++;
    return lines;
  } catch {
    return 0;
  }
}

async function installed(binary: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${binary}`],
      stdout: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

async function rsyslog(dir: string, bytes: Uint8Array, events: number): Promise<number> {
  const port = freePort();
  const out = join(dir, "rsyslog.out");
  const conf = join(dir, "rsyslog.conf");
  await Deno.writeTextFile(
    conf,
    `global(workDirectory="${dir}")
module(load="imtcp")
input(type="imtcp" port="${port}" address="127.0.0.1")
*.* action(type="omfile" file="${out}")
`,
  );
  return await measureDaemon(
    "rsyslogd",
    ["-n", "-f", conf, "-i", join(dir, "rsyslog.pid")],
    { port, out, bytes, events },
  );
}

/** Runs a syslog daemon in the foreground while the load is sent, and stops it. */
async function measureDaemon(
  command: string,
  args: string[],
  load: { port: number; out: string; bytes: Uint8Array; events: number },
): Promise<number> {
  const child = new Deno.Command(command, { args, stdout: "null", stderr: "null" }).spawn();
  try {
    return await measure(load.port, load.bytes, load.events, () => countLines(load.out));
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

async function syslogNg(dir: string, bytes: Uint8Array, events: number): Promise<number> {
  const port = freePort();
  const out = join(dir, "syslog-ng.out");
  const conf = join(dir, "syslog-ng.conf");
  await Deno.writeTextFile(
    conf,
    `@version: current
source s_net { network(ip("127.0.0.1") port(${port}) transport("tcp")); };
destination d_file { file("${out}"); };
log { source(s_net); destination(d_file); };
`,
  );
  return await measureDaemon("syslog-ng", [
    "-F",
    "-f",
    conf,
    "-p",
    join(dir, "syslog-ng.pid"),
    "-R",
    join(dir, "syslog-ng.persist"),
    "-c",
    join(dir, "syslog-ng.ctl"),
  ], { port, out, bytes, events });
}

async function nms(dir: string, bytes: Uint8Array, events: number): Promise<number> {
  const port = freePort();
  const server = await spawnServer(join(dir, "nms"), ["--syslog-tcp", String(port)]);
  try {
    const db = new DatabaseSync(join(dir, "nms", "nms.db"), { readOnly: true });
    const count = db.prepare("SELECT count(*) AS n FROM logs WHERE flags & 4 = 0");
    try {
      return await measure(port, bytes, events, () => Number((count.get() as { n: number }).n));
    } finally {
      db.close();
    }
  } finally {
    await server.stop();
  }
}

/**
 * Runs the comparison and prints one line per receiver.
 *
 * @param options How many messages.
 */
export async function runSyslogComparison(options: CompareOptions = {}): Promise<void> {
  const events = options.events ?? 500_000;
  const bytes = payload(events);
  const dir = await Deno.makeTempDir({ prefix: "nms-compare-" });
  const rate = (n: number) => `${Math.round(n).toLocaleString("en-US")} events/s`;
  try {
    console.log(
      `compare   ${events.toLocaleString("en-US")} RFC 3164 messages over one TCP connection:`,
    );
    const base = await nms(dir, bytes, events);
    console.log(`compare   nms-server --syslog-tcp, into SQLite (indexed, durable): ${rate(base)}`);
    for (
      const [name, binary, run] of [
        ["rsyslogd imtcp → omfile", "rsyslogd", rsyslog],
        ["syslog-ng network() → file()", "syslog-ng", syslogNg],
      ] as const
    ) {
      if (!await installed(binary)) {
        console.log(`compare   ${name}: skipped, ${binary} is not installed`);
        continue;
      }
      const measured = await run(dir, bytes, events);
      console.log(
        `compare   ${name}, into a flat file: ${rate(measured)} (NMS ${
          (base / measured).toFixed(2)
        }x)`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const values = benchArgs(import.meta.url, { events: { type: "string", default: "500000" } });
  await runSyslogComparison({ events: numberOption("events", values.events, { min: 1 }) });
}
