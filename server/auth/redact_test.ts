import assert from "node:assert/strict";
import { REDACTED, redactLine } from "./redact.ts";

Deno.test("redactLine() cuts everything after LOGIN <user>, however the line is mangled", () => {
  const cases: [string, string][] = [
    ["LOGIN  admin secret", `LOGIN  admin ${REDACTED}`],
    ["login\tadmin\tsecret pass", `login\tadmin ${REDACTED}`],
    ["\x1b[2JLOGIN admin s3cret", `\x1b[2JLOGIN admin ${REDACTED}`],
    ["LOGIN\0admin\0secret", `LOGIN\0admin ${REDACTED}`],
    ["xLoGiNadmin secret", `xLoGiNadmin ${REDACTED}`],
    ["LOGIN @token nms_0123456789ab_SECRET", `LOGIN @token ${REDACTED}`],
  ];
  for (const [line, expected] of cases) {
    assert.equal(redactLine(line), expected, JSON.stringify(line));
    assert.ok(!redactLine(line).toLowerCase().includes("secret"), JSON.stringify(line));
  }
  assert.equal(redactLine("LOGIN admin"), "LOGIN admin");
  assert.equal(redactLine("BATCH_EVENT hello world"), "BATCH_EVENT hello world");
});
