/**
 * Several nms-server processes on one PostgreSQL: clients spread
 * over two servers, one server is killed mid-stream, its clients fail over to
 * the other and resend what was not acknowledged, and every line ends up
 * stored exactly once and visible through the surviving server.
 *
 * Ignored with the reason when no PostgreSQL is reachable
 * (`NMS_TEST_REQUIRE_PG=1` makes that a failure); see tests/_harness/postgres.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { FAIL, OK, WELCOME_LINE } from "../protocol/mod.ts";
import { EVENT_FLAGS, silentLogger, startServer } from "../server/mod.ts";
import { openStore } from "../server/store/open_store.ts";
import type { Store } from "../server/store/store.ts";
import { LineClient } from "./_harness/line_client.ts";
import { pgTestTarget, requirePg, testSchema } from "./_harness/postgres.ts";
import { type ServerProcess, spawnServerProcess } from "./_harness/server_process.ts";
import { waitFor } from "./_harness/wait_for.ts";

const pg = await pgTestTarget();
const ignore = requirePg(pg) !== undefined;

/** Events each client sends. */
const EVENTS_PER_CLIENT = 600;
/** Clients, spread over the two servers. */
const CLIENTS = 4;
/** EVENT lines a client keeps unacknowledged at most. */
const WINDOW = 25;
/** Acknowledged lines a failed-over client sends again (they must be duplicates). */
const REPLAYED_ON_FAILOVER = 10;

const ACK_STORED = `ACK OK ${OK.event}`;
const ACK_DUPLICATE = `ACK OK ${OK.duplicate}`;

/** What one failover client saw. */
interface ClientReport {
  stored: number;
  duplicates: number;
  failovers: number;
}

/**
 * A protocol client that pipelines `EVENT <stream> <pos> <line>` and, when its
 * server goes away, connects to the next address and resends every line not
 * acknowledged yet: the agent's failover, reduced to the protocol. Like an
 * agent whose saved offset lags its acknowledgements, it also resends the
 * last {@linkcode REPLAYED_ON_FAILOVER} acknowledged lines, which must come
 * back as duplicates.
 */
async function failoverClient(
  stream: string,
  lines: readonly string[],
  ports: () => readonly number[],
  first: number,
  onAck: () => void,
): Promise<ClientReport> {
  const report: ClientReport = { stored: 0, duplicates: 0, failovers: 0 };
  let acked = 0;
  let resendFrom = 0;
  let target = first;
  const deadline = Date.now() + 60_000;
  while (acked < lines.length) {
    if (Date.now() > deadline) throw new Error(`${stream}: gave up at ${acked}/${lines.length}`);
    const port = ports()[target % ports().length]!;
    let client: LineClient | undefined;
    try {
      client = await LineClient.connect(port);
      if (await client.readLine() !== WELCOME_LINE) throw new Error("no welcome");
      await client.send("LOGIN admin admin");
      const login = await client.readLine();
      if (login !== `ACK OK ${OK.login}`) throw new Error(`login: ${login}`);
      // ACKs come in order: the next one answers line `cursor`.
      let cursor = resendFrom;
      let sent = resendFrom;
      while (cursor < lines.length) {
        let burst = "";
        while (sent < lines.length && sent - cursor < WINDOW) {
          burst += `EVENT ${stream} ${sent + 1} ${lines[sent]}\n`;
          sent++;
        }
        if (burst) await client.sendRaw(new TextEncoder().encode(burst));
        const ack = await client.readLine();
        if (ack === null) throw new Error("connection closed");
        if (ack === ACK_DUPLICATE) {
          report.duplicates++;
        } else if (ack === ACK_STORED && cursor >= acked) {
          report.stored++;
        } else {
          throw new Error(
            `${stream}: line ${cursor + 1} (acknowledged before: ${cursor < acked}) got ${ack}`,
          );
        }
        cursor++;
        if (cursor > acked) {
          acked = cursor;
          onAck();
        }
      }
      await client.send("BYE");
      await client.readLine();
    } catch (error) {
      if (acked >= lines.length) break;
      // The server is gone (or going): try the next one.
      if (!(error instanceof Error) || error.message.startsWith(stream)) throw error;
      report.failovers++;
      resendFrom = Math.max(0, acked - REPLAYED_ON_FAILOVER);
      target++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client?.close();
    }
  }
  return report;
}

/** Every client event (NMS's own security events left out), oldest first. */
async function allClientEvents(store: Store): Promise<string[]> {
  const messages: string[] = [];
  let afterId = 0;
  for (;;) {
    const page = await store.queryEvents({ afterId, limit: 10_000 });
    for (const e of page) if (!(e.flags & EVENT_FLAGS.internal)) messages.push(e.raw);
    if (page.length < 10_000) return messages;
    afterId = page.at(-1)!.id;
  }
}

/** Runs the nms-server CLI and returns its stdout. */
async function cli(args: string[]): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(import.meta.dirname!, "../server/main.ts"), ...args],
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  return new TextDecoder().decode(output.stdout);
}

