/**
 * Retention in a running server: old events are deleted in small
 * steps by the writer while agents keep sending, and with `maxDbBytes` the
 * database file stops growing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { silentLogger, startServer } from "../server/mod.ts";
import { openSqliteStore } from "../server/store/sqlite_store.ts";
import { makeBatch } from "../server/store/store_conformance.ts";
import type { StorageView } from "../server/dashboard/storage_routes.ts";
import { signIn } from "./_harness/console.ts";
import { LineClient } from "./_harness/line_client.ts";
import { waitFor } from "./_harness/wait_for.ts";

const DAY_MS = 86_400_000;
const encoder = new TextEncoder();

/** Sends `count` BATCH_EVENT lines in one write and waits for their ACKs. */
async function sendBatch(client: LineClient, count: number, tag: string, pad = ""): Promise<void> {
  const lines = Array.from(
    { length: count },
    (_, i) => `BATCH_EVENT app message ${tag} ${i} ${pad}\n`,
  );
  await client.sendRaw(encoder.encode(lines.join("")));
  const acks = await client.readLines(count);
  const bad = acks.find((a) => a !== "ACK OK Event received");
  assert.equal(bad, undefined, `unexpected ACK ${bad}`);
}

async function login(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readLine(); // welcome
  await client.send("LOGIN admin admin");
  assert.equal(await client.readLine(), "ACK OK Login successful");
  return client;
}

Deno.test("retention deletes events older than retentionDays while ingest goes on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-retention-" });
  const dbPath = join(dir, "nms.db");
  try {
    // 20,000 events received 10 days ago, written before the server starts.
    const seed = await openSqliteStore(dbPath, { sync: "normal" });
    const old = Date.now() - 10 * DAY_MS;
    for (let b = 0; b < 20; b++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({ message: `old ${b} ${i}` }));
      await seed.appendEvents([makeBatch(events, { receivedAt: old })]);
    }
    await seed.close();

    await using server = await startServer({
      port: 0,
      hostname: "127.0.0.1",
      dbPath,
      workers: 1,
      sync: "normal",
      adminPassword: "admin",
      log: silentLogger,
      retentionDays: 1,
      httpPort: 0,
      httpHostname: "127.0.0.1",
    });
    const client = await login(server.addr.port);
    try {
      // Keep sending while retention runs: every batch is acknowledged.
      let sent = 0;
      const oldestKept = async () => (await server.store.storageInfo!()).oldestReceivedAt!;
      while (await oldestKept() < Date.now() - DAY_MS) {
        await sendBatch(client, 200, `new-${sent}`);
        sent += 200;
        assert.ok(sent < 200_000, "retention never finished");
        // A pass that ended before the first new event kept the newest old
        // one (the newest event is never deleted): the next pass takes it.
        server.retention.wake();
      }
      await sendBatch(client, 200, "last");
      sent += 200;
      // Every event sent is kept (NMS's own events, e.g. the login, come in addition).
      const newKept = () => server.store.countEvents({ contains: "app message " });
      await waitFor(async () => await newKept() === sent, { timeoutMs: 20_000 });
      assert.equal(await server.store.countEvents({ contains: "old " }), 0);
      const stats = server.retention.stats();
      assert.equal(stats.deletedEvents, 20_000);
      assert.ok(stats.passes >= 1);
      // The console shows how far back the kept events go.
      const api = await signIn(`http://127.0.0.1:${server.httpAddr!.port}`, "admin", "admin");
      const storage = await api.json<StorageView>("/api/storage");
      assert.ok(storage.oldestReceivedAt! > Date.now() - DAY_MS, "the oldest kept event is recent");
      assert.ok(storage.fileBytes! > 0);
    } finally {
      client.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("retention with maxDbBytes keeps the database file from growing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-retention-" });
  const dbPath = join(dir, "nms.db");
  const maxDbBytes = 2_000_000;
  try {
    await using server = await startServer({
      port: 0,
      hostname: "127.0.0.1",
      dbPath,
      workers: 1,
      sync: "normal",
      adminPassword: "admin",
      log: silentLogger,
      maxDbBytes,
      retentionIntervalMs: 50,
    });
    const client = await login(server.addr.port);
    try {
      // About 8 MB of events: four times the limit.
      const pad = "x".repeat(300);
      for (let round = 0; round < 40; round++) await sendBatch(client, 500, `r${round}`, pad);
      // Retention catches up once ingest stops.
      await waitFor(async () => (await server.store.storageInfo!()).usedBytes! <= maxDbBytes, {
        message: "the data to fit the limit",
        timeoutMs: 60_000,
      });
      await waitFor(async () => (await Deno.stat(dbPath)).size <= maxDbBytes * 1.25, {
        message: `the file to shrink (size ${(await Deno.stat(dbPath)).size}, used ${
          (await server.store.storageInfo!()).usedBytes
        })`,
        timeoutMs: 60_000,
      });
      const kept = await server.store.countEvents();
      assert.ok(kept > 0 && kept < 20_000, `${kept} events kept`);
      const [newest] = await server.store.queryEvents({ limit: 1 });
      assert.match(newest!.message, /r39 499/);
    } finally {
      client.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
