/**
 * Rotation by the real logrotate (https://github.com/logrotate/logrotate, Debian's package), short
 * form: per scheme a few `logrotate -f` runs while numbered lines are written, the agent killed
 * with SIGKILL before one of them and the server before another (down until the agent has noticed
 * the rotation, so the agent is behind when it happens). Nothing still on disk may be lost, nothing
 * stored twice, order must hold, and a loss the agent could see must have a gap event. The long
 * form is `deno task soak -- --logrotate`; its figures are in docs/DELIVERY.md.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  hasLogrotate,
  LOGROTATE,
  LOGROTATE_SCHEMES,
  type LogrotateRun,
  runLogrotateScenario,
} from "./_logrotate.ts";

/** Longest wait for the last lines to be stored, in ms (slow, shared CI machines). */
const DRAIN_TIMEOUT_MS = 60_000;

function describe(run: LogrotateRun): string {
  return JSON.stringify({
    written: run.written,
    storedOnce: run.storedOnce,
    lost: run.lost,
    goneFromDisk: run.goneFromDisk,
    lostOnDisk: run.lostOnDisk,
    lostOnDiskExamples: run.lostOnDiskExamples,
    duplicated: run.duplicated,
    duplicateExamples: run.duplicateExamples,
    outOfOrder: run.outOfOrder,
    outOfOrderInFile: run.outOfOrderInFile,
    foreign: run.foreign.slice(0, 3),
    gaps: run.gapMessages.slice(0, 3),
    files: run.files,
  }) + `\nagent log tail:\n${run.agentLog.slice(-6000)}`;
}

for (const scheme of LOGROTATE_SCHEMES) {
  Deno.test({
    name: hasLogrotate
      ? `nms-agent loses nothing still on disk when logrotate rotates with ${scheme}, agent and server killed`
      : `logrotate ${scheme} (ignored: ${LOGROTATE} is not installed; .ci/run installs the logrotate package)`,
    ignore: !hasLogrotate,
    async fn() {
      const run = await runLogrotateScenario({
        scheme,
        rotations: 4,
        rotationIntervalMs: 600,
        rate: 2_000,
        faults: [
          { kind: "agent SIGKILL", beforeRotation: 2 },
          { kind: "server SIGKILL", beforeRotation: 3 },
        ],
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
      });
      const message = describe(run);
      assert.equal(run.lostOnDisk, 0, `lines lost although still on disk: ${message}`);
      assert.equal(run.duplicated, 0, `lines stored twice: ${message}`);
      assert.equal(run.outOfOrder, 0, `lines out of order within a stream: ${message}`);
      assert.equal(run.outOfOrderInFile, 0, `lines out of order: ${message}`);
      assert.deepEqual(run.foreign, [], `stored lines that are not whole lines: ${message}`);
      assert.equal(run.unreportedLosses, 0, `losses the agent could see without a gap: ${message}`);
      assert.ok(run.storedOnce > 0);
    },
  });
}
