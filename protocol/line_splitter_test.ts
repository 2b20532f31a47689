import assert from "node:assert/strict";
import { MAX_LINE_BYTES } from "./limits.ts";
import { LineSplitter, type LineSplitterOptions } from "./line_splitter.ts";

/** What a sink saw, in order: a line with its text, or an overflow with its size. */
type Output =
  | { readonly kind: "line"; readonly text: string; readonly end: number }
  | { readonly kind: "overflow"; readonly bytes: number; readonly end: number };

const encoder = new TextEncoder();

function bytes(...parts: (string | number[])[]): Uint8Array {
  const chunks = parts.map((p) => typeof p === "string" ? encoder.encode(p) : Uint8Array.from(p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Pushes each chunk through one splitter and collects everything its sink receives. */
function split(chunks: readonly Uint8Array[], options: LineSplitterOptions = {}): Output[] {
  const splitter = new LineSplitter(options);
  const out: Output[] = [];
  const sink = {
    line: (text: string, end: number) => out.push({ kind: "line", text, end }),
    overflow: (n: number, end: number) => out.push({ kind: "overflow", bytes: n, end }),
  };
  for (const chunk of chunks) splitter.push(chunk, sink);
  return out;
}

/** Like {@linkcode split}, through pushBytes(): each line view is copied, then decoded at the end. */
function splitBytes(chunks: readonly Uint8Array[], options: LineSplitterOptions = {}): Output[] {
  const splitter = new LineSplitter(options);
  const raw: ({ bytes: Uint8Array; end: number } | { overflow: number; end: number })[] = [];
  const sink = {
    line: (view: Uint8Array, end: number) => raw.push({ bytes: view.slice(), end }),
    overflow: (n: number, end: number) => raw.push({ overflow: n, end }),
  };
  for (const chunk of chunks) splitter.pushBytes(chunk, sink);
  const decoder = new TextDecoder();
  return raw.map((r) =>
    "bytes" in r
      ? { kind: "line", text: decoder.decode(r.bytes), end: r.end }
      : { kind: "overflow", bytes: r.overflow, end: r.end }
  );
}

function lines(chunks: readonly Uint8Array[], options: LineSplitterOptions = {}): string[] {
  return split(chunks, options).map((o) => o.kind === "line" ? o.text : `<overflow ${o.bytes}>`);
}

/** Every single-byte chunk of `data`. */
function byteByByte(data: Uint8Array): Uint8Array[] {
  return Array.from(data, (_, i) => data.subarray(i, i + 1));
}

Deno.test("LineSplitter splits LF-terminated lines and reports their end offsets", () => {
  assert.deepEqual(split([bytes("ab\nc\n\nxyz\n")]), [
    { kind: "line", text: "ab", end: 3 },
    { kind: "line", text: "c", end: 5 },
    { kind: "line", text: "", end: 6 },
    { kind: "line", text: "xyz", end: 10 },
  ]);
});

Deno.test("LineSplitter removes the CR of CRLF and counts it in the end offset", () => {
  assert.deepEqual(split([bytes("ab\r\n\r\nc\n")]), [
    { kind: "line", text: "ab", end: 4 },
    { kind: "line", text: "", end: 6 },
    { kind: "line", text: "c", end: 8 },
  ]);
});

Deno.test("LineSplitter keeps a CR that is not right before LF", () => {
  assert.deepEqual(lines([bytes("a\rb\n\rc\n")]), ["a\rb", "\rc"]);
});

Deno.test("LineSplitter removes only one CR before LF", () => {
  assert.deepEqual(lines([bytes("a\r\r\n")]), ["a\r"]);
});

Deno.test("LineSplitter handles CR and LF arriving in different chunks", () => {
  assert.deepEqual(split([bytes("hello\r"), bytes("\nworld\r"), bytes("\n")]), [
    { kind: "line", text: "hello", end: 7 },
    { kind: "line", text: "world", end: 14 },
  ]);
});

Deno.test("LineSplitter holds a partial line until its newline arrives", () => {
  const splitter = new LineSplitter();
  const seen: string[] = [];
  const sink = { line: (t: string) => seen.push(t), overflow: () => seen.push("<overflow>") };
  splitter.push(bytes("first\nsec"), sink);
  assert.deepEqual(seen, ["first"]);
  assert.equal(splitter.offset, 6);
  assert.equal(splitter.pendingBytes, 3);
  splitter.push(bytes("ond"), sink);
  assert.deepEqual(seen, ["first"]);
  assert.equal(splitter.pendingBytes, 6);
  splitter.push(bytes("\n"), sink);
  assert.deepEqual(seen, ["first", "second"]);
  assert.equal(splitter.offset, 13);
  assert.equal(splitter.pendingBytes, 0);
});

Deno.test("LineSplitter reassembles lines pushed one byte at a time", () => {
  const data = bytes("LOGIN admin admin\r\nBATCH_EVENT a b c\n\nEVENT s 1 é✓😀\n");
  assert.deepEqual(split(byteByByte(data)), split([data]));
  assert.deepEqual(lines(byteByByte(data)), [
    "LOGIN admin admin",
    "BATCH_EVENT a b c",
    "",
    "EVENT s 1 é✓😀",
  ]);
});

Deno.test("LineSplitter ignores empty chunks", () => {
  assert.deepEqual(
    split([bytes(""), bytes("a"), bytes(""), bytes("\n"), bytes("")]),
    [{ kind: "line", text: "a", end: 2 }],
  );
});

Deno.test("LineSplitter reports end offsets from startOffset", () => {
  assert.deepEqual(split([bytes("a\nbc\n")], { startOffset: 1000 }), [
    { kind: "line", text: "a", end: 1002 },
    { kind: "line", text: "bc", end: 1005 },
  ]);
  const splitter = new LineSplitter({ startOffset: 7 });
  assert.equal(splitter.offset, 7);
});

Deno.test("LineSplitter defaults to MAX_LINE_BYTES", () => {
  const fits = "x".repeat(MAX_LINE_BYTES);
  assert.deepEqual(lines([bytes(fits, "\n", fits, "y\n")]), [
    fits,
    `<overflow ${MAX_LINE_BYTES + 1}>`,
  ]);
});

Deno.test("LineSplitter accepts a line of exactly maxLineBytes, in one chunk or many", () => {
  const max = 16;
  const line = "0123456789abcdef";
  const data = bytes(line, "\n", line, "\r\n");
  const expected = [
    { kind: "line", text: line, end: 17 },
    { kind: "line", text: line, end: 35 },
  ];
  assert.deepEqual(split([data], { maxLineBytes: max }), expected);
  assert.deepEqual(split(byteByByte(data), { maxLineBytes: max }), expected);
  assert.deepEqual(
    split([data.subarray(0, 10), data.subarray(10)], { maxLineBytes: max }),
    expected,
  );
});

Deno.test("LineSplitter overflows a line of maxLineBytes + 1 and keeps the next line intact", () => {
  const max = 16;
  const long = "0123456789abcdefg"; // 17 bytes
  const data = bytes("ok\n", long, "\n", "next\n");
  const expected = [
    { kind: "line", text: "ok", end: 3 },
    { kind: "overflow", bytes: 17, end: 21 },
    { kind: "line", text: "next", end: 26 },
  ];
  assert.deepEqual(split([data], { maxLineBytes: max }), expected);
  assert.deepEqual(split(byteByByte(data), { maxLineBytes: max }), expected);
});

Deno.test("LineSplitter discards a huge line up to its newline without buffering it", () => {
  const max = 64;
  const splitter = new LineSplitter({ maxLineBytes: max });
  const out: Output[] = [];
  const sink = {
    line: (text: string, end: number) => out.push({ kind: "line", text, end }),
    overflow: (n: number, end: number) => out.push({ kind: "overflow", bytes: n, end }),
  };
  const chunk = new Uint8Array(4096).fill(0x41);
  for (let i = 0; i < 256; i++) splitter.push(chunk, sink); // 1 MiB without a newline
  assert.deepEqual(out, []);
  assert.equal(splitter.pendingBytes, 256 * 4096);
  splitter.push(bytes("tail\nafter\n"), sink);
  const total = 256 * 4096 + 4;
  assert.deepEqual(out, [
    { kind: "overflow", bytes: total, end: total + 1 },
    { kind: "line", text: "after", end: total + 7 },
  ]);
  assert.equal(splitter.offset, total + 7);
  assert.equal(splitter.pendingBytes, 0);
});

Deno.test("LineSplitter does not count the CR of CRLF against maxLineBytes", () => {
  const max = 4;
  assert.deepEqual(lines([bytes("abcd\r\n")], { maxLineBytes: max }), ["abcd"]);
  assert.deepEqual(lines(byteByByte(bytes("abcd\r\n")), { maxLineBytes: max }), ["abcd"]);
  assert.deepEqual(lines([bytes("abcd"), bytes("\r"), bytes("\n")], { maxLineBytes: max }), [
    "abcd",
  ]);
  assert.deepEqual(lines([bytes("abcde\r\n")], { maxLineBytes: max }), ["<overflow 6>"]);
});

Deno.test("LineSplitter decodes invalid UTF-8 as U+FFFD without throwing", () => {
  assert.deepEqual(lines([bytes("a", [0xff], "b\n", [0xc3], "\n", [0xe2, 0x82], "x\n")]), [
    "a\uFFFDb",
    "\uFFFD",
    "\uFFFDx",
  ]);
});

Deno.test("LineSplitter decodes a multi-byte character split across chunks", () => {
  const data = bytes("€ and 😀\n"); // 3-byte and 4-byte sequences
  for (let cut = 1; cut < data.length; cut++) {
    assert.deepEqual(
      lines([data.subarray(0, cut), data.subarray(cut)]),
      ["€ and 😀"],
      `cut ${cut}`,
    );
  }
  assert.deepEqual(lines(byteByByte(data)), ["€ and 😀"]);
});

Deno.test("LineSplitter does not carry a broken character over into the next line", () => {
  assert.deepEqual(lines([bytes([0xe2, 0x82]), bytes("\n", [0xac], "\n")]), ["\uFFFD", "\uFFFD"]);
});

Deno.test("LineSplitter does not keep references to the pushed chunks", () => {
  const chunk = bytes("abc");
  const splitter = new LineSplitter();
  const seen: string[] = [];
  const sink = { line: (t: string) => seen.push(t), overflow: () => {} };
  splitter.push(chunk, sink);
  chunk.fill(0x5a); // the caller reuses its read buffer
  splitter.push(bytes("\n"), sink);
  assert.deepEqual(seen, ["abc"]);
});

Deno.test("LineSplitter.pushBytes() reports the same lines as push(), as bytes", () => {
  const data = bytes("a\r\nb", [0xff], "\n", "x".repeat(40), "\nlast\n");
  const splitter = new LineSplitter({ maxLineBytes: 16, startOffset: 5 });
  const seen: Output[] = [];
  const decoder = new TextDecoder();
  for (const chunk of [data.subarray(0, 3), data.subarray(3, 30), data.subarray(30)]) {
    splitter.pushBytes(chunk, {
      // The view is only valid during the call: decode it right away.
      line: (view, end) => seen.push({ kind: "line", text: decoder.decode(view), end }),
      overflow: (n, end) => seen.push({ kind: "overflow", bytes: n, end }),
    });
  }
  assert.deepEqual(seen, split([data], { maxLineBytes: 16, startOffset: 5 }));
  assert.deepEqual(seen.map((o) => o.kind === "line" ? o.text : o.bytes), [
    "a",
    "b\uFFFD",
    40,
    "last",
  ]);
});

Deno.test("LineSplitter constructor rejects an invalid maxLineBytes", () => {
  for (const maxLineBytes of [0, -1, 1.5, NaN]) {
    assert.throws(() => new LineSplitter({ maxLineBytes }), RangeError);
  }
});

// --- generated sequences against a reference ----------------------------------

/** The obvious splitter over the whole stream at once: what LineSplitter must match. */
function referenceSplit(data: Uint8Array, max: number, startOffset: number): Output[] {
  const out: Output[] = [];
  const decoder = new TextDecoder();
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== 0x0a) continue;
    const raw = data.subarray(start, i);
    const content = raw.length > 0 && raw[raw.length - 1] === 0x0d
      ? raw.subarray(0, raw.length - 1)
      : raw;
    const end = startOffset + i + 1;
    if (content.length > max) out.push({ kind: "overflow", bytes: raw.length, end });
    else out.push({ kind: "line", text: decoder.decode(content), end });
    start = i + 1;
  }
  return out;
}

/** A small seeded PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Byte sequences the generator strings together: text, line ends, UTF-8 and garbage. */
const PIECES: readonly number[][] = [
  [0x0a],
  [0x0a],
  [0x0d, 0x0a],
  [0x0d],
  [0x61],
  [0x62, 0x63, 0x64],
  [0x20],
  [0xc3, 0xa9], // é
  [0xe2, 0x82, 0xac], // €
  [0xf0, 0x9f, 0x98, 0x80], // 😀
  [0xff], // never valid
  [0xc3], // truncated sequence
  Array.from({ length: 20 }, () => 0x78),
];

Deno.test("LineSplitter matches a reference splitter on generated streams and chunkings", () => {
  const baseSeed = 20251211;
  for (let round = 0; round < 400; round++) {
    const seed = baseSeed + round;
    const random = prng(seed);
    const max = 1 + Math.floor(random() * 24);
    const startOffset = random() < 0.5 ? 0 : Math.floor(random() * 1e6);
    const stream: number[] = [];
    const pieces = Math.floor(random() * 120);
    for (let i = 0; i < pieces; i++) stream.push(...PIECES[Math.floor(random() * PIECES.length)]!);
    const data = Uint8Array.from(stream);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < data.length;) {
      const size = random() < 0.2 ? 1 : Math.floor(random() * 40);
      chunks.push(data.slice(at, at + size));
      at += size;
    }
    const expected = referenceSplit(data, max, startOffset);
    const context = `seed ${seed}, maxLineBytes ${max}, chunks ${
      JSON.stringify(chunks.map((c) => [...c]))
    }`;
    assert.deepEqual(split(chunks, { maxLineBytes: max, startOffset }), expected, context);
    assert.deepEqual(splitBytes(chunks, { maxLineBytes: max, startOffset }), expected, context);
  }
});

Deno.test("LineSplitter.compact() drops the partial-line buffer between lines, never a held line", () => {
  const splitter = new LineSplitter();
  const lines: string[] = [];
  const sink = { line: (text: string) => lines.push(text), overflow: () => {} };
  assert.equal(splitter.heldBytes, 0);
  splitter.push(new TextEncoder().encode("first li"), sink);
  splitter.compact();
  assert.ok(splitter.heldBytes > 0, "a partial line keeps its buffer");
  splitter.push(new TextEncoder().encode("ne\n"), sink);
  assert.deepEqual(lines, ["first line"]);
  splitter.compact();
  assert.equal(splitter.heldBytes, 0);
});
