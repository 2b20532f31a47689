/**
 * Long work shows progress: `nms-server backup` and `import-paper-db` redraw
 * a progress line on a terminal (the "is a terminal" flag is injected) and
 * print their size and time taken otherwise; the server logs the copy it
 * takes before migrating a database, with its size and time.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { runCli } from "../server/cli/mod.ts";
import { createLogger, openSqliteStore, startServer } from "../server/mod.ts";
import { SQLITE_MIGRATIONS } from "../server/store/migrations.ts";

/** Runs the CLI in this process; returns what it wrote. */
async function cli(args: string[], stderrIsTerminal: boolean) {
  const out: string[] = [];
  let err = "";
  const code = await runCli(args, {
    out: (text) => out.push(text),
    writeErr: (text) => err += text,
    env: () => undefined,
    actor: "cli:test",
    stderrIsTerminal,
    stdin: new Blob().stream(),
  });
  return { code, out, err };
}

/** Erases a terminal line: what a redrawn progress line starts with. */
const ERASE = "\r\x1b[K";

/** `text` with each erase written as `<ERASE>`, so patterns need no control character. */
function shown(text: string): string {
  return text.replaceAll(ERASE, "<ERASE>");
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nms-progress-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("nms-server backup prints its size and time when stderr is not a terminal, and nothing else", async () => {
  await withDir(async (dir) => {
    const db = join(dir, "nms.db");
    await (await openSqliteStore(db)).close();
    const result = await cli(["backup", join(dir, "copy.db"), "--db", db], false);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.err, "");
    assert.match(
      result.out.join("\n"),
      /^Backed up \S+nms\.db to \S+copy\.db \([\d.]+ kB in [\d.]+ s\)$/,
    );
  });
});

Deno.test("nms-server backup redraws its progress on a terminal and ends the line with the summary", async () => {
  await withDir(async (dir) => {
    const db = join(dir, "nms.db");
    await (await openSqliteStore(db)).close();
    const result = await cli(["backup", join(dir, "copy.db"), "--db", db], true);
    assert.equal(result.code, 0, result.err);
    assert.match(shown(result.err), /<ERASE>Backing up \S+nms\.db: [\d.]+ kB in [\d.]+ s\n$/);
  });
});

/** The paper's database with `count` users. */
function paperDatabase(path: string, count: number): void {
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE Utilizatori (id INTEGER PRIMARY KEY, nume_utilizator TEXT, parola TEXT)");
  for (let i = 0; i < count; i++) {
    db.prepare("INSERT INTO Utilizatori (nume_utilizator, parola) VALUES (?, ?)").run(
      `user${i}`,
      `password${i}`,
    );
  }
  db.exec("INSERT INTO Utilizatori (nume_utilizator, parola) VALUES ('bad name', 'x')");
  db.close();
}

Deno.test("nms-server import-paper-db shows users hashed, rate and time left on a terminal", async () => {
  await withDir(async (dir) => {
    const db = join(dir, "nms.db");
    await (await openSqliteStore(db)).close();
    paperDatabase(join(dir, "paper.db"), 4);
    const result = await cli(["import-paper-db", join(dir, "paper.db"), "--db", db], true);
    assert.equal(result.code, 0, result.err);
    // Each scrypt hash takes long enough for at least one redraw with a percentage.
    assert.match(shown(result.err), /<ERASE>Importing users from \S+: \d+% \(\d of 5 users\), /);
    assert.match(shown(result.err), /<ERASE>Importing users from \S+: 5 users in [\d.]+ s\n$/);
    assert.deepEqual(result.out.slice(0, 1), [
      'Skipped "bad name": invalid user name or empty password',
    ]);
    assert.match(result.out.at(-1)!, /^Imported 4 of 5 users in [\d.]+ s; /);
  });
});

Deno.test("nms-server import-paper-db prints only its result off a terminal", async () => {
  await withDir(async (dir) => {
    const db = join(dir, "nms.db");
    await (await openSqliteStore(db)).close();
    paperDatabase(join(dir, "paper.db"), 1);
    const result = await cli(["import-paper-db", join(dir, "paper.db"), "--db", db], false);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.err, "");
    assert.match(result.out.at(-1)!, /^Imported 1 of 2 users in [\d.]+ s; /);
  });
});

for (const logIsTerminal of [false, true]) {
  Deno.test(`startServer() logs the copy taken before a migration (log ${logIsTerminal ? "on" : "off"} a terminal)`, async () => {
    await withDir(async (dir) => {
      const path = join(dir, "nms.db");
      const old = 2;
      const db = new DatabaseSync(path);
      for (const migration of SQLITE_MIGRATIONS.slice(0, old)) db.exec(migration.sql);
      db.exec(`PRAGMA user_version = ${old}`);
      db.close();
      const lines: string[] = [];
      const server = await startServer({
        port: 0,
        hostname: "127.0.0.1",
        dbPath: path,
        workers: 1,
        adminPassword: "admin",
        logIsTerminal,
        log: createLogger({ level: "info", write: (line) => lines.push(line) }),
      });
      await server.shutdown();
      const about = lines.filter((l) => l.includes("before migrating its schema from version 2"));
      const summary =
        /INFO Backing up \S+nms\.db before migrating its schema from version 2: [\d.]+ kB in [\d.]+ s$/;
      assert.match(about.at(-1)!, summary);
      // On a terminal the work is announced as it starts, with its size.
      assert.equal(about.length, logIsTerminal ? 2 : 1, about.join("\n"));
      if (logIsTerminal) assert.match(about[0]!, /: 0% \(0 B of [\d.]+ kB\)/);
      await Deno.stat(`${path}.bak-v${old}`);
    });
  });
}
