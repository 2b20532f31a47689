/**
 * `deno task soak -- --logrotate`: the long form of tests/faults/logrotate_test.ts. For each
 * logrotate scheme (create + postrotate SIGHUP, create + delaycompress + compress, copytruncate,
 * copytruncate + compress) one run with the agent killed twice (SIGKILL, each time down across two
 * rotations) and one with the server killed once (SIGKILL, down across three rotations, about 8 s):
 * a writer appending numbered lines at `--rate` lines/s for `--minutes`, `logrotate -f` every 3 s.
 * Prints one table row per run (the figures of docs/DELIVERY.md) and exits 1 when any run lost a
 * line still on disk, stored one twice, broke the order within a stream, stored a fragment, or lost
 * lines the agent could see without a gap event.
 *
 * @module
 */

import {
  hasLogrotate,
  LOGROTATE,
  LOGROTATE_SCHEMES,
  type LogrotateFault,
  type LogrotateRun,
  REPORT_HEADER,
  reportRow,
  runLogrotateScenario,
} from "../faults/_logrotate.ts";

/** Pause before each rotation, in ms: `logrotate -f` every 3 s. */
const ROTATION_INTERVAL_MS = 3_000;
/** Longest wait for the lines still on disk to be stored after a run, in ms. */
const DRAIN_TIMEOUT_MS = 180_000;

/** Options of {@linkcode runLogrotateSoak}. */
export interface LogrotateSoakOptions {
  /** Length of each run's writing, in minutes. */
  readonly minutes: number;
  /** Lines per second written. */
  readonly rate: number;
  /** Where progress and the table go. */
  readonly out: (line: string) => void;
}

/** The faults of each scheme's runs, for a run of `rotations` rotations. */
function faultPlans(rotations: number): { label: string; faults: LogrotateFault[] }[] {
  const at = (share: number) => Math.max(1, Math.round(rotations * share));
  return [
    {
      label: "agent SIGKILL ×2",
      faults: [
        { kind: "agent SIGKILL", beforeRotation: at(0.25), rotationsWhileDown: 2 },
        { kind: "agent SIGKILL", beforeRotation: at(0.6), rotationsWhileDown: 2 },
      ],
    },
    {
      label: "server SIGKILL",
      faults: [{ kind: "server SIGKILL", beforeRotation: at(0.4), rotationsWhileDown: 3 }],
    },
  ];
}

function violated(run: LogrotateRun): boolean {
  return run.lostOnDisk > 0 || run.duplicated > 0 || run.outOfOrder > 0 ||
    run.outOfOrderInFile > 0 ||
    run.foreign.length > 0 || run.unreportedLosses > 0;
}

/**
 * Runs every scheme with each fault plan and prints the table.
 *
 * @param options Length, rate and output.
 * @returns The exit code: 0 when every run kept the guarantee, else 1.
 */
export async function runLogrotateSoak(options: LogrotateSoakOptions): Promise<number> {
  const { out } = options;
  if (!hasLogrotate) {
    out(`soak: ${LOGROTATE} is not installed (apt-get install logrotate)`);
    return 1;
  }
  // Writing lasts one interval longer than the rotations: 19 rotations in a minute.
  const rotations = Math.max(4, Math.round((options.minutes * 60_000) / ROTATION_INTERVAL_MS) - 1);
  out(
    `soak --logrotate: ${rotations} rotations ${ROTATION_INTERVAL_MS / 1000} s apart per run, ` +
      `${options.rate} lines/s`,
  );
  const rows: string[] = [];
  let failed = false;
  for (const scheme of LOGROTATE_SCHEMES) {
    for (const plan of faultPlans(rotations)) {
      const label = `${scheme}, ${plan.label}`;
      out(`soak: ${label}`);
      let row: string;
      try {
        const run = await runLogrotateScenario({
          scheme,
          rotations,
          rotationIntervalMs: ROTATION_INTERVAL_MS,
          rate: options.rate,
          faults: plan.faults,
          drainTimeoutMs: DRAIN_TIMEOUT_MS,
          progress: out,
        });
        row = reportRow(label, run);
        out(`${row} (${(run.elapsedMs / 1000).toFixed(0)} s)`);
        for (const message of run.gapMessages.slice(0, 3)) out(`  gap event: ${message}`);
        if (violated(run)) {
          failed = true;
          out(
            `  FAILED: lost on disk ${run.lostOnDiskExamples}; duplicates ${
              run.duplicateExamples.join("; ")
            }; fragments ${JSON.stringify(run.foreign.slice(0, 3))}`,
          );
          out(`  agent log tail:\n${run.agentLog.slice(-4000)}`);
        }
      } catch (error) {
        failed = true;
        row = `| ${label} | failed: ${(error as Error).message.split("\n")[0]} |`;
        out(`  FAILED: ${(error as Error).message}`);
      }
      rows.push(row);
    }
  }
  out("");
  out(REPORT_HEADER);
  for (const row of rows) out(row);
  return failed ? 1 : 0;
}