Deno.test({
  name:
    "two nms-servers on one PostgreSQL: a killed server's clients fail over, every line stored once",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const args = ["--store", schema.url, "--workers", "1"];
    // Both start at once on a new schema: one migrates and bootstraps admin, the other waits.
    const [a, b] = await Promise.all([
      spawnServerProcess({ args }),
      spawnServerProcess({ args }),
    ]) as [ServerProcess, ServerProcess];
    await using _a = a;
    await using _b = b;
    let alive = [a.port, b.port];
    const lines = Array.from(
      { length: CLIENTS },
      (_, c) =>
        Array.from(
          { length: EVENTS_PER_CLIENT },
          (_, i) =>
            `<13>Nov 23 19:43:${
              String(i % 60).padStart(2, "0")
            } web-${c} app[${c}]: client ${c} line ${i} ${"x".repeat(i % 50)}`,
        ),
    );

    // Kill A once its clients have had a third of their events acknowledged.
    let ackedOnA = 0;
    let killing: Promise<unknown> | undefined;
    const onA = () => {
      if (++ackedOnA >= (CLIENTS / 2) * EVENTS_PER_CLIENT / 3 && !killing) {
        alive = [b.port];
        killing = a.stop("SIGKILL");
      }
    };
    const reports = await Promise.all(lines.map((clientLines, c) =>
      failoverClient(
        `client-${c}`,
        clientLines,
        () => alive,
        c % 2,
        c % 2 === 0 ? onA : () => {},
      )
    ));
    await killing;
    assert.ok(killing, "server A was killed mid-stream");
    const summary = JSON.stringify(reports);
    reports.forEach((report, c) => {
      if (c % 2 === 0) {
        assert.ok(report.failovers >= 1, `A's clients failed over: ${summary}`);
        assert.ok(report.duplicates >= REPLAYED_ON_FAILOVER, `replays were duplicates: ${summary}`);
      } else {
        assert.equal(report.failovers, 0, `B's clients stayed: ${summary}`);
      }
    });

    // Every line exactly once, whichever server stored it.
    const store = await openStore(schema.url, { maxConnections: 1 });
    try {
      const stored = await allClientEvents(store);
      const expected = lines.flat();
      assert.equal(stored.length, expected.length, "no line lost and none stored twice");
      assert.deepEqual(new Set(stored), new Set(expected));
      const storedAcks = reports.reduce((n, r) => n + r.stored, 0);
      assert.ok(storedAcks <= expected.length, "a line acknowledged as stored twice");
    } finally {
      await store.close();
    }

    // The surviving server's side shows everything: its CLI, on the same store.
    const shown = await cli(["logs", "--store", schema.url, "--grep", " line ", "-n", "10000"]);
    assert.equal(shown.trimEnd().split("\n").length, CLIENTS * EVENTS_PER_CLIENT);
    const users = await cli(["user", "list", "--store", schema.url]);
    assert.match(users, /^admin\s+admin/m);
    assert.doesNotMatch(b.stderr(), / ERROR /, "the surviving server logged no error");
  },
});

Deno.test({
  name: "an event received by one server is readable after its id through another server",
  ignore,
  async fn() {
    await using schema = testSchema(pg);
    const dir = await Deno.makeTempDir({ prefix: "nms-pg-live-" });
    const options = {
      port: 0,
      hostname: "127.0.0.1",
      storeUrl: schema.url,
      dbPath: join(dir, "nms.db"),
      workers: 1,
      adminPassword: "admin",
      log: silentLogger,
    };
    try {
      await using a = await startServer(options);
      await using b = await startServer(options);
      const [newest] = await b.store.queryEvents({ limit: 1 });
      const cursor = newest?.id ?? 0;
      await using client = await LineClient.connect(a.addr.port);
      await client.readLine();
      await client.send("LOGIN admin admin");
      assert.equal(await client.readLine(), `ACK OK ${OK.login}`);
      const sentAt = Date.now();
      await client.send("EVENT live-1 1 <14>Nov 23 19:43:00 web-1 app: seen across servers");
      assert.equal(await client.readLine(), ACK_STORED);
      // What the console of server B polls: events after its cursor.
      const seen = await waitFor(async () => {
        const fresh = await b.store.queryEvents({ afterId: cursor, contains: "seen across" });
        return fresh.length > 0 ? fresh : undefined;
      }, { timeoutMs: 10_000, message: "the event on server B" });
      assert.equal(seen[0]!.message, "seen across servers");
      assert.ok(Date.now() - sentAt < 10_000);
      // A duplicate sent to B is recognised as such.
      await using other = await LineClient.connect(b.addr.port);
      await other.readLine();
      await other.send("LOGIN admin admin");
      await other.readLine();
      await other.send("EVENT live-1 1 <14>Nov 23 19:43:00 web-1 app: seen across servers");
      assert.equal(await other.readLine(), ACK_DUPLICATE);
      await other.send("EVENT live-1");
      assert.equal(await other.readLine(), `ACK FAIL ${FAIL.usageEvent}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
