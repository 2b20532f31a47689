// deno-lint-ignore-file no-console -- a benchmark's output is its result, printed for the person running it
/**
 * Server memory under a flood: many connections pipelining as fast as they
 * can for a fixed time. Prints the server's peak RSS and what it committed.
 *
 * Usage: deno run -A tests/bench/flood.ts [--connections 200] [--seconds 10]
 *
 * @module
 */

import { sampleLine, spawnServer } from "./_load.ts";
import { benchArgs, numberOption } from "./_args.ts";
import { writeAll } from "../_harness/write_all.ts";

/** Options of {@linkcode runFlood}. */
export interface FloodOptions {
  /** @default {200} */
  connections?: number;
  /** How long the flood lasts. @default {10} */
  seconds?: number;
}

const encoder = new TextEncoder();

async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/**
 * Floods a server subprocess and prints its peak RSS.
 *
 * @param options Connections and duration.
 * @returns Peak RSS in bytes and events acknowledged.
 */
export async function runFlood(
  options: FloodOptions = {},
): Promise<{ peakRss: number; acked: number }> {
  const connections = options.connections ?? 200;
  const seconds = options.seconds ?? 10;
  const dir = await Deno.makeTempDir({ prefix: "nms-flood-" });
  // All connections come from 127.0.0.1: lift the per-address limit (docs/SECURITY.md).
  const server = await spawnServer(dir, ["--max-connections-per-ip", "0"]);
  const idleRss = await rssBytes(server.pid);
  let peakRss = idleRss;
  let acked = 0;
  const deadline = Date.now() + seconds * 1000;
  const sampler = setInterval(async () => {
    peakRss = Math.max(peakRss, await rssBytes(server.pid).catch(() => 0));
  }, 200);
  try {
    await Promise.all(Array.from({ length: connections }, async (_, c) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      await conn.write(encoder.encode("LOGIN admin bench-password\n"));
      let chunk = "";
      for (let i = 0; i < 2000; i++) chunk += `BATCH_EVENT ${sampleLine(c, i)}\n`;
      // One 2,000-line chunk, sent again and again as fast as the server reads.
      const bytes = encoder.encode(chunk);
      const reading = (async () => {
        const buffer = new Uint8Array(1 << 16);
        for (;;) {
          const n = await conn.read(buffer).catch(() => null);
          if (n === null) return;
          for (let i = 0; i < n; i++) if (buffer[i] === 10) acked++;
        }
      })();
      while (Date.now() < deadline) {
        await writeAll(conn, bytes);
      }
      conn.closeWrite();
      await reading;
      conn.close();
    }));
  } finally {
    clearInterval(sampler);
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
  const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
  console.log(
    `flood     ${connections} connections for ${seconds} s: server RSS ${mb(idleRss)} idle, ` +
      `${mb(peakRss)} peak; ${acked.toLocaleString("en-US")} lines acknowledged`,
  );
  return { peakRss, acked };
}

if (import.meta.main) {
  const values = benchArgs(import.meta.url, {
    connections: { type: "string", default: "200" },
    seconds: { type: "string", default: "10" },
  });
  await runFlood({
    connections: numberOption("connections", values.connections, { min: 1 }),
    seconds: numberOption("seconds", values.seconds, { min: 1, integer: false }),
  });
}
