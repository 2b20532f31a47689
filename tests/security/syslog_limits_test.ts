/**
 * Syslog over TCP cannot be held by idle sockets: connections idle for the
 * timeout are closed, each sender address gets a few connections only, and a
 * real sender's message is stored while 1,000 idle sockets from 40 addresses
 * try to take every slot; their refusals print a few lines, not one each.
 *
 * @module
 */

import assert from "node:assert/strict";
import net from "node:net";
import { createLogger } from "../../server/log.ts";
import { EVENT_FLAGS } from "../../server/mod.ts";
import { startSecureServer } from "../_harness/secure_server.ts";
import { waitFor } from "../_harness/wait_for.ts";

/** Opens a TCP socket from `localAddress`; resolves once connected. */
function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Resolves true when the server closes the socket within `ms`. */
function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

Deno.test("a syslog TCP connection that sends nothing for the idle timeout is closed", async () => {
  await using srv = await startSecureServer({ syslogTcpPort: 0, syslogIdleTimeoutSeconds: 1 });
  const socket = await connectFrom(srv.server.syslogAddrs.tcp!.port, "127.0.0.1");
  try {
    assert.equal(await closedWithin(socket, 5_000), true, "closed by the server");
  } finally {
    socket.destroy();
  }
});

Deno.test("1,000 idle syslog sockets from 40 addresses leave room for a real sender, and print a few lines", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", write: (line) => lines.push(line) });
  await using srv = await startSecureServer({ syslogTcpPort: 0, log });
  const port = srv.server.syslogAddrs.tcp!.port;
  const logBefore = lines.length;
  const idle: net.Socket[] = [];
  try {
    for (let i = 0; i < 1_000; i++) {
      const socket = await connectFrom(port, `127.0.7.${(i % 40) + 1}`);
      socket.on("error", () => {});
      socket.resume();
      idle.push(socket);
    }
    // The listener has seen every idle socket once it has counted them all.
    await waitFor(() => {
      const stats = srv.server.syslogStats();
      return stats.connections + stats.refusedConnections >= 1_000;
    });
    const real = await connectFrom(port, "127.0.0.1");
    await new Promise<void>((resolve) =>
      real.end("<13>Nov 23 19:43:33 fw-01 app: the real message\n", () => resolve())
    );
    const stored = await waitFor(async () => {
      const events = await srv.server.store.queryEvents({ contains: "the real message" });
      return events.find((e) => (e.flags & EVENT_FLAGS.internal) === 0);
    });
    assert.equal(stored.host, "fw-01");
    real.destroy();
    const flood = lines.slice(logBefore);
    assert.ok(flood.length <= 6, `${flood.length} log lines:\n${flood.join("\n")}`);
  } finally {
    for (const socket of idle) socket.destroy();
  }
});
