/**
 * Reading a password without it ever being on the command line: from a file,
 * from a hidden prompt on a terminal, or from the first line of stdin.
 *
 * @module
 */

import { UsageError } from "./context.ts";

/** Longest password accepted, in characters. */
const MAX_PASSWORD_CHARS = 1024;

/**
 * Reads a password from `file` if given, else prompts (without echo) on a
 * terminal, else reads the first line of stdin.
 *
 * @param options The file, and the prompt text.
 * @returns The password, without its trailing newline.
 * @throws {UsageError} When it is empty, too long, or the file cannot be read.
 * @example
 * ```ts
 * const password = await readPassword({ file: "/run/secrets/nms" });
 * ```
 */
export async function readPassword(
  options: { file?: string | undefined; prompt?: string },
): Promise<string> {
  let password: string;
  if (options.file !== undefined) {
    try {
      password = (await Deno.readTextFile(options.file)).split(/\r?\n/)[0] ?? "";
    } catch (error) {
      throw new UsageError(
        `Cannot read password file ${options.file}: ${(error as Error).message}`,
      );
    }
  } else if (Deno.stdin.isTerminal()) {
    password = await promptHidden(options.prompt ?? "Password: ");
  } else {
    password = await firstLineOfStdin();
  }
  if (password.length === 0) throw new UsageError("Password is empty");
  if (password.length > MAX_PASSWORD_CHARS) {
    throw new UsageError(`Password is longer than ${MAX_PASSWORD_CHARS} characters`);
  }
  return password;
}

async function firstLineOfStdin(): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of Deno.stdin.readable) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n") || text.length > MAX_PASSWORD_CHARS) break;
  }
  return text.split(/\r?\n/)[0] ?? "";
}

async function promptHidden(prompt: string): Promise<string> {
  const encoder = new TextEncoder();
  await Deno.stderr.write(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  let password = "";
  const buffer = new Uint8Array(1);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      const byte = buffer[0]!;
      if (byte === 13 || byte === 10) break;
      if (byte === 3) throw new Error("Cancelled");
      if (byte === 127 || byte === 8) password = password.slice(0, -1);
      else password += String.fromCharCode(byte);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
  return new TextDecoder().decode(Uint8Array.from(password, (c) => c.charCodeAt(0)));
}
