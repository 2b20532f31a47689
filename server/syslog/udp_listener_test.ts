import assert from "node:assert/strict";
import { silentLogger } from "../log.ts";
import type { SyslogLineBatch, WorkerPool } from "../ingest/mod.ts";
import { parseAllowList } from "./allow_list.ts";
import { createSyslogStats } from "./stats.ts";
import {
  RECOMMENDED_UDP_RECEIVE_BUFFER_BYTES,
  udpReceiveBufferAdvice,
  UdpSyslogListener,
} from "./udp_listener.ts";
import { WarnThrottle } from "../net/warn_throttle.ts";

/** A pool whose batch credits are handed out only when the test says so. */
function gatedPool(): { pool: WorkerPool; jobs: SyslogLineBatch[]; open(): void } {
  const jobs: SyslogLineBatch[] = [];
  let opened = false;
  const waiting: (() => void)[] = [];
  const pool = {
    acquireBatchCredit: () =>
      opened ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve)),
    openLane: () => ({}),
    ingest: (job: SyslogLineBatch) => {
      jobs.push(job);
      return Promise.resolve(new Uint8Array(job.lines.length));
    },
  } as unknown as WorkerPool;
  return {
    pool,
    jobs,
    open() {
      opened = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("UdpSyslogListener queues up to its bound while the pool is full, then drops and counts", async () => {
  const { pool, jobs, open } = gatedPool();
  const stats = createSyslogStats();
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const udp = new UdpSyslogListener(socket, {
    pool,
    log: silentLogger,
    stats,
    allow: parseAllowList(["127.0.0.0/8"]),
    warnings: new WarnThrottle(silentLogger),
  }, { maxQueuedMessages: 10 });
  const running = udp.run();
  const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port: udp.addr.port };
    for (let i = 0; i < 30; i++) {
      await client.send(new TextEncoder().encode(`<13>message ${i}\n`), to);
    }
    await waitUntil(() => stats.received + stats.droppedDatagrams === 30);
    assert.equal(stats.received, 10);
    assert.equal(stats.droppedDatagrams, 20);
    open();
    await waitUntil(() => stats.stored === 10);
    const lines = jobs.flatMap((job) => job.lines);
    assert.deepEqual(lines, Array.from({ length: 10 }, (_, i) => `<13>message ${i}`));
    assert.deepEqual(jobs[0]!.origin.addresses, ["127.0.0.1"]);
    // Room again: the next datagram is accepted.
    await client.send(new TextEncoder().encode("<13>after"), to);
    await waitUntil(() => stats.stored === 11);
  } finally {
    client.close();
    await udp.stop();
    await running;
  }
});

Deno.test("UdpSyslogListener drops and counts datagrams from senders outside the allow-list", async () => {
  const { pool, jobs, open } = gatedPool();
  open();
  const stats = createSyslogStats();
  const warnings: string[] = [];
  const log = { ...silentLogger, warn: (message: string) => warnings.push(message) };
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const udp = new UdpSyslogListener(socket, {
    pool,
    log,
    stats,
    allow: parseAllowList(["10.0.0.0/8"]),
    warnings: new WarnThrottle(log),
  });
  const running = udp.run();
  const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port: udp.addr.port };
    for (let i = 0; i < 5; i++) await client.send(new TextEncoder().encode("<13>x"), to);
    await waitUntil(() => stats.deniedDatagrams === 5);
    assert.equal(jobs.length, 0);
    // Throttled: one warning for the five.
    assert.deepEqual(warnings, ["Dropped syslog from a sender outside the allow-list"]);
  } finally {
    client.close();
    await udp.stop();
    await running;
  }
});

Deno.test("udpReceiveBufferAdvice() warns of a small kernel receive buffer, with the sysctl that raises it", () => {
  const reading = (text: string) => (path: string) => {
    assert.equal(path, "/proc/sys/net/core/rmem_default");
    return text;
  };
  const advice = udpReceiveBufferAdvice(reading("212992\n"));
  assert.match(advice ?? "", /212992-byte receive buffer/);
  assert.match(advice ?? "", /sysctl -w net\.core\.rmem_default=4194304/);
  assert.equal(advice?.includes("\n"), false, "one line");
  assert.equal(udpReceiveBufferAdvice(reading(`${RECOMMENDED_UDP_RECEIVE_BUFFER_BYTES}\n`)), null);
  assert.equal(udpReceiveBufferAdvice(reading("not a number")), null);
  // Not Linux, or not readable: nothing to advise.
  assert.equal(
    udpReceiveBufferAdvice(() => {
      throw new Deno.errors.NotFound("no /proc");
    }),
    null,
  );
});
