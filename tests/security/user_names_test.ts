/**
 * One user-name rule, enforced by the store for every path: a name starting
 * with `@` (which would pose as `LOGIN @token`) cannot be created through the
 * console API, the CLI, the paper import or the store itself.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { StoreError } from "../../server/store/store.ts";
import { signIn } from "../_harness/console.ts";
import { startSecureServer } from "../_harness/secure_server.ts";

const MAIN = join(import.meta.dirname!, "../../server/main.ts");

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
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

Deno.test("a user name starting with @ is refused by the console API, the CLI, the import and the store", async () => {
  await using srv = await startSecureServer({ httpPort: 0 });
  const url = `http://127.0.0.1:${srv.server.httpAddr!.port}`;
  const admin = await signIn(url, "admin", "admin");
  for (const username of ["@token", "@admin", "@"]) {
    const response = await admin.fetch("/api/users", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: "long enough password", role: "admin" }),
    });
    const body = await response.text();
    assert.equal(response.status, 400, `${username}: ${body}`);
  }
  await assert.rejects(
    () => srv.server.store.createUser("@token", "hash", "admin"),
    (error: unknown) => error instanceof StoreError && error.code === "invalid",
  );

  const dir = await Deno.makeTempDir({ prefix: "nms-names-" });
  try {
    const file = join(dir, "pw");
    await Deno.writeTextFile(file, "a long password\n");
    const add = await cli(["user", "add", "@ops", "--password-file", file, "--db", srv.dbPath]);
    assert.equal(add.code, 2);
    assert.match(add.stderr, /Invalid user name "@ops"/);
    // The paper's database: plaintext users, one of them posing as a token login.
    const paper = join(dir, "paper.db");
    const db = new DatabaseSync(paper);
    db.exec("CREATE TABLE Utilizatori (id INTEGER PRIMARY KEY, nume_utilizator TEXT, parola TEXT)");
    db.prepare("INSERT INTO Utilizatori (nume_utilizator, parola) VALUES (?, ?), (?, ?)")
      .run("@token", "x", "maria", "pw");
    db.close();
    const imported = await cli(["import-paper-db", paper, "--db", srv.dbPath]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /Imported 1 of 2 users/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const names = (await srv.server.store.listUsers()).map((u) => u.username).sort();
  assert.deepEqual(names, ["admin", "maria"]);
});
