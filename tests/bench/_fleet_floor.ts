/**
 * The floor of the fleet benchmark: a bare Deno TCP server that answers each
 * line of the protocol with the `ACK` the collector would send and does
 * nothing else: no login check, no parsing, no storage, no liveness. Run under
 * the same simulated fleet, its CPU and memory are what any Deno server pays
 * for those sockets alone (one read and one write per agent per message), the
 * baseline beside which the collector's figures are read, measured in the
 * same run.
 *
 * Run as a script it is the server: it listens on 127.0.0.1 on a free port and
 * prints `{"port": N}` on stdout.
 *
 * @module
 */

import { formatAckLine, LineSplitter, OK, WELCOME_LINE } from "../../protocol/mod.ts";
import { type ProcessStats, processStats } from "./_fleet_server.ts";
import { writeAll } from "../_harness/write_all.ts";

/**
 * Bytes each connection reads into: the size of the collector's own idle
 * read buffer, so that both servers make the same reads.
 */
const READ_BUFFER_BYTES = 1024;
/** How long the floor server may take to listen, in milliseconds. */
const START_TIMEOUT_MS = 30_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The ACK line of each verb; a line of any other verb is answered as a heartbeat. */
const ACKS: Readonly<Record<string, string>> = {
  LOGIN: formatAckLine(true, OK.login),
  REGISTER: formatAckLine(true, OK.register),
  HEARTBEAT: formatAckLine(true, OK.heartbeat),
  BATCH_EVENT: formatAckLine(true, OK.event),
  EVENT: formatAckLine(true, OK.event),
};
/** Each ACK line's bytes, encoded once: a read with one line writes them as they are. */
const ENCODED_ACKS = new Map(Object.values(ACKS).map((ack) => [ack, encoder.encode(ack)]));
const WELCOME = encoder.encode(`${WELCOME_LINE}\n`);
const SPACE = 0x20;

/** The ACK of one line: by its verb, the bytes before its first space. */
function ackOf(line: Uint8Array): string {
  const space = line.indexOf(SPACE);
  return ACKS[decoder.decode(space < 0 ? line : line.subarray(0, space))] ?? ACKS.HEARTBEAT!;
}

/** One connection: each read's lines answered in one write. */
async function answer(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(READ_BUFFER_BYTES);
  const splitter = new LineSplitter();
  const acks: string[] = [];
  const sink = {
    line: (line: Uint8Array) => acks.push(ackOf(line)),
    overflow: () => acks.push(ACKS.HEARTBEAT!),
  };
  try {
    await writeAll(conn, WELCOME);
    for (;;) {
      const read = await conn.read(buffer);
      if (read === null) break;
      splitter.pushBytes(buffer.subarray(0, read), sink);
      if (acks.length === 0) continue;
      const out = acks.length === 1 ? ENCODED_ACKS.get(acks[0]!)! : encoder.encode(acks.join(""));
      acks.length = 0;
      await writeAll(conn, out);
    }
  } catch {
    // The client went away: nothing to answer.
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

/** A running floor server. */
export interface FloorServer extends ProcessStats {
  readonly port: number;
  /** SIGKILL, and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts the floor server as a process of its own, so that its CPU and
 * memory are read from /proc as the collector's are.
 *
 * @returns The running server.
 */
export async function startFloorServer(): Promise<FloorServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", import.meta.filename!],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), START_TIMEOUT_MS);
  let text = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("The floor server exited before listening");
      text += value;
    }
  } finally {
    clearTimeout(timer);
  }
  const { port } = JSON.parse(text.slice(0, text.indexOf("\n"))) as { port: number };
  return {
    port,
    ...processStats(child.pid),
    async stop() {
      child.kill("SIGKILL");
      await child.status;
      await reader.cancel().catch(() => {});
    },
  };
}

if (import.meta.main) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // deno-lint-ignore no-console -- the port is this script's output
  console.log(JSON.stringify({ port: (listener.addr as Deno.NetAddr).port }));
  for await (const conn of listener) answer(conn);
}
