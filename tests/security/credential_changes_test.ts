/**
 * Removing a user, or changing their password or role, ends their console
 * sessions, their live streams and their agent connections within a few
 * seconds, even when the change is made by `nms-server user …` in another
 * process on the same database.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { FAIL, formatAck, OK } from "../../protocol/mod.ts";
import { addUser, type ApiClient, signIn } from "../_harness/console.ts";
import { LineClient } from "../_harness/line_client.ts";
import { startSecureServer } from "../_harness/secure_server.ts";

const MAIN = join(import.meta.dirname!, "../../server/main.ts");
/** "Within a few seconds": the console checks every 2 s, the agent listener here every 1 s. */
const WITHIN_MS = 8_000;

async function cli(args: string[]): Promise<void> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
}

/** Opens the live stream and resolves true when the server ends it within `ms`. */
async function liveStreamEnds(api: ApiClient, ms: number): Promise<() => Promise<boolean>> {
  const response = await api.fetch("/api/logs/stream");
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  await reader.read(); // the first message: the stream is open
  return async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
    const ended = (async () => {
      for (;;) {
        const { done } = await reader.read().catch(() => ({ done: true }));
        if (done) return true;
      }
    })();
    try {
      return await Promise.race([ended, timeout]);
    } finally {
      clearTimeout(timer);
      await reader.cancel().catch(() => {});
    }
  };
}

Deno.test("removing a user, or changing their password or role, from another process ends their console sessions and live streams within a few seconds", async () => {
  await using srv = await startSecureServer({ httpPort: 0 });
  const url = `http://127.0.0.1:${srv.server.httpAddr!.port}`;
  const dir = await Deno.makeTempDir({ prefix: "nms-cred-" });
  try {
    const file = join(dir, "pw");
    await Deno.writeTextFile(file, "a brand new password\n");
    const changes: [string, string[]][] = [
      ["vera", ["user", "remove", "vera"]],
      ["paul", ["user", "passwd", "paul", "--password-file", file]],
      ["rita", ["user", "role", "rita", "admin"]],
    ];
    for (const [name, args] of changes) {
      await addUser(srv.server.store, name, "viewer", "viewer password");
      const api = await signIn(url, name, "viewer password");
      const ends = await liveStreamEnds(api, WITHIN_MS);
      await cli([...args, "--db", srv.dbPath]);
      assert.equal(await ends(), true, `${name}'s live stream ended`);
      const me = await api.fetch("/api/me");
      await me.body?.cancel();
      assert.equal(me.status, 401, `${name}'s session ended`);
    }
    // Someone whose account did not change keeps reading.
    await addUser(srv.server.store, "olga", "viewer", "viewer password");
    const olga = await signIn(url, "olga", "viewer password");
    assert.equal((await olga.json<{ username: string }>("/api/me")).username, "olga");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("changing an agent account's password from another process closes its open connections", async () => {
  await using srv = await startSecureServer({
    credentialCheckIntervalMs: 1_000,
    limits: { idleTimeoutSeconds: 20 }, // bounds the wait when the connection is not closed
  });
  await addUser(srv.server.store, "shipper", "agent", "agent password");
  await using agent = await LineClient.connect(srv.port);
  await agent.readLine();
  await agent.send("LOGIN shipper agent password");
  assert.equal(await agent.readLine(), formatAck(true, OK.login));
  const dir = await Deno.makeTempDir({ prefix: "nms-cred-" });
  try {
    const file = join(dir, "pw");
    await Deno.writeTextFile(file, "another password\n");
    await cli(["user", "passwd", "shipper", "--password-file", file, "--db", srv.dbPath]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(await agent.readLine(), formatAck(false, FAIL.credentialRevoked));
  assert.equal(await agent.readLine(), null);
});

Deno.test("the transparent re-hash of a weak password hash at login does not close the connection", async () => {
  await using srv = await startSecureServer({ credentialCheckIntervalMs: 200 });
  await addUser(srv.server.store, "legacy", "agent", "agent password"); // a weak (test) hash
  const weak = (await srv.server.store.findUser("legacy"))!.passwordHash;
  await using agent = await LineClient.connect(srv.port);
  await agent.readLine();
  await agent.send("LOGIN legacy agent password");
  assert.equal(await agent.readLine(), formatAck(true, OK.login));
  assert.notEqual((await srv.server.store.findUser("legacy"))!.passwordHash, weak, "re-hashed");
  // Several credential checks later, the connection still answers.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await agent.send("BYE");
  assert.equal(await agent.readLine(), formatAck(true, OK.goodbye));
});
