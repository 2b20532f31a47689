import assert from "node:assert/strict";
import { crc32 } from "./_crc32.ts";

Deno.test("crc32() gives the standard CRC-32 check value and tells one changed byte", () => {
  const bytes = new TextEncoder().encode("123456789");
  assert.equal(crc32(bytes), 0xcbf43926);
  assert.equal(crc32(new Uint8Array()), 0);
  bytes[4] = bytes[4]! ^ 1;
  assert.notEqual(crc32(bytes), 0xcbf43926);
});
