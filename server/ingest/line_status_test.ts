import assert from "node:assert/strict";
import { FAIL } from "../../protocol/mod.ts";
import { APPEND_STATUS } from "../store/mod.ts";
import { failureReason, failureStatus, mergeStatuses } from "./line_status.ts";

Deno.test("every ACK FAIL reason survives the round trip through a status byte", () => {
  for (const reason of Object.values(FAIL)) {
    const status = failureStatus(reason);
    assert.ok(status > APPEND_STATUS.duplicate && status < 256, reason);
    assert.equal(failureReason(status), reason);
  }
  assert.equal(failureReason(APPEND_STATUS.stored), null);
  assert.equal(failureReason(APPEND_STATUS.duplicate), null);
});

Deno.test("mergeStatuses() puts the store's statuses between the rejected lines, in order", () => {
  const bad = failureStatus(FAIL.usageEvent);
  const stored = Uint8Array.of(APPEND_STATUS.stored, APPEND_STATUS.duplicate, APPEND_STATUS.stored);
  assert.deepEqual(
    [...mergeStatuses(Uint8Array.of(bad, 0, 0, bad, 0), stored)],
    [bad, APPEND_STATUS.stored, APPEND_STATUS.duplicate, bad, APPEND_STATUS.stored],
  );
  assert.equal(mergeStatuses(null, stored), stored);
  assert.deepEqual([...mergeStatuses(Uint8Array.of(bad, bad), new Uint8Array(0))], [bad, bad]);
});
