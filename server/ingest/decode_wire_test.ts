import assert from "node:assert/strict";
import { parseCommand } from "../../protocol/mod.ts";
import { decodeWireLines } from "./decode_wire.ts";
import { WireLinesBuilder } from "./wire_lines.ts";
import { failureStatus } from "./line_status.ts";

const encoder = new TextEncoder();

/** What decodeWireLines must give for one line: parseCommand's verdict. */
function expected(line: string): { message: string; stream: string | null; position: number } | {
  failure: number;
} {
  const parsed = parseCommand(line);
  if (parsed.ok && parsed.command.type === "EVENT") {
    return {
      message: parsed.command.message,
      stream: parsed.command.stream,
      position: parsed.command.position,
    };
  }
  if (parsed.ok && parsed.command.type === "BATCH_EVENT") {
    return { message: parsed.command.message, stream: null, position: -1 };
  }
  return { failure: failureStatus(parsed.ok ? "Unknown command" : parsed.reason) };
}

function decodeAll(lines: string[]) {
  const batch = new WireLinesBuilder();
  for (const line of lines) batch.append(encoder.encode(line));
  return decodeWireLines(batch.take());
}

function assertSameAsParseCommand(lines: string[]): void {
  const decoded = decodeAll(lines);
  let valid = 0;
  lines.forEach((line, i) => {
    const want = expected(line);
    if ("failure" in want) {
      assert.equal(decoded.rejected?.[i], want.failure, `line ${JSON.stringify(line)}`);
      return;
    }
    assert.equal(decoded.rejected?.[i] ?? 0, 0, `line ${JSON.stringify(line)}`);
    assert.equal(decoded.lines[valid], want.message, `message of ${JSON.stringify(line)}`);
    assert.equal(
      decoded.streams?.[valid] ?? null,
      want.stream,
      `stream of ${JSON.stringify(line)}`,
    );
    assert.equal(decoded.positions?.[valid] ?? -1, want.position, `position of ${line}`);
    valid++;
  });
  assert.equal(decoded.lines.length, valid);
}

Deno.test("decodeWireLines accepts and rejects exactly the lines parseCommand does", () => {
  assertSameAsParseCommand([
    "EVENT s1 1 hello world",
    "EVENT s1 2 hello  two spaces ",
    "EVENT s2 3 other stream",
    "EVENT s1 4 back to the first stream",
    "event s1 5 lower-case verb",
    "BATCH_EVENT plain line",
    "EVENT s1 x not a number",
    "EVENT s1 6",
    "EVENT s1 7 ",
    "EVENT  8 empty stream",
    "EVENT bad/stream 9 slash",
    `EVENT ${"s".repeat(64)} 10 longest stream`,
    `EVENT ${"s".repeat(65)} 11 stream too long`,
    "EVENT s1 12345678901234567 seventeen digits",
    "EVENT s1 9999999999999999 sixteen digits, beyond safe integers",
    "EVENT s1 -1 negative",
    "EVENT s1 12 nul \0 inside",
    "EVENT s1 13 ünïcödé ✓",
    "HEARTBEAT 10",
    "",
    "EVENT",
  ]);
});

Deno.test("decodeWireLines matches parseCommand on random EVENT-like lines", () => {
  // A small deterministic generator: lines built from the pieces the fast path inspects.
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = [
    "EVENT",
    "event",
    "BATCH_EVENT",
    " ",
    "  ",
    "s1",
    "s-2.x:y_z",
    "é",
    "/",
    "0",
    "7",
    "12",
    "-",
    "msg",
    "\0",
    "\uFFFD",
  ];
  const lines = Array.from({ length: 5000 }, () => {
    let line = random(4) === 0 ? "" : "EVENT s1 ";
    const parts = random(8);
    for (let p = 0; p < parts; p++) line += pieces[random(pieces.length)];
    return line;
  });
  assertSameAsParseCommand(lines);
});

Deno.test("decodeWireLines keeps lines apart when one holds invalid UTF-8", () => {
  const batch = new WireLinesBuilder();
  batch.append(encoder.encode("EVENT s1 1 before"));
  batch.append(new Uint8Array([...encoder.encode("EVENT s1 2 bad "), 0xc3, 0xe2, 0x82]));
  batch.append(encoder.encode("EVENT s1 3 after"));
  const decoded = decodeWireLines(batch.take());
  assert.deepEqual(decoded.lines, ["before", "bad \uFFFD\uFFFD", "after"]);
  assert.deepEqual([...decoded.positions!], [1, 2, 3]);
  assert.equal(decoded.rejected, null);
});
