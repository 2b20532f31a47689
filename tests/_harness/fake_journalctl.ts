/**
 * A stand-in for `journalctl` in tests (`--journal`): a shell script
 * that serves a file of JSON entries, one per line, the way
 * `journalctl --output=json` would, so the journal source can be tested on
 * machines whose journal is empty or absent.
 *
 * - without `--follow`: prints the last `--lines=N` entries and exits;
 * - `--follow --lines=0`: prints entries appended from now on;
 * - `--follow --after-cursor=C`: prints the entries after the one whose
 *   `__CURSOR` is C, then those appended later.
 *
 * It `exec`s `tail -f`, so killing it leaves no process behind. Every
 * invocation appends its arguments as one line to `argsPath`.
 *
 * @module
 */

import { join } from "node:path";

/** A fake journal: the script, its entries and the log of its invocations. */
export interface FakeJournal extends AsyncDisposable {
  /** Directory holding the script as `journalctl` (put it first in PATH). */
  readonly binDir: string;
  /** The script. */
  readonly command: string;
  /** Entries, one JSON object per line. */
  readonly journalPath: string;
  /** One line per invocation: its arguments. */
  readonly argsPath: string;
  /** Appends entries (as journald would write them). */
  append(...entries: Record<string, unknown>[]): Promise<void>;
  /** The arguments of every invocation so far. */
  invocations(): Promise<string[]>;
}

/** The seqnum id of the fake journal's entries. */
export const FAKE_SEQNUM_ID = "0123456789abcdef0123456789abcdef";
/** The machine id of the fake journal's entries. */
export const FAKE_MACHINE_ID = "fedcba9876543210fedcba9876543210";

/**
 * The cursor of the fake entry with sequence number `seqnum`.
 *
 * @param seqnum The entry's sequence number.
 * @returns A cursor in journald's format.
 */
export function fakeCursor(seqnum: number): string {
  return `s=${FAKE_SEQNUM_ID};i=${seqnum.toString(16)};b=6b1d;m=${seqnum};t=5f2c3d;x=${seqnum}`;
}

/**
 * A realistic journal entry.
 *
 * @param seqnum Its sequence number.
 * @param message MESSAGE (text or bytes).
 * @param fields More fields, overriding the defaults.
 * @returns The entry object.
 */
export function fakeEntry(
  seqnum: number,
  message: string | number[],
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    __CURSOR: fakeCursor(seqnum),
    __REALTIME_TIMESTAMP: String(1_795_462_813_000_000 + seqnum * 1_000_000),
    __MONOTONIC_TIMESTAMP: String(seqnum * 1000),
    _BOOT_ID: "6b1d00000000000000000000000000aa",
    _MACHINE_ID: FAKE_MACHINE_ID,
    _HOSTNAME: "journal-host",
    SYSLOG_IDENTIFIER: "app",
    _PID: "4242",
    PRIORITY: "6",
    SYSLOG_FACILITY: "3",
    MESSAGE: message,
    ...fields,
  };
}

const SCRIPT = `#!/bin/sh
# Fake journalctl for NMS tests (tests/_harness/fake_journalctl.ts).
J="$FAKE_JOURNAL"
echo "$*" >> "$FAKE_JOURNAL_ARGS"
after=""; follow=0; lines=10
for a in "$@"; do
  case "$a" in
    --after-cursor=*) after="\${a#--after-cursor=}" ;;
    --follow) follow=1 ;;
    --lines=*) lines="\${a#--lines=}" ;;
  esac
done
if [ "$follow" = 0 ]; then tail -n "$lines" "$J"; exit 0; fi
if [ -n "$after" ]; then
  n=$(grep -n -F "\\"__CURSOR\\":\\"$after\\"" "$J" | head -n 1 | cut -d: -f1)
  exec tail -n "+$(( \${n:-0} + 1 ))" -f "$J"
fi
exec tail -n 0 -f "$J"
`;

/**
 * Creates a fake journalctl in a new temp directory.
 *
 * @param entries Entries already in the journal.
 * @returns The fake journal; dispose it with `await using`.
 * @example
 * ```ts
 * await using journal = await createFakeJournal([fakeEntry(1, "booted")]);
 * ```
 */
export async function createFakeJournal(
  entries: Record<string, unknown>[] = [],
): Promise<FakeJournal> {
  const dir = await Deno.makeTempDir({ prefix: "nms-fake-journal-" });
  const binDir = join(dir, "bin");
  await Deno.mkdir(binDir);
  const journalPath = join(dir, "journal.jsonl");
  const argsPath = join(dir, "args.log");
  // The script finds its files through variables baked in here, so it also
  // works when run through PATH by a subprocess with another environment.
  const command = join(binDir, "journalctl");
  await Deno.writeTextFile(
    command,
    SCRIPT.replace(
      "#!/bin/sh\n",
      `#!/bin/sh\nFAKE_JOURNAL='${journalPath}'\nFAKE_JOURNAL_ARGS='${argsPath}'\n`,
    ),
    { mode: 0o755 },
  );
  await Deno.writeTextFile(journalPath, entries.map((e) => JSON.stringify(e) + "\n").join(""));
  await Deno.writeTextFile(argsPath, "");
  return {
    binDir,
    command,
    journalPath,
    argsPath,
    append: (...more) =>
      Deno.writeTextFile(journalPath, more.map((e) => JSON.stringify(e) + "\n").join(""), {
        append: true,
      }),
    invocations: async () =>
      (await Deno.readTextFile(argsPath)).split("\n").filter((line) => line.length > 0),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
