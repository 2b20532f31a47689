/**
 * A logging program for the logrotate runs (tests/faults/_logrotate.ts), as a
 * process of its own so that logrotate's `postrotate` can signal it as it
 * would a daemon: it appends numbered lines `line <name>-<n> <filler>` to one
 * file through a descriptor opened in append mode, whole lines per write, at
 * a steady rate; on SIGHUP it closes and reopens the path (after a rename
 * rotation the lines go on into the renamed file until then); on SIGTERM it
 * finishes its write, prints `written=<n>` and exits.
 *
 * Usage: `deno run -A tests/faults/_line_writer.ts --path FILE --name NAME
 * --rate LINES_PER_S [--lines-per-write N] [--pad BYTES]`. Prints `ready`
 * once the file is open.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { writeAll } from "../_harness/write_all.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    path: { type: "string" },
    name: { type: "string" },
    rate: { type: "string", default: "2000" },
    "lines-per-write": { type: "string", default: "10" },
    pad: { type: "string", default: "40" },
  },
});

const encoder = new TextEncoder();
const path = values.path;
const name = values.name;
const rate = Number(values.rate);
const linesPerWrite = Number(values["lines-per-write"]);
const pad = " " + "x".repeat(Number(values.pad));
if (path === undefined || name === undefined || !(rate > 0) || !(linesPerWrite > 0)) {
  Deno.stderr.writeSync(encoder.encode("line writer: --path, --name and a rate are required\n"));
  Deno.exit(2);
}

/** Longest catch-up in lines after a stall (a loaded machine), so one write stays bounded. */
const MAX_LINES_PER_TICK = 1_000;

let reopen = false;
let stopping = false;
let wake: (() => void) | undefined;
Deno.addSignalListener("SIGHUP", () => reopen = true);
Deno.addSignalListener("SIGTERM", () => {
  stopping = true;
  wake?.();
});

const open = () => Deno.open(path, { append: true, create: true });
let file = await open();
Deno.stdout.writeSync(encoder.encode("ready\n"));

async function writeLines(count: number): Promise<void> {
  let text = "";
  for (let i = 0; i < count; i++) text += `line ${name}-${next++}${pad}\n`;
  const bytes = encoder.encode(text);
  await writeAll(file, bytes);
}

let next = 0;
const startedAt = performance.now();
const tickMs = Math.max(1, (1000 * linesPerWrite) / rate);
while (!stopping) {
  if (reopen) {
    reopen = false;
    file.close();
    file = await open();
  }
  const due = Math.floor(((performance.now() - startedAt) * rate) / 1000);
  let owed = Math.min(due - next, MAX_LINES_PER_TICK);
  while (owed > 0) {
    const count = Math.min(owed, linesPerWrite);
    await writeLines(count);
    owed -= count;
  }
  await new Promise<void>((resolve) => {
    wake = resolve;
    setTimeout(resolve, tickMs);
  });
}
file.close();
Deno.stdout.writeSync(encoder.encode(`written=${next}\n`));
Deno.exit(0);
