/**
 * Syslog ingest benchmark: a real nms-server subprocess with syslog
 * listeners on port 0, fed over TCP (K pipelined connections, newline
 * framing) and over UDP (a bounded send rate; what arrives is counted), with
 * the agent protocol's pipelined rate on the same server as the baseline.
 *
 * Usage: deno run -A tests/bench/syslog.ts [--events N] [--connections K]
 *   [--udp-events M] [--udp-rate PER_SECOND] [--workers W] [--sync full|normal]
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { runClients, sampleLine } from "./_load.ts";
import { defaultReceiveBufferBytes } from "../../server/syslog/udp_listener.ts";
import { benchArgs, choiceOption, numberOption } from "./_args.ts";
import { writeAll } from "../_harness/write_all.ts";

const values = benchArgs(import.meta.url, {
  events: { type: "string", default: "200000" },
  connections: { type: "string", default: "4" },
  "udp-events": { type: "string", default: "100000" },
  "udp-rate": { type: "string", default: "50000" },
  workers: { type: "string" },
  sync: { type: "string", default: "full" },
});
const EVENTS = numberOption("events", values.events, { min: 1 });
const CONNECTIONS = numberOption("connections", values.connections, { min: 1 });
const UDP_EVENTS = numberOption("udp-events", values["udp-events"]);
const UDP_RATE = numberOption("udp-rate", values["udp-rate"], { min: 1 });
const SYNC = choiceOption("sync", values.sync, ["full", "normal"]);
/** The server's `--workers`, when given. */
const WORKERS = values.workers === undefined
  ? undefined
  : String(numberOption("workers", values.workers, { min: 1 }));

/** How often the stored count is polled, in ms. */
const POLL_MS = 20;
/** UDP: the count is final once it has not moved for this long, in ms. */
const UDP_SETTLE_MS = 1500;
/** UDP datagrams sent per pacing step (every 10 ms at the target rate). */
const UDP_STEP_MS = 10;

const encoder = new TextEncoder();

function format(rate: number): string {
  return `${Math.round(rate).toLocaleString("en-US")} events/s`;
}

/** A syslog line as a Linux host forwards it: RFC 3164 with PRI. */
function syslogLine(sender: number, i: number): string {
  return `<38>${sampleLine(sender, i)}`;
}

interface Server {
  readonly agentPort: number;
  readonly udpPort: number;
  readonly tcpPort: number;
  stop(): Promise<void>;
}

