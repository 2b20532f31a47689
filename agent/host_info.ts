/**
 * What the agent tells the server about itself in `REGISTER <version>
 * <hostname> <os>`.
 *
 * @module
 */

import { BUILD_VERSION } from "./build_info.ts";

/** Version of this agent, sent in REGISTER and printed by `nms-agent version` (deno.json `version`). */
export const AGENT_VERSION: string = BUILD_VERSION;

/** Where Linux distributions describe themselves (os-release(5)). */
export const OS_RELEASE_PATHS: readonly string[] = ["/etc/os-release", "/usr/lib/os-release"];

/** Longest hostname or OS name sent, in characters; longer values are cut. */
export const MAX_HOST_FIELD_CHARS = 255;

/** The fields of a REGISTER command. */
export interface HostInfo {
  /** Agent version, {@linkcode AGENT_VERSION}. */
  readonly version: string;
  /** Host name without spaces (REGISTER separates fields by spaces). */
  readonly hostname: string;
  /** Human-readable OS name, e.g. `Debian GNU/Linux 12 (bookworm)`; may contain spaces. */
  readonly os: string;
}

/** Options of {@linkcode readHostInfo}. */
export interface HostInfoOptions {
  /**
   * Files tried in order for `PRETTY_NAME`.
   * @default {OS_RELEASE_PATHS}
   */
  osReleasePaths?: readonly string[];
}

/**
 * Extracts `PRETTY_NAME` from the text of an os-release file.
 *
 * @param text Contents of `/etc/os-release`.
 * @returns The unquoted pretty name, or undefined when absent.
 * @example
 * ```ts
 * parsePrettyName('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
 * // "Debian GNU/Linux 12 (bookworm)"
 * ```
 */
export function parsePrettyName(text: string): string | undefined {
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (!line.startsWith("PRETTY_NAME=")) continue;
    let value = line.slice("PRETTY_NAME=".length);
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
    }
    // os-release allows shell escapes of ", \, ` and $ inside double quotes.
    value = value.replace(/\\(["\\`$])/g, "$1");
    return value.length > 0 ? value : undefined;
  }
  return undefined;
}

/**
 * Makes a value safe for one protocol field: no control characters, and no
 * spaces when `allowSpaces` is false.
 *
 * @param value The raw value.
 * @param allowSpaces Whether spaces may stay (the OS field is the last one).
 * @returns The cleaned value, `unknown` when nothing is left.
 * @example
 * ```ts
 * sanitizeField("my host\n", false); // "my-host"
 * ```
 */
export function sanitizeField(value: string, allowSpaces: boolean): string {
  // deno-lint-ignore no-control-regex
  let clean = value.replace(/[\u0000-\u001f\u007f]/g, " ").trim();
  clean = allowSpaces ? clean.replace(/ +/g, " ") : clean.replace(/\s+/g, "-");
  clean = clean.slice(0, MAX_HOST_FIELD_CHARS);
  return clean.length > 0 ? clean : "unknown";
}

/**
 * Reads the host name (`Deno.hostname()`) and the OS name (`PRETTY_NAME`
 * from os-release, else `Deno.build.os`). Never throws.
 *
 * @param options Where to look for os-release.
 * @returns The REGISTER fields.
 * @example
 * ```ts
 * const info = await readHostInfo();
 * // { version: "0.1.0", hostname: "web-1", os: "Debian GNU/Linux 12 (bookworm)" }
 * ```
 */
export async function readHostInfo(options: HostInfoOptions = {}): Promise<HostInfo> {
  let hostname = "unknown";
  try {
    hostname = Deno.hostname();
  } catch {
    // No permission or no name: the server still accepts "unknown".
  }
  let os: string | undefined;
  for (const path of options.osReleasePaths ?? OS_RELEASE_PATHS) {
    try {
      os = parsePrettyName(await Deno.readTextFile(path));
    } catch {
      continue;
    }
    if (os !== undefined) break;
  }
  return {
    version: AGENT_VERSION,
    hostname: sanitizeField(hostname, false),
    os: sanitizeField(os ?? Deno.build.os, true),
  };
}
