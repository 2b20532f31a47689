import assert from "node:assert/strict";
import { errorMessage } from "./error_message.ts";

Deno.test("errorMessage() returns an Error's message", () => {
  assert.equal(errorMessage(new RangeError("Invalid port 0")), "Invalid port 0");
  assert.equal(errorMessage(new Deno.errors.NotFound("No such file")), "No such file");
});

Deno.test("errorMessage() turns anything else thrown into text", () => {
  assert.equal(errorMessage("plain text"), "plain text");
  assert.equal(errorMessage(42), "42");
  assert.equal(errorMessage(undefined), "undefined");
  assert.equal(errorMessage(null), "null");
});
