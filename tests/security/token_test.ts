/**
 * Agent enrollment tokens end to end: `nms-server token create`
 * prints a token once, `LOGIN @token <token>` authenticates as an agent,
 * a bound token restricts REGISTER, `token revoke` closes the open
 * connections, and every change is in the audit trail.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { FAIL, formatAck, OK } from "../../protocol/mod.ts";
import { DatabaseSync } from "node:sqlite";
import { hashPassword, verifyPassword } from "../../server/auth/password.ts";
import { generateToken } from "../../server/auth/tokens.ts";
import { LineClient } from "../_harness/line_client.ts";
import { startSecureServer } from "../_harness/secure_server.ts";
import { waitFor } from "../_harness/wait_for.ts";

const MAIN = join(import.meta.dirname!, "../../server/main.ts");

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", MAIN, ...args],
    env: { USER: "tester" },
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: result.code, stdout: decode(result.stdout), stderr: decode(result.stderr) };
}

async function loggedIn(port: number, token: string): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readLine();
  await client.send(`LOGIN @token ${token}`);
  assert.equal(await client.readLine(), formatAck(true, OK.login));
  return client;
}

Deno.test("nms-server token create prints a token that logs in as an agent; token revoke closes its connection; both are audited", async () => {
  await using srv = await startSecureServer({ credentialCheckIntervalMs: 100 });
  const created = await cli(["token", "create", "--name", "web-01", "--db", srv.dbPath]);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^nms_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  const id = token.slice(4, 16);
  const stored = await srv.server.store.security.findToken(id);
  assert.ok(stored && !JSON.stringify(stored).includes(token.slice(17)), "only a hash is stored");

  await using client = await loggedIn(srv.port, token);
  await client.send("REGISTER 1.0 web-01 Linux");
  assert.equal(await client.readLine(), formatAck(true, OK.register));
  await client.send("BATCH_EVENT hello from a token");
  assert.equal(await client.readLine(), formatAck(true, OK.event));
  await waitFor(async () => (await srv.server.store.security.findToken(id))?.lastUsedAt);

  const listed = await cli(["token", "list", "--db", srv.dbPath]);
  assert.match(listed.stdout, new RegExp(`${id}\\s+web-01\\s+active`));
  assert.ok(!listed.stdout.includes(token), "list never shows the secret");

  const revoked = await cli(["token", "revoke", "web-01", "--db", srv.dbPath]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(await client.readLine(), formatAck(false, FAIL.credentialRevoked));
  assert.equal(await client.readLine(), null, "the connection is closed");

  await using again = await LineClient.connect(srv.port);
  await again.readLine();
  await again.send(`LOGIN @token ${token}`);
  assert.equal(await again.readLine(), formatAck(false, FAIL.invalidCredentials));

  const audit = await cli(["audit", "--json", "--db", srv.dbPath]);
  const entries = JSON.parse(audit.stdout) as { action: string; target: string; actor: string }[];
  assert.deepEqual(entries.map((e) => e.action), ["token.revoke", "token.create"]);
  assert.ok(entries.every((e) => e.target === id && e.actor === "cli:tester"));
  const again2 = await cli(["token", "revoke", id, "--db", srv.dbPath]);
  assert.equal(again2.code, 1);
  assert.match(again2.stderr, /^nms-server: Token [0-9a-f]+ is already revoked\n$/);
});

Deno.test("a token bound to a hostname may only REGISTER as that hostname", async () => {
  await using srv = await startSecureServer();
  const { token, record } = await generateToken("db-01", {
    createdBy: "test",
    boundHostname: "db-01",
  });
  await srv.server.store.security.createToken(record);
  await using client = await loggedIn(srv.port, token);
  await client.send("REGISTER 1.0 web-01 Linux");
  assert.equal(await client.readLine(), formatAck(false, FAIL.hostnameNotAllowed));
  await client.send("REGISTER 1.0 db-01 Linux");
  assert.equal(await client.readLine(), formatAck(true, OK.register));
});

Deno.test("LOGIN @token refuses malformed, unknown and wrong tokens alike, and counts them for the address lockout", async () => {
  await using srv = await startSecureServer({ lockout: { maxFailures: 4 } });
  const { token, record } = await generateToken("x", { createdBy: "test" });
  await srv.server.store.security.createToken(record);
  const wrongSecret = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
  const unknownId = "nms_000000000000_" + token.slice(17);
  // Two attempts per connection: a connection not logged in gets three bad lines.
  const attempts = ["garbage", "nms_' OR 1=1 --", wrongSecret, unknownId, token];
  const answers: (string | null)[] = [];
  for (let i = 0; i < attempts.length; i += 2) {
    await using client = await LineClient.connect(srv.port);
    await client.readLine();
    for (const attempt of attempts.slice(i, i + 2)) {
      await client.send(`LOGIN @token ${attempt}`);
      answers.push(await client.readLine());
    }
  }
  assert.deepEqual(answers, [
    ...Array(4).fill(formatAck(false, FAIL.invalidCredentials)),
    formatAck(false, FAIL.tooManyFailures),
  ]);
});

Deno.test("nms-server user add refuses a name starting with @, and user role changes a role with an audit entry", async () => {
  await using srv = await startSecureServer();
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "pw");
    await Deno.writeTextFile(file, "a long password\n");
    const bad = await cli(["user", "add", "@token", "--password-file", file, "--db", srv.dbPath]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Invalid user name "@token"/);
    const add = await cli(["user", "add", "erin", "--password-file", file, "--db", srv.dbPath]);
    assert.equal(add.code, 0, add.stderr);
    const role = await cli(["user", "role", "erin", "agent", "--db", srv.dbPath]);
    assert.equal(role.code, 0, role.stderr);
    assert.equal((await srv.server.store.findUser("erin"))?.role, "agent");
    const demote = await cli(["user", "role", "admin", "viewer", "--db", srv.dbPath]);
    assert.equal(demote.code, 1);
    assert.match(demote.stderr, /Cannot demote the last admin/);
    const audit = await srv.server.store.security.listAudit();
    assert.deepEqual(audit.map((a) => [a.action, a.target, a.detail]), [
      ["user.role", "erin", "viewer->agent"],
      ["user.add", "erin", "role=viewer"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nms-server import-paper-db imports the paper's plaintext users as scrypt hashes and skips existing names", async () => {
  await using srv = await startSecureServer();
  const dir = await Deno.makeTempDir();
  try {
    const paper = join(dir, "nms_romania.db");
    const db = new DatabaseSync(paper);
    db.exec(`
      CREATE TABLE Utilizatori (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        nume_utilizator TEXT UNIQUE NOT NULL,
        parola TEXT NOT NULL
      );
      INSERT INTO Utilizatori (nume_utilizator, parola) VALUES ('admin', 'admin'), ('ion', 'parola123'),
        ('bad name', 'x');
    `);
    db.close();
    const result = await cli(["import-paper-db", paper, "--db", srv.dbPath]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Imported 1 of 3 users/);
    const ion = await srv.server.store.findUser("ion");
    assert.equal(ion?.role, "viewer");
    assert.ok(ion!.passwordHash.startsWith("scrypt$") && !ion!.passwordHash.includes("parola123"));
    assert.ok(await verifyPassword("parola123", ion!.passwordHash));
    const missing = await cli(["import-paper-db", join(dir, "none.db"), "--db", srv.dbPath]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^nms-server: Cannot open .*none\.db/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removing a user or changing its role closes its open agent connections", async () => {
  await using srv = await startSecureServer({ credentialCheckIntervalMs: 100 });
  const store = srv.server.store;
  const hash = await hashPassword("agent password", { logN: 10 });
  await store.createUser("a1", hash, "agent");
  await store.createUser("a2", hash, "agent");
  const connect = async (user: string) => {
    const client = await LineClient.connect(srv.port);
    await client.readLine();
    await client.send(`LOGIN ${user} agent password`);
    assert.equal(await client.readLine(), formatAck(true, OK.login));
    return client;
  };
  await using one = await connect("a1");
  await using two = await connect("a2");
  await store.removeUser("a1");
  await store.setUserRole("a2", "viewer");
  for (const client of [one, two]) {
    assert.equal(await client.readLine(), formatAck(false, FAIL.credentialRevoked));
    assert.equal(await client.readLine(), null);
  }
});
