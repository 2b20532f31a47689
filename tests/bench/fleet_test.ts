import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "../_harness/run_script.ts";
import { errorFeed, tallyErrors } from "./_fleet_server.ts";

Deno.test("the fleet bench part connects, restarts and drops a small fleet and prints each target", async () => {
  const { code, stdout, stderr } = await runScript(
    fileURLToPath(new URL("fleet.ts", import.meta.url)),
    [
      "--agents",
      "50",
      "--real-agents",
      "1",
      "--steady-seconds",
      "2",
      "--password-seconds",
      "30",
      "--password-agents",
      "5",
    ],
  );
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  for (
    const line of [
      /floor: bare Deno server, CPU over \d+ s +[\d.]+% of a core, [\d,]+ events\/s/,
      /floor: CPU by thread +main [\d.]+% \([\d.]+% system\)/,
      /floor: RSS idle \/ steady \(peak\) +\d+ \/ \d+ \(\d+\) MB, \d+ KB per connection/,
      /connect \+ LOGIN @token \+ REGISTER +50 in .* target ≥ 1,000\/s/,
      /shown alive \(GET \/api\/agents\) +50 alive/,
      /server RSS per connection over idle +\d+ KB +target ≤ 40 KB/,
      /server CPU over \d+ s +[\d.]+% of a core \(the floor [\d.]+%\) +target ≤ 25% of a core/,
      // In any order: the busiest thread comes first.
      /server CPU by thread +(?=.*main [\d.]+% \([\d.]+% system\))(?=.*worker-\d+ [\d.]+%)/,
      /real agents steady +all alive, 1\/1 lines/,
      /restart \(token\): all registered again +50 in [\d.]+ s after the kill +target ≤ 30 s/,
      /registrations\/s from +0 s:/,
      /real agents after restart +all alive, 1\/1 lines/,
      /first password logins \+ TICKET \(one hash each\) +5 in /,
      /restart \(password, tickets\): all registered again +5 in [\d.]+ s after the kill +target ≤ 60 s/,
      /restart \(password, tickets\): logins without a hash +5 of 5/,
      /restart \(password, tickets\): registrations\/s .* target none: the time above is the target/,
      /restart \(token\): registrations\/s .* target ≥ 1,000\/s/,
      /vanish: all 50 shown disconnected or late +[\d.]+ s after the drop/,
      /vanish: console \/api\/agents p95 +\d+ ms/,
      /server ERROR lines: none/,
    ]
  ) {
    assert.match(stdout, line);
  }
});

Deno.test("tallyErrors() counts a server's ERROR lines by message and error, and nothing else", () => {
  const errors = new Map<string, number>();
  tallyErrors(
    [
      '2026-12-07T03:50:31.665Z ERROR Login failed address=127.0.0.1:1 error="database is locked"',
      "2026-12-07T03:50:31.685Z WARN Dropped line: Not logged in address=127.0.0.1:1 line=TICKET",
      '2026-12-07T03:50:32.847Z ERROR Login failed address=127.0.0.1:2 error="database is locked"',
      "2026-12-07T03:50:33.000Z ERROR Accept failed",
    ].join("\n"),
    errors,
  );
  assert.deepEqual(
    [...errors],
    [["Login failed: database is locked", 2], ["Accept failed", 1]],
  );
});

Deno.test("errorFeed() counts an ERROR line split across two reads once, when it is whole", () => {
  const errors = new Map<string, number>();
  const feed = errorFeed(errors);
  feed("2026-12-07T03:50:31.665Z ERROR Login fai");
  assert.equal(errors.size, 0);
  feed('led error="database is locked"\n2026-12-07T03:50:32.000Z INFO fine\n');
  assert.deepEqual([...errors], [["Login failed: database is locked", 1]]);
});
