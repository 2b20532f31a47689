/**
 * docs/PROTOCOL.md quotes every wire string of `protocol/messages.ts` and
 * every shared limit of `protocol/limits.ts` (STYLE.md practice 6): when a
 * constant changes, this test names the paragraph to update.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  FAIL,
  formatAck,
  MAX_CONSECUTIVE_BAD_LINES,
  MAX_LINE_BYTES,
  OK,
  PROTOCOL_VERSION,
  WELCOME_LINE,
} from "../protocol/mod.ts";

const DOC = await Deno.readTextFile(new URL("../docs/PROTOCOL.md", import.meta.url));

Deno.test("docs/PROTOCOL.md quotes the welcome line", () => {
  assert.ok(DOC.includes("\n" + WELCOME_LINE + "\n"), WELCOME_LINE);
});

Deno.test("docs/PROTOCOL.md quotes every ACK OK text and ACK FAIL reason", () => {
  const missing = [
    ...Object.values(OK).map((text) => formatAck(true, text)),
    ...Object.values(FAIL).map((reason) => formatAck(false, reason)),
  ].filter((line) => !DOC.includes(line));
  assert.deepEqual(missing, [], `not in docs/PROTOCOL.md:\n${missing.join("\n")}`);
});

Deno.test("docs/PROTOCOL.md states the current limits and protocol version", () => {
  assert.equal(MAX_LINE_BYTES, 65_536, "update the Framing section of docs/PROTOCOL.md");
  assert.ok(DOC.includes("**65,536 bytes**"));
  const badLinesRow = /^\| `MAX_CONSECUTIVE_BAD_LINES`\s*\| (\d+)\s*\|/m.exec(DOC);
  assert.equal(Number(badLinesRow?.[1]), MAX_CONSECUTIVE_BAD_LINES);
  assert.ok(DOC.includes(`# The NMS agent protocol (version ${PROTOCOL_VERSION})`));
});
