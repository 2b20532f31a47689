/**
 * The journal's checkpoint: the cursor of the last journal entry
 * the server acknowledged (with every entry before it), so that after a
 * restart `journalctl --after-cursor=<cursor>` resumes exactly there.
 *
 * It is a file of its own beside the file offsets' state file
 * (state_file.ts), written the same atomic way: temp file, fsync, rename,
 * fsync of the directory, mode 0600. Format (version 1),
 * `<state dir>/journal-cursor.json`:
 *
 * ```json
 * {
 *   "version": 1,
 *   "savedAt": "2026-11-23T19:43:33.000Z",
 *   "cursor": "s=0123456789abcdef0123456789abcdef;i=1c2;b=…;m=…;t=…;x=…"
 * }
 * ```
 *
 * @module
 */

import { parseVersionedObject, SmallFile } from "./small_file.ts";

/** Version written into new cursor files; files with a higher version are refused. */
export const JOURNAL_CURSOR_FILE_VERSION = 1;
/** Name of the cursor file inside the state directory. */
export const JOURNAL_CURSOR_FILE_NAME = "journal-cursor.json";
/** Largest cursor file read, in bytes; a bigger file is treated as corrupt. */
export const MAX_JOURNAL_CURSOR_FILE_BYTES = 64 * 1024;
/** Longest cursor accepted, in characters (real ones are about 140). */
export const MAX_JOURNAL_CURSOR_CHARS = 1024;

/** Result of {@linkcode JournalCursorFile.load}. */
export type LoadJournalCursorResult =
  | { readonly status: "missing" }
  | { readonly status: "ok"; readonly cursor: string }
  | { readonly status: "corrupt"; readonly reason: string }
  | { readonly status: "unsupported"; readonly reason: string };

/**
 * Parses the text of a cursor file. Never throws.
 *
 * @param text The file's contents.
 * @returns The cursor, or why the text is unusable.
 * @example
 * ```ts
 * parseJournalCursorFile('{"version":1,"cursor":"s=ab;i=1"}'); // { status: "ok", cursor: "s=ab;i=1" }
 * ```
 */
export function parseJournalCursorFile(text: string): LoadJournalCursorResult {
  const envelope = parseVersionedObject(text, JOURNAL_CURSOR_FILE_VERSION);
  if (envelope.status !== "ok") return envelope;
  const { cursor } = envelope.fields;
  if (
    typeof cursor !== "string" || cursor.length === 0 || cursor.length > MAX_JOURNAL_CURSOR_CHARS ||
    // A cursor goes on journalctl's command line: printable ASCII only.
    !/^[\x21-\x7e]+$/.test(cursor)
  ) {
    return { status: "corrupt", reason: "cursor is invalid" };
  }
  return { status: "ok", cursor };
}

/**
 * Loads and atomically saves the journal cursor in one directory. Saves must
 * not overlap: the caller runs one at a time.
 *
 * @example
 * ```ts
 * const file = new JournalCursorFile("/var/lib/nms-agent");
 * const loaded = await file.load();
 * await file.save("s=0123456789abcdef0123456789abcdef;i=1c2");
 * ```
 */
export class JournalCursorFile extends SmallFile {
  /**
   * @param dir The state directory; created (mode 0700) on first save.
   */
  constructor(dir: string) {
    super(dir, JOURNAL_CURSOR_FILE_NAME, {
      maxBytes: MAX_JOURNAL_CURSOR_FILE_BYTES,
      what: "journal cursor file",
    });
  }

  /**
   * Reads the cursor. Never throws for a missing or damaged file.
   *
   * @returns The cursor, or why there is none.
   * @throws {Error} When the directory cannot be read at all (a configuration error).
   */
  async load(): Promise<LoadJournalCursorResult> {
    const read = await this.read();
    return read.status === "ok" ? parseJournalCursorFile(read.text) : read;
  }

  /**
   * Replaces the cursor atomically: readers see the old or the new one,
   * whatever moment the process or machine dies.
   *
   * @param cursor The cursor of the last acknowledged entry.
   * @param savedAt When, in ms since the epoch (informational).
   * @returns Resolves once the new cursor is durable.
   */
  async save(cursor: string, savedAt: number = Date.now()): Promise<void> {
    const text = JSON.stringify(
      {
        version: JOURNAL_CURSOR_FILE_VERSION,
        savedAt: new Date(savedAt).toISOString(),
        cursor,
      },
      null,
      2,
    ) + "\n";
    await this.write(text);
  }
}
