/**
 * Damage to the database is not silent: the server checks the file behind
 * start-up and reports damage in `/healthz` (503, degraded), in
 * `nms_database_integrity_ok` and in its log; `nms-server check` finds it on
 * demand (docs/PRODUCTION.md, "Recovering a damaged database").
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { openSqliteStore } from "../../server/mod.ts";
import { createLogger } from "../../server/log.ts";
import { startSecureServer } from "../_harness/secure_server.ts";
import { waitFor } from "../_harness/wait_for.ts";

const MAIN = join(import.meta.dirname!, "../../server/main.ts");

/** A database of the server's schema with enough events to span many pages. */
async function databaseWithEvents(path: string): Promise<void> {
  await (await openSqliteStore(path, { sync: "normal" })).close();
  const db = new DatabaseSync(path);
  db.exec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)
    INSERT INTO logs (received_at, ts, host, program, message, raw, msg_start)
    SELECT i, i, 'web-' || (i % 7), 'sshd', NULL,
      'Nov 23 19:43:33 web sshd[1]: Failed password for user' || i || ' from 10.0.0.' || (i % 250), 0
    FROM c`);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
}

/** Overwrites a few pages in the middle of the file, where the events are. */
async function damage(path: string): Promise<void> {
  const pageSize = 16_384;
  const pages = Math.floor((await Deno.stat(path)).size / pageSize);
  const file = await Deno.open(path, { write: true });
  try {
    for (const page of [Math.floor(pages / 2), Math.floor(pages / 2) + 1]) {
      await file.seek(page * pageSize, Deno.SeekMode.Start);
      await file.write(new Uint8Array(pageSize).fill(0x5a));
    }
  } finally {
    file.close();
  }
}

async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "check", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

Deno.test("a damaged database is reported by /healthz (503 degraded), the metric and the log, and by nms-server check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-integrity-" });
  try {
    const db = join(dir, "nms.db");
    await databaseWithEvents(db);
    assert.equal((await check(["--db", db])).code, 0, "the database starts healthy");
    await damage(db);

    const lines: string[] = [];
    const log = createLogger({ level: "info", write: (line) => lines.push(line) });
    {
      await using srv = await startSecureServer({ httpPort: 0, log }, dir);
      const url = `http://127.0.0.1:${srv.server.httpAddr!.port}`;
      const health = await waitFor(async () => {
        const answer = await get(`${url}/healthz`);
        return answer.status === 503 ? answer : null;
      }, { message: "/healthz to report the damage" });
      const body = JSON.parse(health.text);
      assert.equal(body.status, "degraded");
      assert.equal(body.integrity, "corrupt");
      assert.ok(body.problems.length > 0);
      const admin = btoa("admin:admin");
      const metrics = await fetch(`${url}/metrics`, {
        headers: { authorization: `Basic ${admin}` },
      });
      assert.match(await metrics.text(), /^nms_database_integrity_ok 0$/m);
      assert.ok(lines.some((line) => /ERROR.*Database integrity check found damage/.test(line)));
    }

    for (const args of [["--db", db], ["--quick", "--db", db]]) {
      const result = await check(args);
      assert.equal(result.code, 1, args.join(" "));
      assert.match(result.stderr, /^nms-server: The database .* is damaged/);
      assert.ok(result.stdout.trim().length > 0, "SQLite's findings are printed");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a healthy database passes the start-up check: /healthz ok and nms_database_integrity_ok 1", async () => {
  await using srv = await startSecureServer({ httpPort: 0 });
  const url = `http://127.0.0.1:${srv.server.httpAddr!.port}`;
  const body = await waitFor(async () => {
    const answer = JSON.parse((await get(`${url}/healthz`)).text);
    return answer.integrity === "ok" ? answer : null;
  });
  assert.equal(body.status, "ok");
  const admin = btoa("admin:admin");
  const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Basic ${admin}` } });
  assert.match(await metrics.text(), /^nms_database_integrity_ok 1$/m);
});
