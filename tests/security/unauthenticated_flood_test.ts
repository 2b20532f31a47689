/**
 * What an unauthenticated peer can cost the server: 10,000 refused LOGINs
 * with 60 KB user names from 100 loopback addresses must grow the database
 * (and its write-ahead log) by at most 1 MB and print at most a few dozen
 * log lines (docs/SECURITY.md, "What an unauthenticated peer costs").
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { WELCOME_LINE } from "../../protocol/mod.ts";
import { createLogger } from "../../server/log.ts";
import { EVENT_FLAGS } from "../../server/mod.ts";
import { startSecureServer } from "../_harness/secure_server.ts";
import { SourceClient } from "../_harness/source_client.ts";

/** Distinct source addresses of the attack: 127.0.1.1 to 127.0.1.100. */
const ADDRESSES = 100;
/** LOGIN lines the server answers in total. */
const LOGINS = 10_000;
/** Characters of each claimed user name. */
const NAME_CHARS = 60_000;
/** Most the database and its write-ahead log may grow, in bytes. */
const MAX_GROWTH_BYTES = 1_000_000;
/** Most diagnostics lines the attack may cause. */
const MAX_LOG_LINES = 36;

async function fileBytes(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** One address's share of the attack: LOGINs until `count` were answered. */
async function attackFrom(port: number, address: string, count: number): Promise<number> {
  const padding = "x".repeat(NAME_CHARS);
  let answered = 0;
  let connections = 0;
  while (answered < count) {
    connections++;
    // A new name each time: the old once-a-minute limit per (user, address) never applied.
    await using client = await SourceClient.connect(port, address);
    if (await client.readLine() !== WELCOME_LINE) continue; // refused by a limit
    while (answered < count) {
      if (!await client.send(`LOGIN ${address}-${answered}-${padding} wrong`)) break;
      const answer = await client.readLine();
      if (answer === null) break; // closed by the server
      if (answer.startsWith("ACK FAIL")) answered++;
    }
  }
  return connections;
}

Deno.test("10,000 refused LOGINs with 60 KB user names from 100 addresses grow the database by at most 1 MB and print at most a few dozen log lines", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", write: (line) => lines.push(line) });
  await using srv = await startSecureServer({ log, sync: "full" });
  const wal = `${srv.dbPath}-wal`;
  // A clean start: everything written so far is in the database file, the log is empty.
  const db = new DatabaseSync(srv.dbPath);
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  const before = await fileBytes(srv.dbPath);
  const logBefore = lines.length;

  const started = performance.now();
  const connections = await Promise.all(
    Array.from(
      { length: ADDRESSES },
      (_, i) => attackFrom(srv.port, `127.0.1.${i + 1}`, LOGINS / ADDRESSES),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const attackLines = lines.slice(logBefore);
  const walAfter = await fileBytes(wal);
  await srv.server.shutdown();
  const after = await fileBytes(srv.dbPath);
  // deno-lint-ignore no-console -- the measured figures, quoted in docs/SECURITY.md
  console.log(
    `${LOGINS} refused LOGINs on ${connections.reduce((a, b) => a + b)} connections in ${
      seconds.toFixed(1)
    } s: database +${
      after - before
    } bytes, write-ahead log ${walAfter} bytes, ${attackLines.length} log lines`,
  );
  assert.ok(after - before <= MAX_GROWTH_BYTES, `the database grew by ${after - before} bytes`);
  assert.ok(walAfter <= MAX_GROWTH_BYTES, `the write-ahead log grew to ${walAfter} bytes`);
  assert.ok(
    attackLines.length <= MAX_LOG_LINES,
    `${attackLines.length} log lines:\n${attackLines.slice(0, 20).join("\n")}`,
  );
});

Deno.test("the events of a refused-LOGIN flood are folded: a few per address, one summary per network, names cut short", async () => {
  await using srv = await startSecureServer({ limits: { maxConnectionsPerIp: 0 } });
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => attackFrom(srv.port, `127.0.2.${i + 1}`, 30)),
  );
  await srv.server.shutdown();
  const { openSqliteStore } = await import("../../server/mod.ts");
  const store = await openSqliteStore(srv.dbPath);
  try {
    const events = (await store.queryEvents({ limit: 10_000 })).filter((e) =>
      (e.flags & EVENT_FLAGS.internal) !== 0
    );
    const summaries = events.filter((e) => e.message.startsWith("Suppressed "));
    assert.equal(summaries.length, 1, "one summary for 127.0.2.0/24");
    assert.match(
      summaries[0]!.message,
      /^Suppressed \d+ login events from 127\.0\.2\.0\/24 between \S+Z and \S+Z/,
    );
    const detailed = events.length - summaries.length;
    assert.ok(detailed <= 30, `${detailed} detailed events for one /24`);
    const suppressed = Number(/^Suppressed (\d+)/.exec(summaries[0]!.message)![1]);
    assert.ok(suppressed + detailed >= 600, `${suppressed} suppressed, ${detailed} stored`);
    assert.ok(events.every((e) => e.raw.length < 400), "user names are cut short");
  } finally {
    await store.close();
  }
});

Deno.test("guessing with names an account could have costs at most 5 password hashes per address", async () => {
  await using srv = await startSecureServer({ workers: 2 });
  const addresses = 20;
  await Promise.all(Array.from({ length: addresses }, async (_, i) => {
    const address = `127.0.3.${i + 1}`;
    for (let n = 0; n < 25; n++) {
      await using client = await SourceClient.connect(srv.port, address);
      if (await client.readLine() !== WELCOME_LINE) continue;
      await client.send(`LOGIN user-${i}-${n} wrong`);
      assert.match((await client.readLine())!, /^ACK FAIL /);
    }
  }));
  const checked = srv.server.metrics.passwordChecks.agent;
  assert.ok(checked <= 5 * addresses, `${checked} passwords hashed for ${25 * addresses} LOGINs`);
});
