/**
 * Replacing a small file so that, whatever moment the process or the machine
 * dies, a reader finds either the old contents or the new ones, never a mix:
 * the state file and the journal cursor file are written this way.
 *
 * @module
 */

import { dirname } from "node:path";

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
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is done anyway.
  }
}
