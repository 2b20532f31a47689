import assert from "node:assert/strict";
import { createLogger, quote } from "./log.ts";

Deno.test("a client's text logged through quote() stays one line, escaped and cut", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line), now: () => 0 });
  log.warn("Dropped line: Malformed command", {
    address: "10.0.0.5:40000",
    line: quote(`EVIL\n1970-01-01T00:00:00.000Z INFO FAKE ${"x".repeat(100)}`),
  });
  assert.equal(lines.length, 1);
  assert.equal(
    lines[0],
    "1970-01-01T00:00:00.000Z WARN Dropped line: Malformed command address=10.0.0.5:40000 " +
      String.raw`line="EVIL\n1970-01-01T00:00:00.000Z INFO FAKE ` + "x".repeat(40) + '…"',
  );
});