/** Starts `nms-server serve` with syslog listeners on port 0 and reads their ports from its log. */
async function spawnServer(dir: string): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
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
      "--sync",
      SYNC,
      "--syslog-udp",
      "0",
      "--syslog-tcp",
      "0",
      ...(WORKERS ? ["--workers", WORKERS] : []),
    ],
    env: { NMS_ADMIN_PASSWORD: "bench-password" },
    stderr: "piped",
    stdout: "null",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Server exited before listening:\n${text}`);
    text += value;
    const agent = /Listening for agents address=[^ ]*:(\d+)/.exec(text);
    const udp = / udp=[^ ]*:(\d+)/.exec(text);
    const tcp = / tcp=[^ ]*:(\d+)/.exec(text);
    if (agent && udp && tcp) {
      // Keep draining stderr so the server never blocks on a full pipe.
      (async () => {
        try {
          while (!(await reader.read()).done);
        } catch { /* closed */ }
      })();
      return {
        agentPort: Number(agent[1]),
        udpPort: Number(udp[1]),
        tcpPort: Number(tcp[1]),
        async stop() {
          child.kill("SIGTERM");
          await child.status;
        },
      };
    }
  }
}

/** Counts stored events through a separate read connection (WAL allows it). */
function counter(dbPath: string): { count(): number; close(): void } {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  const statement = db.prepare("SELECT count(*) AS n FROM logs");
  return {
    count: () => Number((statement.get() as { n: number }).n),
    close: () => db.close(),
  };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** TCP: K connections write N newline-framed lines as fast as the server reads them. */
async function tcpRun(server: Server, events: { count(): number }): Promise<number> {
  const perConnection = Math.floor(EVENTS / CONNECTIONS);
  const payloads = Array.from({ length: CONNECTIONS }, (_, c) => {
    const chunks: Uint8Array[] = [];
    let text = "";
    for (let i = 0; i < perConnection; i++) {
      text += syslogLine(c, i) + "\n";
      if (text.length > 1 << 20) {
        chunks.push(encoder.encode(text));
        text = "";
      }
    }
    if (text) chunks.push(encoder.encode(text));
    return chunks;
  });
  const before = events.count();
  const target = before + perConnection * CONNECTIONS;
  const conns = await Promise.all(
    payloads.map(() => Deno.connect({ hostname: "127.0.0.1", port: server.tcpPort })),
  );
  const start = performance.now();
  await Promise.all(conns.map(async (conn, c) => {
    for (const chunk of payloads[c]!) {
      await writeAll(conn, chunk);
    }
    conn.close();
  }));
  while (events.count() < target) await sleep(POLL_MS);
  return (perConnection * CONNECTIONS) / ((performance.now() - start) / 1000);
}

/** The kernel's default socket receive buffer, which decides UDP losses (docs/SYSLOG.md). */
function receiveBuffer(): string {
  const bytes = defaultReceiveBufferBytes();
  return bytes === null ? "unknown" : `${bytes.toLocaleString("en-US")} bytes`;
}

/** UDP: M datagrams at a bounded rate; returns what arrived and how fast it was stored. */
async function udpRun(
  server: Server,
  events: { count(): number },
): Promise<{ sent: number; stored: number; rate: number }> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port: server.udpPort };
  const datagrams = Array.from({ length: UDP_EVENTS }, (_, i) => encoder.encode(syslogLine(9, i)));
  const perStep = Math.max(1, Math.round((UDP_RATE * UDP_STEP_MS) / 1000));
  const before = events.count();
  const start = performance.now();
  try {
    for (let i = 0; i < datagrams.length; i += perStep) {
      const stepStart = performance.now();
      for (let j = i; j < Math.min(i + perStep, datagrams.length); j++) {
        await socket.send(datagrams[j]!, to);
      }
      const left = UDP_STEP_MS - (performance.now() - stepStart);
      if (left > 0) await sleep(left);
    }
  } finally {
    socket.close();
  }
  let last = events.count();
  let lastChange = performance.now();
  let lastStoredAt = lastChange;
  while (performance.now() - lastChange < UDP_SETTLE_MS) {
    await sleep(POLL_MS);
    const now = events.count();
    if (now !== last) {
      last = now;
      lastChange = lastStoredAt = performance.now();
    }
    if (now - before >= UDP_EVENTS) break;
  }
  const stored = last - before;
  return { sent: UDP_EVENTS, stored, rate: stored / ((lastStoredAt - start) / 1000) };
}

const dir = await Deno.makeTempDir({ prefix: "nms-bench-syslog-" });
try {
  const server = await spawnServer(dir);
  const events = counter(join(dir, "nms.db"));
  try {
    const agentMs = await runClients(
      server.agentPort,
      CONNECTIONS,
      Math.floor(EVENTS / CONNECTIONS),
      "EVENT",
    );
    const agentRate = (Math.floor(EVENTS / CONNECTIONS) * CONNECTIONS) / (agentMs / 1000);
    const tcpRate = await tcpRun(server, events);
    const udp = await udpRun(server, events);
    const out = (line: string) => Deno.stdout.writeSync(encoder.encode(line + "\n"));
    out(`syslog ingest, ${EVENTS.toLocaleString("en-US")} events, ${CONNECTIONS} connections`);
    out(`  agent protocol (baseline, EVENT pipelined, ACKed)  ${format(agentRate)}`);
    out(
      `  syslog TCP (newline framing, pipelined)            ${format(tcpRate)}  (${
        (tcpRate / agentRate).toFixed(2)
      }x baseline)`,
    );
    out(
      `  syslog UDP (offered ${format(UDP_RATE)})          ${format(udp.rate)}, ${
        udp.stored.toLocaleString("en-US")
      } of ${udp.sent.toLocaleString("en-US")} stored (${
        (100 * (1 - udp.stored / udp.sent)).toFixed(2)
      }% lost; kernel receive buffer ${receiveBuffer()})`,
    );
  } finally {
    events.close();
    await server.stop();
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
