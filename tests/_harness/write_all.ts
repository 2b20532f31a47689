/**
 * Writes a whole buffer to a socket or file whose `write()` may take only
 * part of it: what every test client, fault writer and benchmark sender needs.
 *
 * @module
 */

/** Anything with Deno's `write()`: a `Deno.Conn`, a `Deno.FsFile`. */
export interface ByteWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Writes every byte, looping over partial writes.
 *
 * @param writer The socket or file.
 * @param bytes What to write.
 * @example
 * ```ts
 * await writeAll(conn, new TextEncoder().encode("HEARTBEAT 1\n"));
 * ```
 */
export async function writeAll(writer: ByteWriter, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await writer.write(bytes.subarray(written));
}
