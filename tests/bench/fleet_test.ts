import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "../_harness/run_script.ts";

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
      /connect \+ LOGIN @token \+ REGISTER +50 in .* target ≥ 1,000\/s/,
      /shown alive \(GET \/api\/agents\) +50 alive/,
      /server RSS per connection over idle +\d+ KB +target ≤ 40 KB/,
      /server CPU over \d+ s +[\d.]+% of a core +target ≤ 25% of a core/,
      /real agents steady +all alive, 1\/1 lines/,
      /restart \(token\): all registered again +50 in [\d.]+ s after the kill +target ≤ 30 s/,
      /registrations\/s from +0 s:/,
      /real agents after restart +all alive, 1\/1 lines/,
      /first password logins \+ TICKET \(one hash each\) +5 in /,
      /restart \(password, tickets\): all registered again +5 in [\d.]+ s after the kill +target ≤ 60 s/,
      /restart \(password, tickets\): logins without a hash +5 of 5/,
      /vanish: all 50 shown disconnected or late +[\d.]+ s after the drop/,
      /vanish: console \/api\/agents p95 +\d+ ms/,
    ]
  ) {
    assert.match(stdout, line);
  }
});
