import assert from "node:assert/strict";
import { createLogger } from "./log.ts";

Deno.test("createLogger() writes a timestamp, level, message and key=value fields", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line), now: () => 0 });
  log.info("state changed", { state: "connected", server: "127.0.0.1:8080", skipped: undefined });
  log.warn("odd value", { reason: 'has "quotes" and spaces', empty: "" });
  assert.deepEqual(lines, [
    "1970-01-01T00:00:00.000Z INFO state changed state=connected server=127.0.0.1:8080",
    '1970-01-01T00:00:00.000Z WARN odd value reason="has \\"quotes\\" and spaces" empty=""',
  ]);
});

Deno.test("createLogger() drops lines below its level", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "warn", write: (line) => lines.push(line), now: () => 0 });
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  assert.deepEqual(lines.map((l) => l.split(" ")[1]), ["WARN", "ERROR"]);
  const silent: string[] = [];
  createLogger({ level: "silent", write: (line) => silent.push(line) }).error("x");
  assert.deepEqual(silent, []);
});

Deno.test("createLogger() rejects an unknown level with RangeError", () => {
  // @ts-expect-error: testing a bad value from untyped callers
  assert.throws(() => createLogger({ level: "loud" }), RangeError);
});
