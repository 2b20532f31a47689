import assert from "node:assert/strict";
import { newStreamId } from "./stream_id.ts";

Deno.test("newStreamId() returns 22 URL-safe characters, different every time", () => {
  const ids = new Set(Array.from({ length: 1_000 }, () => newStreamId()));
  assert.equal(ids.size, 1_000);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
});
