import assert from "node:assert/strict";
import { decodeLogBytes, encodeLogText } from "./log_bytes.ts";

Deno.test("decodeLogBytes() leaves UTF-8 as it is and escapes Latin-1 recoverably", () => {
  assert.deepEqual(decodeLogBytes(new TextEncoder().encode("café \\ ok")), {
    text: "café \\ ok",
    escaped: false,
  });
  const latin1 = Uint8Array.of(0x63, 0x61, 0x66, 0xe9, 0x20, 0x5c, 0x78, 0x34, 0x31);
  const decoded = decodeLogBytes(latin1);
  assert.deepEqual(decoded, { text: "caf\\xe9 \\\\x41", escaped: true });
  assert.deepEqual(encodeLogText(decoded.text, decoded.escaped), latin1);
});

Deno.test("encodeLogText() gives back every byte sequence decodeLogBytes() escaped", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = [
    0x41,
    0x5c,
    0x78,
    0xc3,
    0xa9,
    0xe2,
    0x82,
    0xac,
    0xf0,
    0x9f,
    0x98,
    0x80,
    0xff,
    0x80,
    0xed,
    0xa0,
  ];
  for (let n = 0; n < 2000; n++) {
    const bytes = Uint8Array.from(
      { length: Math.floor(random() * 24) },
      () => alphabet[Math.floor(random() * alphabet.length)]!,
    );
    const { text, escaped } = decodeLogBytes(bytes);
    assert.deepEqual(encodeLogText(text, escaped), bytes, `bytes ${[...bytes]}`);
  }
});
