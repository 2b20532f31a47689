import assert from "node:assert/strict";
import { createLogger, formatLogValue, type LogFields } from "./log.ts";

function lines(fields: LogFields, message = "m"): string[] {
  const out: string[] = [];
  createLogger({ write: (line) => out.push(line), now: () => 0 }).info(message, fields);
  return out;
}

Deno.test("formatLogValue() writes safe values as they are", () => {
  assert.equal(formatLogValue("127.0.0.1:8080"), "127.0.0.1:8080");
  assert.equal(formatLogValue("/var/log/grüße.log"), "/var/log/grüße.log");
  assert.equal(formatLogValue(String.raw`C:\logs`), String.raw`C:\logs`);
  assert.equal(formatLogValue(42), "42");
  assert.equal(formatLogValue(true), "true");
  assert.equal(formatLogValue(null), "null");
});

Deno.test("formatLogValue() quotes values with spaces, quotes, equals signs or nothing", () => {
  assert.equal(formatLogValue("no such file"), '"no such file"');
  assert.equal(formatLogValue('say "hi"'), String.raw`"say \"hi\""`);
  assert.equal(formatLogValue("a=b"), '"a=b"');
  assert.equal(formatLogValue(""), '""');
  assert.equal(formatLogValue(["a", "b"]), String.raw`"[\"a\",\"b\"]"`);
  assert.equal(formatLogValue([1, 2]), "[1,2]");
});

Deno.test("formatLogValue() escapes every control character, so a value cannot forge a line", () => {
  assert.equal(formatLogValue("evil\nFAKE 1 INFO x"), String.raw`"evil\nFAKE 1 INFO x"`);
  assert.equal(formatLogValue("\u001b[31mred"), String.raw`"\u001b[31mred"`);
  assert.equal(formatLogValue("del\u007f"), String.raw`"del\u007f"`);
  assert.equal(formatLogValue("c1\u009b"), String.raw`"c1\u009b"`);
  assert.equal(formatLogValue("ls\u2028x"), String.raw`"ls\u2028x"`);
  assert.equal(formatLogValue("nul\0"), String.raw`"nul\u0000"`);
});

Deno.test("createLogger() writes a timestamp, the level, the message and key=value fields", () => {
  assert.deepEqual(lines({ state: "connected", reason: "peer closed", skipped: undefined }), [
    '1970-01-01T00:00:00.000Z INFO m state=connected reason="peer closed"',
  ]);
});

Deno.test("createLogger() escapes control characters in the message", () => {
  assert.deepEqual(lines({}, "Kept the rules: line 1\nFAKE\u001b"), [
    String.raw`1970-01-01T00:00:00.000Z INFO Kept the rules: line 1\nFAKE\u001b`,
  ]);
});

Deno.test("createLogger() writes one JSON object per line with format json", () => {
  const out: string[] = [];
  const log = createLogger({ format: "json", write: (line) => out.push(line), now: () => 0 });
  log.warn("odd\nvalue", { path: "/x y", n: 3 });
  assert.deepEqual(out.map((line) => JSON.parse(line)), [
    { time: "1970-01-01T00:00:00.000Z", level: "warn", message: "odd\nvalue", path: "/x y", n: 3 },
  ]);
  assert.equal(out[0]!.includes("\n"), false);
});
