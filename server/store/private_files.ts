/**
 * The database holds every collected log line, the password hashes and the
 * token hashes: its files are readable by the server's user only, whatever
 * the umask. A data directory the server creates is 0700; the database file
 * is created 0600 before SQLite opens it, and SQLite gives its write-ahead
 * log and shared-memory files the database file's mode. Files of an existing
 * database are tightened to 0600 too (the directory, which may be shared, is
 * left as it is).
 *
 * @module
 */

import { dirname } from "node:path";

/** Mode of a data directory the server creates: owner only. */
export const DATA_DIR_MODE = 0o700;
/** Mode of the database and its `-wal` and `-shm` files: owner read and write. */
export const DATABASE_FILE_MODE = 0o600;
/** Files SQLite keeps beside a database in WAL mode. */
const COMPANION_SUFFIXES = ["-wal", "-shm"] as const;

/**
 * Creates the database's directory (0700) and file (0600) if missing, and
 * takes group and other permissions away from existing database files.
 *
 * @param path The SQLite database file.
 * @returns Resolves when done; a file the server does not own is left as it is.
 * @example
 * ```ts
 * await preparePrivateDatabase("./data/nms.db");
 * ```
 */
export async function preparePrivateDatabase(path: string): Promise<void> {
  const dir = dirname(path);
  if (!await exists(dir)) {
    await Deno.mkdir(dir, { recursive: true, mode: DATA_DIR_MODE });
    await Deno.chmod(dir, DATA_DIR_MODE); // the umask may have taken bits away: set them all
  }
  if (!await exists(path)) {
    try {
      // An empty file is an empty database; SQLite copies its mode to -wal and -shm.
      (await Deno.open(path, { createNew: true, write: true, mode: DATABASE_FILE_MODE })).close();
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  for (const file of [path, ...COMPANION_SUFFIXES.map((suffix) => path + suffix)]) {
    await tighten(file);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Sets a file to 0600 when it is more open than that; ignores a missing or foreign file. */
async function tighten(file: string): Promise<void> {
  let mode: number | null;
  try {
    mode = (await Deno.stat(file)).mode;
  } catch {
    return;
  }
  if (mode === null || (mode & 0o777) === DATABASE_FILE_MODE) return;
  try {
    await Deno.chmod(file, DATABASE_FILE_MODE);
  } catch (error) {
    if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
  }
}
