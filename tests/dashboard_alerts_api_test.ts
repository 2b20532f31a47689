/**
 * Alerts and sources over real HTTP: the console's live stream pushes alerts as
 * `alerts` messages as soon as rules raise them, and `GET /api/sources` lists
 * a syslog sender with its status.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AlertRecord } from "../server/store/store.ts";
import { addUser, signIn } from "./_harness/console.ts";
import { LineClient } from "./_harness/line_client.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

/** Eight failed passwords from one address, a second apart: rule 5763 (brute force, level 10). */
function bruteForce(srcip: string): string[] {
  return [31, 32, 33, 34, 35, 36, 37, 38].map((s) =>
    `Nov 23 19:43:${s} web-01 sshd[812]: Failed password for invalid user admin from ${srcip} port ${
      52_100 + s
    } ssh2`
  );
}

/** Logs in as an agent account and sends lines as BATCH_EVENT, waiting for every ACK. */
async function sendBatch(port: number, lines: readonly string[]): Promise<void> {
  await using client = await LineClient.connect(port);
  await client.readLine();
  await client.send("LOGIN collector agent-pass-1");
  assert.equal(await client.readLine(), "ACK OK Login successful");
  for (const line of lines) await client.send(`BATCH_EVENT ${line}`);
  assert.deepEqual(await client.readLines(lines.length), lines.map(() => "ACK OK Event received"));
}

/** Reads SSE messages of one event type from a stream until `done` says so. */
async function readMessages<T>(
  body: ReadableStream<Uint8Array>,
  type: string,
  done: (messages: T[]) => boolean,
): Promise<T[]> {
  const messages: T[] = [];
  let buffer = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split("\n");
      if (!lines.includes(`event: ${type}`)) continue;
      const data = lines.find((l) => l.startsWith("data: "));
      if (data) messages.push(JSON.parse(data.slice(6)) as T);
    }
    if (done(messages)) break;
  }
  return messages;
}

Deno.test("GET /api/logs/stream pushes an alert as an alerts message when a rule raises it", async () => {
  await using srv = await startTestServer({ httpPort: 0 });
  await addUser(srv.store, "collector", "agent", "agent-pass-1");
  await addUser(srv.store, "watcher", "viewer", "watcher-pass-1");
  const api = await signIn(srv.httpUrl!, "watcher", "watcher-pass-1");
  const controller = new AbortController();
  const response = await api.fetch("/api/logs/stream", { signal: controller.signal });
  assert.equal(response.status, 200);
  try {
    const reading = readMessages<{ alerts: AlertRecord[]; more: boolean }>(
      response.body!,
      "alerts",
      (messages) => messages.some((m) => m.alerts.some((a) => a.ruleId === 5763)),
    );
    await sendBatch(srv.port, bruteForce("203.0.113.7"));
    const messages = await reading;
    const alert = messages.flatMap((m) => m.alerts).find((a) => a.ruleId === 5763)!;
    assert.equal(alert.level, 10);
    assert.deepEqual(alert.fields, { srcip: "203.0.113.7" });
    assert.ok(alert.eventIds.length >= 5, `${alert.eventIds.length} event ids`);
    assert.ok(messages.every((m) => m.more === false));
  } finally {
    controller.abort();
    await response.body?.cancel().catch(() => {});
  }
});

Deno.test("GET /api/sources lists a syslog sender over TCP as active with its hostname", async () => {
  await using srv = await startTestServer({ httpPort: 0, syslogTcpPort: 0 });
  const api = await signIn(srv.httpUrl!, "admin", "admin");
  const before = await api.json<{ sources: unknown[] }>("/api/sources");
  assert.deepEqual(before.sources, []);
  {
    using conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: srv.server.syslogAddrs.tcp!.port,
    });
    await conn.write(
      new TextEncoder().encode("<34>1 2026-11-23T19:43:33Z router-1 sshd 812 - - hello\n"),
    );
  }
  type Listed = {
    silentAfterSeconds: number;
    sources: {
      address: string;
      hostname: string;
      transport: string;
      status: string;
      events: number;
    }[];
  };
  let listed: Listed | undefined;
  await waitFor(async () => {
    listed = await api.json<Listed>("/api/sources");
    return listed.sources[0]?.events === 1;
  }, { timeoutMs: 10_000 });
  const [source] = listed!.sources;
  assert.equal(source!.address, "127.0.0.1");
  assert.equal(source!.hostname, "router-1");
  assert.equal(source!.transport, "tcp");
  assert.equal(source!.status, "active");
  assert.equal(listed!.silentAfterSeconds, 3600);
  await api.json("/api/sources?silentAfter=0", {}, 400);
});
