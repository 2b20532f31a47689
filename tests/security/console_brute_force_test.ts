/**
 * A brute force raises the same alert whichever door it comes through: the
 * security events carry their user, address and door as structured fields,
 * and the built-in rules match those, not the text. Before, the console's
 * failures were stored as `... from 127.0.0.1 (web console)`, which the rule
 * (expecting `from IP:PORT`) never matched, so guessing through the console
 * raised nothing.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type AlertRecord, silentLogger, startServer } from "../../server/mod.ts";
import { BUILTIN_RULE_IDS as R } from "../../server/rules/builtin_rules.ts";
import { LineClient } from "../_harness/line_client.ts";
import { waitFor } from "../_harness/wait_for.ts";

async function withServer(
  work: (server: Awaited<ReturnType<typeof startServer>>) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "nms-brute-" });
  const server = await startServer({
    port: 0,
    hostname: "127.0.0.1",
    httpPort: 0,
    dbPath: join(dir, "nms.db"),
    workers: 1,
    adminPassword: "admin-password",
    log: silentLogger,
  });
  try {
    await work(server);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

function byRule(alerts: AlertRecord[], rule: number): AlertRecord | undefined {
  return alerts.find((a) => a.ruleId === rule);
}

Deno.test("a brute force through the web console raises the brute-force alert", async () => {
  await withServer(async (server) => {
    const url = `http://127.0.0.1:${server.httpAddr!.port}/api/login`;
    for (let i = 0; i < 5; i++) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "admin", password: `guess-${i}` }),
      });
      await response.body?.cancel();
      assert.equal(response.status, 401);
    }
    const alerts = await waitFor(async () => {
      const all = await server.store.listAlerts({ limit: 100 });
      return byRule(all, R.nmsRepeatedFailedLogins) ? all : null;
    }, { timeoutMs: 20_000, message: "the brute-force alert of console logins" });
    assert.deepEqual(byRule(alerts, R.nmsRepeatedFailedLogins)!.fields, { srcip: "127.0.0.1" });
    assert.equal(byRule(alerts, R.nmsFailedLogin)!.count, 5);
    // The events keep their fields as structured data, with the user's text escaped.
    const events = await server.store.queryEvents({ program: "nms-server", limit: 20 });
    const event = events.find((e) => e.msgid === "login-failed");
    assert.equal(
      event!.structuredData,
      '[nms@32473 user="admin" srcip="127.0.0.1" channel="console"]',
    );
  });
});

Deno.test("console and agent-protocol failures from one address count towards one brute force", async () => {
  await withServer(async (server) => {
    const url = `http://127.0.0.1:${server.httpAddr!.port}/api/login`;
    for (const user of ["alice", "bob"]) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: user, password: "nope" }),
      });
      await response.body?.cancel();
    }
    await using client = await LineClient.connect(server.addr.port);
    await client.readLine();
    for (const user of ["carol", "dave", 'x"] [nms@32473 srcip="6.6.6.6"']) {
      await client.send(`LOGIN ${user.replaceAll(" ", "_")} wrong`);
      assert.equal(await client.readLine(), "ACK FAIL Invalid credentials");
    }
    const alerts = await waitFor(async () => {
      const all = await server.store.listAlerts({ limit: 100 });
      return byRule(all, R.nmsRepeatedFailedLogins) ? all : null;
    }, { timeoutMs: 20_000, message: "the brute-force alert over both doors" });
    assert.deepEqual(byRule(alerts, R.nmsRepeatedFailedLogins)!.fields, { srcip: "127.0.0.1" });
    assert.equal(alerts.some((a) => JSON.stringify(a.fields).includes("6.6.6.6")), false);
  });
});
