/**
 * The login lockout cannot be raced: an attempt is counted before its
 * password is hashed, so parallel guesses over the agent protocol or the web
 * console check at most the lockout's number of passwords, and the right
 * password sent afterwards is refused until the lock ends. Hashes are counted
 * by `nms_password_checks_total`, independently of timing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FAIL, formatAck, OK } from "../../protocol/mod.ts";
import { SourceClient } from "../_harness/source_client.ts";
import { startSecureServer } from "../_harness/secure_server.ts";
import { waitFor } from "../_harness/wait_for.ts";

/** Parallel wrong guesses sent at once. */
const GUESSES = 40;
/** The lockout's threshold in these tests (the default). */
const MAX_FAILURES = 5;
/** A short lock, so the test can see it end. */
const LOCK_SECONDS = 3;

/** One LOGIN as admin from `address` (the guesses come from many addresses). */
async function protocolLogin(
  port: number,
  password: string,
  address = "127.0.0.1",
): Promise<string | null> {
  await using client = await SourceClient.connect(port, address);
  await client.readLine();
  await client.send(`LOGIN admin ${password}`);
  return await client.readLine();
}

async function consoleLogin(url: string, password: string): Promise<number> {
  const response = await fetch(`${url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password }),
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test("40 parallel wrong LOGINs check at most 5 passwords, and the right one afterwards is refused until the lock ends", async () => {
  await using srv = await startSecureServer({
    workers: 2,
    lockout: { maxFailures: MAX_FAILURES, lockSeconds: LOCK_SECONDS },
  });
  const metrics = srv.server.metrics;
  const sentAt = Date.now();
  const answers = await Promise.all(
    Array.from(
      { length: GUESSES },
      (_, i) => protocolLogin(srv.port, `wrong-${i}`, `127.0.3.${i + 1}`),
    ),
  );
  const invalid = answers.filter((a) => a === formatAck(false, FAIL.invalidCredentials)).length;
  const locked = answers.filter((a) => a === formatAck(false, FAIL.tooManyFailures)).length;
  assert.equal(invalid + locked, GUESSES, `every guess was refused: ${answers.join(", ")}`);
  assert.ok(
    metrics.passwordChecks.agent <= MAX_FAILURES,
    `${metrics.passwordChecks.agent} passwords checked`,
  );
  assert.equal(await protocolLogin(srv.port, "admin"), formatAck(false, FAIL.tooManyFailures));
  assert.ok(metrics.passwordChecks.agent <= MAX_FAILURES, "the right password was not checked");
  // Once the lock has ended, the right password is accepted.
  const accepted = await waitFor(
    async () =>
      await protocolLogin(srv.port, "admin") === formatAck(true, OK.login) ? Date.now() : null,
    {
      timeoutMs: (LOCK_SECONDS + 10) * 1000,
      intervalMs: 250,
    },
  );
  // The lock started when the last checked guess failed, after they were sent.
  assert.ok(accepted - sentAt >= LOCK_SECONDS * 1000 - 100, "accepted only after the lock");
});

Deno.test("40 parallel wrong console logins check at most 5 passwords, and the right one afterwards is refused until the lock ends", async () => {
  await using srv = await startSecureServer({
    httpPort: 0,
    lockout: { maxFailures: MAX_FAILURES, lockSeconds: LOCK_SECONDS },
  });
  const url = `http://127.0.0.1:${srv.server.httpAddr!.port}`;
  const metrics = srv.server.metrics;
  const sentAt = Date.now();
  const statuses = await Promise.all(
    Array.from({ length: GUESSES }, (_, i) => consoleLogin(url, `wrong-${i}`)),
  );
  assert.ok(statuses.every((s) => s === 401 || s === 429), statuses.join(", "));
  assert.ok(
    metrics.passwordChecks.console <= MAX_FAILURES,
    `${metrics.passwordChecks.console} passwords checked`,
  );
  assert.equal(await consoleLogin(url, "admin"), 429);
  assert.ok(metrics.passwordChecks.console <= MAX_FAILURES, "the right password was not checked");
  const accepted = await waitFor(
    async () => await consoleLogin(url, "admin") === 200 ? Date.now() : null,
    { timeoutMs: (LOCK_SECONDS + 10) * 1000, intervalMs: 250 },
  );
  // The lock started when the last checked guess failed, after they were sent.
  assert.ok(accepted - sentAt >= LOCK_SECONDS * 1000 - 100, "accepted only after the lock");
});
