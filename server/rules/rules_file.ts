/**
 * Loading the user's rules file (`--rules FILE`): YAML or JSON, validated
 * together with the built-in rules, at start and on SIGHUP.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import { BUILTIN_RULES } from "./builtin_rules.ts";
import { requireBoundedRegexes } from "./linear_regex.ts";
import { buildRuleSet, type RuleSet } from "./rule.ts";

/** The built-in rules' regexes, which are vetted (builtin_rules_test.ts) and need no V8 flag. */
const BUILTIN_REGEXES: ReadonlySet<string> = new Set(
  BUILTIN_RULES.flatMap((r) => r.match.regex === undefined ? [] : [r.match.regex]),
);

/**
 * Refuses a rule set whose user regexes this process cannot run in linear
 * time (it lacks the V8 flags of `linear_regex.ts`).
 *
 * @param ruleSet The rules about to run.
 * @throws {RangeError} Naming a user regex and the flags to start Deno with.
 * @example
 * ```ts
 * assertBoundedRegexes(await loadRulesFile("rules.yaml"));
 * ```
 */
export function assertBoundedRegexes(ruleSet: RuleSet): void {
  requireBoundedRegexes(ruleSet.rules.map((r) => r.regex), BUILTIN_REGEXES);
}

/** Largest rules file read, in bytes. */
export const MAX_RULES_FILE_BYTES = 4 * 1024 * 1024;

/** Options of {@linkcode loadRulesFile} and {@linkcode parseRulesText}. */
export interface RulesFileOptions {
  /**
   * Whether the built-in rules come first in the set (user rules may then
   * refer to them as parents or replace them with `overwrite: true`).
   * @default {true}
   */
  readonly builtin?: boolean;
}

/**
 * Parses and validates the text of a rules file. `.json` files are read as
 * JSON, anything else as YAML (which also accepts JSON).
 *
 * @param text The file's content.
 * @param name The file's name, for the format and the error message.
 * @param options Whether to include the built-in rules.
 * @returns The validated rule set.
 * @throws {SyntaxError} Naming the file, the rule and the field.
 * @example
 * ```ts
 * parseRulesText("- id: 100001\n  level: 7\n  description: cron died\n  match: { program: cron, contains: died }\n", "rules.yaml");
 * ```
 */
export function parseRulesText(
  text: string,
  name: string,
  options: RulesFileOptions = {},
): RuleSet {
  let data: unknown;
  try {
    data = name.toLowerCase().endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SyntaxError(
      `Invalid rules file ${name}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  if (data === null || data === undefined) data = []; // an empty file: no user rules
  try {
    return buildRuleSet(data, options.builtin === false ? [] : BUILTIN_RULES);
  } catch (error) {
    throw new SyntaxError(`Invalid rules file ${name}: ${(error as Error).message}`);
  }
}

/**
 * Reads, parses and validates a rules file.
 *
 * @param path The file.
 * @param options Whether to include the built-in rules.
 * @returns The validated rule set.
 * @throws {SyntaxError} When the file cannot be read or is invalid, naming it, the rule and the field.
 * @throws {RangeError} When the file is larger than {@linkcode MAX_RULES_FILE_BYTES}, or holds a
 *   regex this process cannot run in linear time (see `linear_regex.ts`).
 * @example
 * ```ts
 * const rules = await loadRulesFile("/etc/nms/rules.yaml");
 * ```
 */
export async function loadRulesFile(
  path: string,
  options: RulesFileOptions = {},
): Promise<RuleSet> {
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (info.size > MAX_RULES_FILE_BYTES) {
      throw new RangeError(
        `Cannot read rules file ${path}: larger than ${MAX_RULES_FILE_BYTES} bytes`,
      );
    }
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw new SyntaxError(`Cannot read rules file ${path}: ${(error as Error).message}`);
  }
  const ruleSet = parseRulesText(text, path, options);
  assertBoundedRegexes(ruleSet);
  return ruleSet;
}

/**
 * The built-in rules alone, validated.
 *
 * @returns The rule set NMS uses without `--rules`.
 * @example
 * ```ts
 * await startServer({ rules: builtinRuleSet() });
 * ```
 */
export function builtinRuleSet(): RuleSet {
  return buildRuleSet([], BUILTIN_RULES);
}
