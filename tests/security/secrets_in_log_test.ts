/**
 * Secrets stay out of the server's log: a malformed LOGIN is logged without
 * what follows its user name, and a generated admin password goes only to
 * its 0600 file (and to an interactive terminal), never to a log that ends in
 * journald or `docker logs`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger } from "../../server/log.ts";
import { INITIAL_PASSWORD_FILE } from "../../server/auth/bootstrap_admin.ts";
import { LineClient } from "../_harness/line_client.ts";
import { startSecureServer } from "../_harness/secure_server.ts";
import { watchChild } from "../_harness/watched_child.ts";
import { waitFor } from "../_harness/wait_for.ts";

const SECRET = "hunter2-Secret";

Deno.test("malformed LOGIN lines reach the log without their password", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (line) => lines.push(line) });
  {
    await using srv = await startSecureServer({ log });
    const malformed = [
      `LOGIN  admin ${SECRET}`,
      `login\tadmin\t${SECRET}`,
      `\x1b[2JLOGIN admin ${SECRET}`,
    ];
    for (const line of malformed) {
      await using client = await LineClient.connect(srv.port);
      await client.readLine();
      await client.send(line);
      assert.match((await client.readLine())!, /^ACK FAIL /);
    }
  } // shutdown writes the throttled summaries too
  const dropped = lines.filter((line) => line.includes("Dropped line"));
  assert.ok(dropped.length > 0, "the dropped lines were logged");
  assert.ok(dropped.some((line) => line.includes("admin [redacted]")), dropped.join("\n"));
  assert.deepEqual(lines.filter((line) => line.includes(SECRET)), []);
});

Deno.test("a generated admin password is not written to a log that is no terminal, only where its file is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-secret-" });
  try {
    const env = { ...Deno.env.toObject(), NMS_LOG_LEVEL: "info" };
    delete (env as Record<string, string>).NMS_ADMIN_PASSWORD;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(import.meta.dirname!, "../../server/main.ts"),
        "serve",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--http-port",
        "0",
        "--workers",
        "1",
        "--db",
        join(dir, "nms.db"),
      ],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const watched = watchChild(child);
    try {
      await waitFor(() => watched.stderr().includes("Listening for agents"), {
        timeoutMs: 30_000,
      });
    } finally {
      await watched.stop("SIGTERM");
    }
    const password = (await Deno.readTextFile(join(dir, INITIAL_PASSWORD_FILE))).trim();
    assert.ok(password.length >= 20);
    const stderr = watched.stderr();
    assert.ok(!stderr.includes(password), "the password is not in the log");
    assert.ok(stderr.includes(join(dir, INITIAL_PASSWORD_FILE)), "the log says where it is");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
