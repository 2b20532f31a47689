/**
 * Rules from the command line: `serve --rules FILE` refuses a bad file with
 * one clear line, reloads the file on SIGHUP without a restart (keeping the
 * old rules when the new file is broken), and `nms-server alerts` lists what
 * was raised.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LineClient } from "./_harness/line_client.ts";
import { spawnServerProcess } from "./_harness/server_process.ts";
import { runScript, type ScriptResult } from "./_harness/run_script.ts";
import { waitFor } from "./_harness/wait_for.ts";
import { LINEAR_REGEX_V8_FLAGS } from "../server/rules/linear_regex.ts";

const MAIN = fileURLToPath(new URL("../server/main.ts", import.meta.url));

function cli(args: string[]): Promise<ScriptResult> {
  return runScript(MAIN, args);
}

const rule = (id: number, word: string) => `
- id: ${id}
  level: 8
  description: "app: ${word}"
  match:
    program: app
    regex: '${word} (?<thing>\\S+)'
`;

Deno.test("nms-server serve refuses a rules file with a bad regex in one line naming rule and field", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-rules-cli-" });
  try {
    const file = join(dir, "rules.yaml");
    await Deno.writeTextFile(file, rule(100001, "broke") + rule(100002, "(unclosed"));
    const result = await cli(["serve", "--db", join(dir, "nms.db"), "--rules", file]);
    assert.equal(result.code, 2);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0]!,
      /^nms-server: Invalid rules file .*rules\.yaml: Invalid rule 100002: match\.regex: /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nms-server reloads --rules on SIGHUP, keeps them when the file breaks, and lists alerts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-rules-cli-" });
  try {
    const file = join(dir, "rules.yaml");
    const db = join(dir, "nms.db");
    await Deno.writeTextFile(file, rule(100001, "broke"));
    await using server = await spawnServerProcess({
      args: ["--db", db, "--http-port", "0", "--workers", "1", "--rules", file],
    });
    await using client = await LineClient.connect(server.port);
    await client.readLine();
    await client.send("LOGIN admin admin");
    await client.readLine();
    const send = async (message: string) => {
      await client.send(`BATCH_EVENT Nov 23 19:43:33 web-01 app[1]: ${message}`);
      assert.equal(await client.readLine(), "ACK OK Event received");
    };
    const ruleIds = async () => {
      const listed = await cli(["alerts", "--db", db, "--json"]);
      assert.equal(listed.code, 0, listed.stderr);
      return (JSON.parse(listed.stdout) as { ruleId: number }[]).map((a) => a.ruleId).sort();
    };
    await send("broke pipe");
    assert.deepEqual(await ruleIds(), [100001]);

    await Deno.writeTextFile(file, rule(100001, "broke") + rule(100003, "melted"));
    Deno.kill(server.pid, "SIGHUP");
    await waitFor(() => server.stderr().includes("Reloaded rules"), { timeoutMs: 20_000 });
    await waitFor(async () => {
      await send("melted core");
      return (await ruleIds()).includes(100003);
    }, { timeoutMs: 20_000, message: "the reloaded rule's alert" });

    await Deno.writeTextFile(file, "- id: nope\n");
    Deno.kill(server.pid, "SIGHUP");
    await waitFor(() => server.stderr().includes("Kept the previous rules"), { timeoutMs: 20_000 });
    assert.match(
      server.stderr(),
      /Kept the previous rules: Invalid rules file .*: Invalid rule #1 \(no valid id\): id: /,
    );
    await send("broke pipe"); // the same alert: folded, count 2
    const table = await cli(["alerts", "--db", db, "--level", "8", "--since", "1h"]);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^LAST SEEN +LEVEL +RULE +COUNT +DESCRIPTION +FIELDS\n/);
    assert.match(table.stdout, /100001 +2 +app: broke +host=web-01 thing=/);
    assert.equal(
      (await cli(["alerts", "--db", db, "--level", "9"])).stdout.trim().split("\n").length,
      1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nms-server rules test shows the parse, the rule and the correlation over lines from stdin", async () => {
  const lines = Array.from(
    { length: 8 },
    (_, i) =>
      `Nov 23 19:43:0${
        i + 1
      } web-01 sshd[812]: Failed password for invalid user admin from 203.0.113.7 port 4000${i} ssh2`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--v8-flags=${LINEAR_REGEX_V8_FLAGS}`, MAIN, "rules", "test"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  await writer.close();
  const output = await child.output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.equal(stdout.match(/^\*\* Line \d+: /gm)?.length, 8);
  assert.match(
    stdout,
    /\n {3}format: rfc3164\n {3}time: \d{4}-11-23T19:43:01\.000Z\n {3}host: web-01\n {3}program: sshd\n {3}pid: 812\n/,
  );
  assert.match(
    stdout,
    /rule: 5760 \(level 5\) sshd: authentication failed .*; groups: syslog, sshd, authentication_failed mitre: T1110\.001, T1021\.004\n {3}fields: user="admin" srcip="203\.0\.113\.7"/,
  );
  // The eighth failure from one address is a brute force (Wazuh's 5763), and only the eighth.
  assert.equal(stdout.match(/alert: 5763 \(level 10\)/g)?.length, 1);
  assert.match(stdout, /correlated lines: 1, 2, 3, 4, 5, 6, 7, 8; fields: srcip="203\.0\.113\.7"/);
});

Deno.test("nms-server rules test takes lines as arguments, prints JSON, and escapes log text", async () => {
  const result = await cli([
    "rules",
    "test",
    "--json",
    "Nov 23 19:43:33 web-01 su[1]: FAILED SU (to root) bob on pts/1",
    "Nov 23 19:43:34 web-01 app[1]: \x1b[2Jhello",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const [su, app] = result.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(su.matches.map((m: { rule: { id: number } }) => m.rule.id), [5302]);
  assert.equal(su.matches[0].rule.level, 9);
  assert.deepEqual(su.matches[0].fields, { runas: "root", user: "bob", tty: "pts/1" });
  assert.equal(app.parsed.program, "app");
  assert.deepEqual(app.matches, []);
  const text = await cli(["rules", "test", "Nov 23 19:43:34 web-01 app[1]: \x1b[2Jhello"]);
  assert.ok(!text.stdout.includes("\x1b"), "control characters are escaped");
  assert.match(text.stdout, /rule: none matched/);
  const bad = await cli(["rules", "test", "--rules", "missing.yaml", "x"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr.trim(), /^nms-server: Cannot read rules file missing\.yaml: /);
});
