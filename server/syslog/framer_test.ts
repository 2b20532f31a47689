import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { SyslogFramer } from "./framer.ts";

const encoder = new TextEncoder();

/** Feeds `chunks` and returns [message, droppedBytes] pairs, then the framing. */
function frames(
  chunks: (string | Uint8Array)[],
  options: { maxFrameBytes?: number; end?: boolean } = {},
): { messages: [string, number][]; framing: string } {
  const framer = new SyslogFramer(
    options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes },
  );
  const messages: [string, number][] = [];
  const sink = { frame: (m: string, d: number) => messages.push([m, d]) };
  for (const chunk of chunks) {
    framer.push(typeof chunk === "string" ? encoder.encode(chunk) : chunk, sink);
  }
  if (options.end) framer.end(sink);
  return { messages, framing: framer.framing };
}

/** Splits text into chunks of every size from 1 byte up, to cross each boundary. */
function everySplit(text: string): Uint8Array[][] {
  const bytes = encoder.encode(text);
  const out: Uint8Array[][] = [];
  for (let size = 1; size <= bytes.length; size++) {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    out.push(chunks);
  }
  return out;
}

Deno.test("SyslogFramer splits newline-framed messages and drops a CR before LF", () => {
  const { messages, framing } = frames([
    "<13>Nov 23 19:43:33 h a: one\r\n<13>Nov 23 19:43:34 h a: two\n",
  ]);
  assertEquals(messages, [["<13>Nov 23 19:43:33 h a: one", 0], [
    "<13>Nov 23 19:43:34 h a: two",
    0,
  ]]);
  assertEquals(framing, "newline");
});

Deno.test("SyslogFramer reads octet-counted frames, newlines inside included", () => {
  const first = "<13>1 - h app - - - multi\nline";
  const second = "<14>1 - h app - - - next";
  const { messages, framing } = frames([
    `${encoder.encode(first).length} ${first}${encoder.encode(second).length} ${second}`,
  ]);
  assertEquals(messages, [[first, 0], [second, 0]]);
  assertEquals(framing, "octet-counted");
});

Deno.test("SyslogFramer counts octets, not characters, for UTF-8 messages", () => {
  const text = "<13>1 - h app - - - \u{feff}grüße ✓";
  const { messages } = frames([`${encoder.encode(text).length} ${text}`]);
  assertEquals(messages, [[text, 0]]);
});

Deno.test("SyslogFramer gives the same messages however the bytes are chunked", () => {
  const octet = "5 <13>a12 <13>hello\nxy";
  for (const chunks of everySplit(octet)) {
    assertEquals(frames(chunks).messages, [["<13>a", 0], ["<13>hello\nxy", 0]]);
  }
  const lines = "<13>one\r\n\n<13>two\n";
  for (const chunks of everySplit(lines)) {
    assertEquals(frames(chunks).messages, [["<13>one", 0], ["<13>two", 0]]);
  }
});

Deno.test("SyslogFramer keeps a connection newline-framed when its first line starts with digits", () => {
  const text = "2026-11-23T19:43:33Z web-01 app: one\n123: *Nov 23 19:43:33: %LINK-3-UPDOWN: x\n";
  for (const chunks of everySplit(text)) {
    const { messages, framing } = frames(chunks);
    assertEquals(messages, [
      ["2026-11-23T19:43:33Z web-01 app: one", 0],
      ["123: *Nov 23 19:43:33: %LINK-3-UPDOWN: x", 0],
    ]);
    assertEquals(framing, "newline");
  }
});

Deno.test("SyslogFramer reads a frame without a count up to its LF on an octet-counted connection", () => {
  const { messages } = frames(["5 <13>a<13>b\n3 <1>"]);
  assertEquals(messages, [["<13>a", 0], ["<13>b", 0], ["<1>", 0]]);
});

Deno.test("SyslogFramer treats more than ten digits or a zero count as the start of a line", () => {
  assertEquals(frames(["12345678901 x\n"]).messages, [["12345678901 x", 0]]);
  assertEquals(frames(["0 x\n"]).messages, [["0 x", 0]]);
});

Deno.test("SyslogFramer cuts an oversized line to the limit and reports the dropped bytes", () => {
  const long = "x".repeat(25);
  for (const chunks of everySplit(`${long}\r\nshort\n`)) {
    assertEquals(frames(chunks, { maxFrameBytes: 10 }).messages, [
      ["x".repeat(10), 15],
      ["short", 0],
    ]);
  }
});

Deno.test("SyslogFramer cuts an oversized octet-counted message and stays in sync", () => {
  for (const chunks of everySplit(`20 ${"y".repeat(20)}3 abc`)) {
    assertEquals(frames(chunks, { maxFrameBytes: 8 }).messages, [["y".repeat(8), 12], ["abc", 0]]);
  }
});

Deno.test("SyslogFramer.end() reports a last line without LF and a partial octet frame", () => {
  assertEquals(frames(["<13>one\n<13>two"], { end: true }).messages, [["<13>one", 0], [
    "<13>two",
    0,
  ]]);
  assertEquals(frames(["10 <13>ab"], { end: true }).messages, [["<13>ab", 4]]);
  assertEquals(frames(["<13>one\n"], { end: true }).messages, [["<13>one", 0]]);
});

Deno.test("SyslogFramer escapes invalid UTF-8 recoverably and never throws on binary input", () => {
  const bytes = new Uint8Array([0x3c, 0x31, 0x33, 0x3e, 0xff, 0xfe, 0x00, 0x0a]);
  assertEquals(frames([bytes]).messages, [["<13>\\xff\\xfe\u0000", 0]]);
  const noise = new Uint8Array(4096);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) & 0xff;
  frames([noise, noise], { end: true, maxFrameBytes: 100 });
});
