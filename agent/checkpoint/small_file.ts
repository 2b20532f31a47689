/**
 * The agent's small files (the state file, the journal cursor file): read
 * with a size bound, and replaced so that, whatever moment the process or
 * the machine dies, a reader finds either the old contents or the new ones,
 * never a mix.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { dirname, join } from "../_posix_path.ts";

/**
 * Writes `bytes` to `path` atomically and durably, with mode 0600, creating
 * its directory (mode 0700) if needed. The temp file `<path>.tmp` is truncated
 * by the next write if a crash leaves it behind.
 *
 * @param path The file to replace.
 * @param bytes Its new contents.
 * @returns Resolves once the new contents are durable.
 * @example
 * ```ts
 * await writeFileAtomically("/var/lib/nms-agent/agent-state.json", new TextEncoder().encode("{}"));
 * ```
 */
export async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tempPath = `${path}.tmp`;
  // The directory holds offsets, cursors and paths of log files: owner only.
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });

  // Step 1: write the whole new contents into a temp file beside the real one.
  // A crash here leaves the real file untouched.
  const file = await Deno.open(tempPath, {
    write: true,
    create: true,
    truncate: true,
    mode: 0o600,
  });
  try {
    // `mode` applies only when the file is created; a leftover temp file from
    // an older run might carry other bits.
    await Deno.chmod(tempPath, 0o600);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    // Step 2: fsync the temp file. After this its contents are on disk, so the
    // rename below can never expose an empty or partial file after a power
    // loss (the classic ext4 "zero-length file" failure).
    await file.sync();
  } finally {
    file.close();
  }

  // Step 3: rename over the real file. rename(2) is atomic: a crash before it
  // keeps the old contents, a crash after it has the new ones (if the
  // directory entry reached the disk; see step 4).
  await Deno.rename(tempPath, path);

  // Step 4: fsync the directory so the rename itself survives a power loss.
  // Before this, a power loss may bring back the old contents, which is still
  // safe for the agent: it then resends lines the server deduplicates.
  await syncDirectory(dir);
}

/**
 * Fsyncs a directory, so that the entries created or renamed in it survive a
 * power loss. A filesystem that refuses fsync on a directory is not an error:
 * the entries are made anyway, only their durability is not promised.
 *
 * @param dir The directory.
 * @returns Resolves once the directory is synced, or refused.
 * @example
 * ```ts
 * await syncDirectory("/var/lib/nms-agent");
 * ```
 */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory.
  }
}

/** What {@linkcode readSmallFile} found. */
export type SmallFileRead =
  | { readonly status: "missing" }
  | { readonly status: "corrupt"; readonly reason: string }
  | { readonly status: "ok"; readonly text: string };

/**
 * Reads a small text file. A missing, oversized or non-regular file is a
 * result, not an error: the caller starts fresh or moves the file aside.
 *
 * @param path The file.
 * @param options Largest size accepted, and what the file is (for the error).
 * @returns Its text, or why there is none.
 * @throws {Error} When it cannot be read at all (e.g. permission denied), a configuration error.
 * @example
 * ```ts
 * const read = await readSmallFile("/var/lib/nms-agent/agent-state.json", { maxBytes: 1 << 20, what: "agent state file" });
 * ```
 */
export async function readSmallFile(
  path: string,
  options: { maxBytes: number; what: string },
): Promise<SmallFileRead> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) return { status: "corrupt", reason: "not a regular file" };
    if (info.size > options.maxBytes) {
      return { status: "corrupt", reason: `larger than ${options.maxBytes} bytes` };
    }
    return { status: "ok", text: new TextDecoder().decode(await Deno.readFile(path)) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { status: "missing" };
    throw new Error(`Cannot read the ${options.what} ${path}: ${errorMessage(error)}`);
  }
}

/** What {@linkcode parseVersionedObject} found. */
export type VersionedObject =
  | {
    readonly status: "ok";
    readonly version: number;
    readonly fields: Readonly<Record<string, unknown>>;
  }
  /** Not a JSON object with a positive integer `version`. */
  | { readonly status: "corrupt"; readonly reason: string }
  /** A version newer than the one supported: written by a newer agent. */
  | { readonly status: "unsupported"; readonly reason: string };

/**
 * Parses the envelope of a small file: a JSON object with a `version` no
 * newer than the supported one. The caller checks the other fields. Never
 * throws.
 *
 * @param text The file's contents.
 * @param supportedVersion The newest version this agent reads.
 * @returns The object's fields and version, or why the text is unusable.
 * @example
 * ```ts
 * parseVersionedObject('{"version":1,"cursor":"s=ab;i=1"}', 1); // { status: "ok", version: 1, fields: {...} }
 * ```
 */
export function parseVersionedObject(text: string, supportedVersion: number): VersionedObject {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { status: "corrupt", reason: `invalid JSON (${errorMessage(error)})` };
  }
  if (typeof data !== "object" || data === null) {
    return { status: "corrupt", reason: "not an object" };
  }
  const fields = data as Record<string, unknown>;
  const { version } = fields;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version <= 0) {
    return { status: "corrupt", reason: "missing version" };
  }
  if (version > supportedVersion) {
    return {
      status: "unsupported",
      reason: `version ${version} is newer than the supported version ${supportedVersion}`,
    };
  }
  return { status: "ok", version, fields };
}

/**
 * One small file of the agent's state directory: where it is, reading it with
 * a size bound, moving a damaged one aside, and replacing it atomically. The
 * state file and the journal cursor file add their own format on top.
 *
 * @example
 * ```ts
 * const file = new SmallFile("/var/lib/nms-agent", "agent-state.json", {
 *   maxBytes: 1 << 20,
 *   what: "agent state file",
 * });
 * const read = await file.read();
 * ```
 */
export class SmallFile {
  /** Directory holding the file. */
  readonly dir: string;
  /** Full path of the file. */
  readonly path: string;
  readonly #limits: { maxBytes: number; what: string };

  /**
   * @param dir The state directory; created (mode 0700) on first write.
   * @param name The file's name in it.
   * @param limits Largest size accepted, and what the file is (for errors).
   */
  constructor(dir: string, name: string, limits: { maxBytes: number; what: string }) {
    if (dir.length === 0) throw new TypeError("Cannot use the state directory: empty path");
    this.dir = dir;
    this.path = join(dir, name);
    this.#limits = limits;
  }

  /**
   * Reads the file's text. Never throws for a missing or damaged file.
   *
   * @returns Its text, or why there is none.
   * @throws {Error} When the directory cannot be read at all (a configuration error).
   */
  read(): Promise<SmallFileRead> {
    return readSmallFile(this.path, this.#limits);
  }

  /**
   * Moves an unusable file aside to `<name>.corrupt`, so it can be inspected
   * and the next start does not trip over it again.
   *
   * @returns The path it was moved to.
   */
  async quarantine(): Promise<string> {
    const target = `${this.path}.corrupt`;
    await Deno.rename(this.path, target);
    return target;
  }

  /**
   * Replaces the file atomically: readers see the old or the new contents,
   * whatever moment the process or machine dies.
   *
   * @param text The new contents.
   * @returns Resolves once they are durable.
   */
  write(text: string): Promise<void> {
    return writeFileAtomically(this.path, new TextEncoder().encode(text));
  }
}
