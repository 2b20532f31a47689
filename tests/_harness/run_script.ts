/**
 * Runs a Deno script (a CLI entry point or a benchmark part) to completion, as
 * a user would from a shell, and returns what it printed.
 *
 * @module
 */

import { LINEAR_REGEX_V8_FLAGS } from "../../server/rules/linear_regex.ts";

/** What a script printed, and its exit code. */
export interface ScriptResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `deno run -A --v8-flags=<linear-time regex flags> <path> <args>`, as
 * the deno tasks and binaries run NMS, with this process's environment minus every
 * `NMS_*` variable (so a developer's settings cannot leak into a test), plus
 * `env` and `NO_COLOR=1`, with stdin closed.
 *
 * @param path The script's file path.
 * @param args Its arguments.
 * @param env Variables to set for this run (`NMS_*` settings, for instance).
 * @returns Its exit code and output, decoded.
 * @example
 * ```ts
 * const { code, stderr } = await runScript("server/main.ts", ["rules", "check", "rules.yaml"]);
 * ```
 */
export async function runScript(
  path: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ScriptResult> {
  const inherited = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("NMS_")),
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--v8-flags=${LINEAR_REGEX_V8_FLAGS}`, path, ...args],
    clearEnv: true,
    env: { ...inherited, ...env, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
