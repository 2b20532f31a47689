// deno-lint-ignore-file no-console -- --help prints the part's usage for the person running it
/**
 * Command lines of the benchmark parts. `--help` prints the part's usage (the
 * `Usage:` paragraph of its module comment), and an unknown option, a missing
 * one or a value it cannot take ends the run with one line on stderr and exit
 * code 2, never a stack trace.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/** Exit code of a command line the part cannot run with. */
const USAGE_EXIT_CODE = 2;

/**
 * Prints `error: <message> (see --help)` and ends the process with exit code 2.
 *
 * @param message What is wrong with the command line.
 * @example
 * ```ts
 * if (!url) usageError("--store expects a postgres:// URL");
 * ```
 */
export function usageError(message: string): never {
  Deno.stderr.writeSync(new TextEncoder().encode(`error: ${message} (see --help)\n`));
  Deno.exit(USAGE_EXIT_CODE);
}

/**
 * The `Usage:` paragraph of a module's leading comment, without its ` * `.
 *
 * @param source The module's source text.
 * @returns The paragraph, or an empty string when there is none.
 * @example
 * ```ts
 * console.log(usageOf(Deno.readTextFileSync(new URL(import.meta.url))));
 * ```
 */
export function usageOf(source: string): string {
  const lines = source.split("\n").map((line) => line.replace(/^\s*\*( |$)/, ""));
  const start = lines.findIndex((line) => line.startsWith("Usage:"));
  if (start < 0) return "";
  const end = lines.findIndex((line, i) => i > start && line.trim() === "");
  return lines.slice(start, end < 0 ? undefined : end).join("\n").trimEnd();
}

/**
 * Parses `Deno.args` for a benchmark part.
 *
 * @param moduleUrl The part's `import.meta.url`: `--help` prints its usage.
 * @param options The part's options, as `node:util`'s `parseArgs` takes them.
 * @returns The parsed values.
 * @example
 * ```ts
 * const values = benchArgs(import.meta.url, { events: { type: "string", default: "1000" } });
 * ```
 */
export function benchArgs<const T extends NonNullable<ParseArgsConfig["options"]>>(
  moduleUrl: string,
  options: T,
): ReturnType<typeof parseArgs<{ options: T }>>["values"] {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(usageOf(Deno.readTextFileSync(new URL(moduleUrl))));
    Deno.exit(0);
  }
  try {
    return parseArgs({ args: Deno.args, options }).values;
  } catch (error) {
    usageError((error as Error).message);
  }
}

/**
 * A numeric option's value, or a one-line usage error.
 *
 * @param name The option, without its dashes.
 * @param value What was given.
 * @param limits The smallest value allowed, and whether it must be whole.
 * @returns The number.
 * @example
 * ```ts
 * const events = numberOption("events", values.events, { min: 1 });
 * ```
 */
export function numberOption(
  name: string,
  value: string,
  limits: { min?: number; integer?: boolean } = {},
): number {
  const { min = 0, integer = true } = limits;
  const number = value.trim() === "" ? NaN : Number(value);
  if (!Number.isFinite(number) || number < min || (integer && !Number.isInteger(number))) {
    usageError(
      `--${name} expects ${
        integer ? "a whole number" : "a number"
      } of at least ${min}, got "${value}"`,
    );
  }
  return number;
}

/**
 * An option's value when it is one of `choices`, or a one-line usage error.
 *
 * @param name The option, without its dashes.
 * @param value What was given.
 * @param choices The values allowed.
 * @returns The value.
 * @example
 * ```ts
 * const rules = choiceOption("rules", values.rules, ["on", "off"] as const);
 * ```
 */
export function choiceOption<const C extends readonly string[]>(
  name: string,
  value: string,
  choices: C,
): C[number] {
  if (!choices.includes(value)) {
    usageError(`--${name} expects ${choices.join(" or ")}, got "${value}"`);
  }
  return value;
}
