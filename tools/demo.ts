/**
 * `deno task demo`: a complete NMS on this machine in one command. Starts the
 * server with its web console, creates an agent account, runs an agent that
 * follows a demo log file, and keeps writing realistic lines to that file
 * (including an SSH brute force, so alerts appear). Prints where to look.
 *
 * Everything lives in ./data/demo/ and is started afresh on each run.
 * Ctrl-C stops it all.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { hashPassword } from "../server/auth/password.ts";
import { createLogger, startServer } from "../server/mod.ts";
import { createLogger as createAgentLogger, runAgent } from "../agent/mod.ts";

const DIR = resolve("data/demo");
const LOG_FILE = join(DIR, "demo.log");
/** Time between two generated log lines, in ms. */
const LINE_INTERVAL_MS = 400;

function randomPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return bytes.toBase64({ alphabet: "base64url" });
}

/** Tries the usual port first; another program may hold it. */
function freePort(preferred: number): number {
  for (const port of [preferred, 0]) {
    try {
      const listener = Deno.listen({ hostname: "127.0.0.1", port });
      const chosen = (listener.addr as Deno.NetAddr).port;
      listener.close();
      return chosen;
    } catch {
      // taken: fall back to any free port
    }
  }
  throw new Error("No free port");
}

const encoder = new TextEncoder();
function bsdTime(date: Date): string {
  const months = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
  ];
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${months[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, " ")} ${
    pad(date.getUTCHours())
  }:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/** A day in the life of a small server, with an attacker guessing passwords now and then. */
function* demoLines(): Generator<string> {
  const host = "demo-web-01";
  for (let i = 0;; i++) {
    const t = bsdTime(new Date());
    const pid = 1000 + (i % 500);
    if (i % 40 >= 30 && i % 40 < 37) {
      yield `${t} ${host} sshd[${pid}]: Failed password for invalid user admin from 203.0.113.66 port ${
        40000 + i
      } ssh2`;
      continue;
    }
    const choices = [
      `${t} ${host} sshd[${pid}]: Accepted publickey for deploy from 198.51.100.4 port ${
        50000 + i
      } ssh2: ED25519 SHA256:x`,
      `${t} ${host} CRON[${pid}]: (root) CMD (run-parts /etc/cron.hourly)`,
      `${t} ${host} systemd[1]: Started Daily apt download activities.`,
      `${t} ${host} nginx[${pid}]: 10.0.0.${i % 200} "GET /api/orders HTTP/1.1" 200 512`,
      `${t} ${host} kernel: [${
        (i * 1.7).toFixed(6)
      }] TCP: request_sock_TCP: Possible SYN flooding on port 443.`,
      `${t} ${host} sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update`,
    ];
    yield choices[i % choices.length]!;
  }
}

await Deno.remove(DIR, { recursive: true }).catch(() => {});
await Deno.mkdir(DIR, { recursive: true });
await Deno.writeTextFile(LOG_FILE, "");
const adminPassword = randomPassword();
const agentPassword = randomPassword();
const port = freePort(8080);
const httpPort = freePort(8081);
const controller = new AbortController();

const server = await startServer({
  port,
  hostname: "127.0.0.1",
  httpPort,
  httpHostname: "127.0.0.1",
  dbPath: join(DIR, "nms.db"),
  adminPassword,
  log: createLogger({ level: "warn" }),
  signal: controller.signal,
});
await server.store.createUser("demo-agent", await hashPassword(agentPassword), "agent");
const agent = await runAgent({
  hostname: "127.0.0.1",
  port: server.addr.port,
  username: "demo-agent",
  password: agentPassword,
  paths: [LOG_FILE],
  stateDir: join(DIR, "agent-state"),
  heartbeatSeconds: 5,
  logger: createAgentLogger({ level: "warn" }),
});

const file = await Deno.open(LOG_FILE, { append: true });
const lines = demoLines();
const writer = setInterval(() => {
  file.writeSync(encoder.encode(lines.next().value + "\n"));
}, LINE_INTERVAL_MS);

// `deno task`, `timeout` and service managers may deliver a stop signal more than once: stop once.
// Listening before the banner says "Press Ctrl-C", so a stop right after it is caught.
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(writer);
  file.close();
  await agent.stop();
  controller.abort();
  await server.finished;
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

const console_ = server.httpAddr ? `http://127.0.0.1:${server.httpAddr.port}` : "(disabled)";
const out = (text: string) => Deno.stdout.writeSync(encoder.encode(text + "\n"));
out(`
NMS demo is running.

  Web console      ${console_}
                   user: admin   password: ${adminPassword}
  Agent protocol   127.0.0.1:${server.addr.port}  (try: nc 127.0.0.1 ${server.addr.port})
  Followed log     ${LOG_FILE}
                   append your own lines: echo "hello from me" >> ${LOG_FILE}
  Database         ${join(DIR, "nms.db")}
                   deno task server logs --db ${join(DIR, "nms.db")} --follow

An SSH brute force from 203.0.113.66 starts within 15 seconds: watch Live and Alerts.
Press Ctrl-C to stop.
`);
