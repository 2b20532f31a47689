import assert from "node:assert/strict";
import { INVALID_USER_REGEX } from "./builtin_rules.ts";
import { invalidUserFields } from "./_invalid_user.ts";

const regex = new RegExp(INVALID_USER_REGEX);

function byRegex(m: string): Record<string, string> | null {
  const groups = regex.exec(m)?.groups;
  if (!groups) return null;
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(groups)) if (v !== undefined) fields[k] = v;
  return fields;
}

Deno.test("invalidUserFields() gives the regex's fields on real lines", () => {
  const lines = [
    "Invalid user oracle from 198.51.100.23 port 40022",
    "Invalid user  from 198.51.100.23 port 40023",
    "Invalid user test from 198.51.100.23",
    "Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2",
    "Postponed keyboard-interactive for invalid user warez from 192.0.2.101 port 54197 ssh2 [preauth]",
    "Disconnected from invalid user test 203.0.113.7 port 33000 [preauth]",
    "Disconnecting invalid user root 203.0.113.7 port 33002: Too many authentication failures [preauth]",
    "Failed password for invalid user x from 6.6.6.6 port 1 ssh2 from 203.0.113.7 port 52144 ssh2",
    "Invalid user y from 6.6.6.6 from 203.0.113.7 port 40022",
    "error: PAM: unknown user for illegal user badguy from 192.168.33.1",
    "input_userauth_request: invalid user opcione [preauth]",
    "Accepted password for alice from 192.0.2.1 port 22 ssh2",
  ];
  let decided = 0;
  for (const line of lines) {
    const fast = invalidUserFields(line);
    if (fast === undefined) continue;
    decided++;
    assert.deepEqual(fast, byRegex(line), line);
  }
  assert.equal(decided, 3, "the brute force's forms are decided here");
});

Deno.test("invalidUserFields() agrees with the regex on generated lines, or leaves them to it", () => {
  const parts = [
    "Invalid user ",
    "invalid user ",
    "Illegal user ",
    " from ",
    " from",
    "from ",
    " port ",
    " port",
    "1.2.3.4",
    "::1",
    "fe80::a",
    "22",
    "x",
    " ",
    ":",
    ": reason",
    " ssh2",
    " [preauth]",
    "[preauth]",
    "ab",
    "user",
    "\r",
    "é",
  ];
  const tails = [
    " from 1.2.3.4 port 22",
    " from 1.2.3.4 port 22 ssh2",
    " from ::1 port 9 [preauth]",
    " from 1.2.3.4 port 22 ssh2 [preauth]",
    " from 1.2.3.4 port x",
    " 1.2.3.4 port 22 [preauth]",
    " from 1.2.3.4",
  ];
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let decided = 0;
  for (let n = 0; n < 20_000; n++) {
    let m = "";
    const count = 1 + Math.floor(random() * 8);
    for (let k = 0; k < count; k++) m += parts[Math.floor(random() * parts.length)]!;
    if (random() < 0.5) {
      // The common form, with a generated user name and tail.
      m = `${
        random() < 0.5 ? "Failed password for " : ""
      }invalid user ${m}${tails[Math.floor(random() * tails.length)]!}`;
    }
    const fast = invalidUserFields(m);
    if (fast === undefined) continue;
    decided++;
    assert.deepEqual(fast, byRegex(m), JSON.stringify(m));
  }
  assert.ok(decided > 100, `only ${decided} lines decided`);
});
