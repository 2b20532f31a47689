/**
 * Detection rules: the format people write (YAML or JSON, see docs/RULES.md),
 * its validation, and the normalized {@linkcode Rule} the engine and the
 * correlator run. Validation names the bad rule and field in one sentence, so
 * a broken rules file is refused at start and on SIGHUP with a clear message.
 *
 * @module
 */

import { severityByName } from "../../protocol/mod.ts";
import { nestedQuantifier } from "./_regex_analysis.ts";
import { linearRegexSupport, notLinear } from "./linear_regex.ts";

/**
 * Highest rule id. Built-in rules use Wazuh's id where Wazuh has a rule of the
 * same meaning (below 100000) and {@linkcode NMS_RULE_IDS} otherwise; user
 * rules should use Wazuh's custom range, 100000-120000.
 */
export const MAX_RULE_ID = 999_999;

/** NMS's own built-in rules (no Wazuh equivalent): a range Wazuh ships nothing in. */
export const NMS_RULE_IDS = { first: 880_000, last: 889_999 } as const;

/** Highest rule level (Wazuh's scale: 0 means "never alert", 15 is the most severe). */
export const MAX_RULE_LEVEL = 15;

/** Most rules in one rule set (built-in and user rules together). */
export const MAX_RULES = 2_000;

/** Longest regex source, in characters. */
export const MAX_REGEX_CHARS = 1_000;

/** Longest description, in characters. */
export const MAX_DESCRIPTION_CHARS = 200;

/** Most events counted by one `frequency` or `after` condition. */
export const MAX_CORRELATION_COUNT = 1_000;

/** Longest correlation window and fold window, in seconds (one day). */
export const MAX_WINDOW_SECONDS = 86_400;

/**
 * Default fold window, in seconds: a new occurrence of an alert whose previous
 * occurrence is at most this much older is folded into it (its count rises).
 */
export const DEFAULT_FOLD_SECONDS = 300;

/** Most alternatives in `match.contains`. */
export const MAX_CONTAINS = 20;

/** Event fields every rule can use besides its regex's named groups. */
export const EVENT_FIELDS = ["host", "program"] as const;

/** Names a regex group may not take, because they are the parser's own fields. */
const RESERVED_FIELDS = new Set(["host", "program", "pid", "severity", "message"]);

/** What a rule matches in one event. All given conditions must hold. */
export interface RuleMatchDefinition {
  /** Program (syslog tag) exactly, or one of several. */
  readonly program?: string | readonly string[];
  /** Only evaluated on events that matched this rule (or one of these): Wazuh's `if_sid`. */
  readonly parent?: number | readonly number[];
  /** Text the message must contain (case-sensitive), or a list of which it must contain one; checked before the regex. */
  readonly contains?: string | readonly string[];
  /** JavaScript regular expression tested on the message; named groups become fields. */
  readonly regex?: string;
  /** Match the regex case-insensitively. @default {false} */
  readonly ignoreCase?: boolean;
  /** Only events at least this severe: a syslog number (0-7) or name (`"warning"`). */
  readonly minSeverity?: number | string;
  /** The event's MSGID exactly (RFC 5424, or the kind of NMS's own events). */
  readonly msgid?: string;
  /** Parameters of the event's STRUCTURED-DATA that become fields (NMS's own events carry user, srcip, channel). */
  readonly params?: readonly string[];
  /** Only events NMS itself wrote (logins, registrations), never a collected line that imitates one. @default {false} */
  readonly internal?: boolean;
}

/** A rule as written in a rules file. See docs/RULES.md for examples. */
export interface RuleDefinition {
  readonly id: number;
  /** 0-15; 0 never raises an alert (useful to silence a parent rule). */
  readonly level: number;
  readonly description: string;
  /** Free tags such as `authentication_failed`, shown with the alert. */
  readonly groups?: readonly string[];
  /** MITRE ATT&CK technique ids, e.g. `T1110.001`. */
  readonly mitre?: readonly string[];
  readonly match: RuleMatchDefinition;
  /** Fire when the rule matched `count` times within `withinSeconds` (per `sameField` values). */
  readonly frequency?: { readonly count: number; readonly withinSeconds: number };
  /**
   * Fire when this event matches and, within `withinSeconds` before it, at least
   * `count` events (default 1) matched one of `rules` with the same `sameField` values.
   */
  readonly after?: {
    readonly rules: number | readonly number[];
    readonly count?: number;
    readonly withinSeconds: number;
  };
  /** Fields whose values must be equal across the correlated events. */
  readonly sameField?: string | readonly string[];
  /** With `frequency`: count distinct values of this field instead of events. */
  readonly differentField?: string;
  /** Fields whose values tell one alert from another when folding. */
  readonly foldBy?: string | readonly string[];
  /** Fold window in seconds; 0 never folds. @default {300} */
  readonly foldSeconds?: number;
  /** Replace the built-in rule with the same id instead of failing. @default {false} */
  readonly overwrite?: boolean;
}

/** A validated, normalized rule, as the engine and the correlator use it. */
export interface Rule {
  /** Rule id, unique in its set; alerts name the rule by it. */
  readonly id: number;
  /** 0-15; 0 never raises an alert. */
  readonly level: number;
  /** What the rule detects, shown with its alerts. */
  readonly description: string;
  /** Free tags such as `authentication_failed`. */
  readonly groups: readonly string[];
  /** MITRE ATT&CK technique ids. */
  readonly mitre: readonly string[];
  /** Programs (syslog tags) of which the event's must be one, or null for any. */
  readonly programs: readonly string[] | null;
  /** Rules of which the event must have matched one first, or null. */
  readonly parents: readonly number[] | null;
  /** Texts of which the message must contain one, or null. */
  readonly contains: readonly string[] | null;
  /** Regex source tested on the message, or null. */
  readonly regex: string | null;
  /** Whether the regex ignores case. */
  readonly ignoreCase: boolean;
  /** Highest syslog severity number accepted, or null for any. */
  readonly maxSeverity: number | null;
  /** MSGID the event must carry, or null for any. */
  readonly msgid: string | null;
  /** Structured-data parameters read as fields. */
  readonly params: readonly string[];
  /** Only events NMS itself wrote match. */
  readonly internal: boolean;
  /** Fire after this many matches within the window, or null for every match. */
  readonly frequency: { readonly count: number; readonly withinSeconds: number } | null;
  /** Fire only after enough earlier matches of these rules within the window, or null. */
  readonly after: {
    readonly rules: readonly number[];
    readonly count: number;
    readonly withinSeconds: number;
  } | null;
  /** Fields whose values must be equal across correlated events. */
  readonly sameField: readonly string[];
  /** With `frequency`: the field whose distinct values are counted, or null to count events. */
  readonly differentField: string | null;
  /** Fields whose values tell one alert from another when folding. */
  readonly foldBy: readonly string[];
  /** Fold window in seconds; 0 never folds. */
  readonly foldSeconds: number;
  /** Named groups of this rule's own regex. */
  readonly captures: readonly string[];
}

/**
 * A validated set of rules, in evaluation order. Plain data, so it crosses
 * to the workers by structured clone.
 */
export interface RuleSet {
  /** The validated rules, in evaluation order. */
  readonly rules: readonly Rule[];
}

/** A rule set that matches nothing (`--rules off`). */
export const EMPTY_RULE_SET: RuleSet = { rules: [] };

/**
 * Whether a rule correlates several events (`frequency` or `after`) and so
 * runs in the writer rather than only in the pool workers.
 *
 * @param rule A validated rule.
 * @returns True for correlation rules.
 * @example
 * ```ts
 * isCorrelationRule(ruleSet.rules[0]!);
 * ```
 */
export function isCorrelationRule(rule: Rule): boolean {
  return rule.frequency !== null || rule.after !== null;
}

/** Collects problems as "field: problem" of one rule. */
class RuleProblem extends Error {}

function fail(field: string, problem: string): never {
  throw new RuleProblem(`${field}: ${problem}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], where: string) {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      fail(
        where ? `${where}.${key}` : key,
        `unknown field (expected one of ${allowed.join(", ")})`,
      );
    }
  }
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function seconds(value: unknown, field: string, min: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    fail(field, `expected a number of seconds of at least ${min}, got ${JSON.stringify(value)}`);
  }
  if (value > MAX_WINDOW_SECONDS) fail(field, `expected at most ${MAX_WINDOW_SECONDS} seconds`);
  return value;
}

function text(value: unknown, field: string, maxChars: number): string {
  if (typeof value !== "string" || value.length === 0) {
    fail(field, "expected a non-empty string");
  }
  if (value.length > maxChars) fail(field, `longer than ${maxChars} characters`);
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) fail(field, "contains a control character");
  return value;
}

function list<T>(value: unknown, field: string, item: (v: unknown, f: string) => T): T[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) fail(field, "expected at least one value");
  if (items.length > 100) fail(field, "expected at most 100 values");
  return items.map((v, i) => item(v, Array.isArray(value) ? `${field}[${i}]` : field));
}

function fieldName(value: unknown, field: string): string {
  const name = text(value, field, 64);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(field, `invalid field name ${name}`);
  return name;
}

/**
 * The named groups of a regex source. Alternation with an empty branch makes
 * any source match "", and the match object lists every group name.
 */
function groupNames(regex: RegExp): string[] {
  const probe = new RegExp(`(?:${regex.source})|`, regex.flags);
  return Object.keys(probe.exec("")?.groups ?? {});
}

function compileRegex(source: string, ignoreCase: boolean): RegExp {
  if (source.length > MAX_REGEX_CHARS) {
    fail("match.regex", `longer than ${MAX_REGEX_CHARS} characters`);
  }
  let regex: RegExp;
  try {
    regex = new RegExp(source, ignoreCase ? "i" : "");
  } catch (error) {
    fail("match.regex", (error as Error).message);
  }
  // With V8's linear-time engine at hand its verdict is exact; without it, the
  // static check still refuses the classic exponential shapes.
  const reason = notLinear(source, ignoreCase ? "i" : "");
  if (reason !== null) fail("match.regex", reason);
  if (!linearRegexSupport().linearFlag) {
    const nested = nestedQuantifier(source);
    if (nested !== null) {
      fail(
        "match.regex",
        `the repeated group ${nested} contains an unbounded quantifier (catastrophic backtracking on crafted lines)`,
      );
    }
  }
  return regex;
}

/** Validates one rule on its own; cross-rule checks happen in {@linkcode buildRuleSet}. */
function normalizeRule(input: unknown): Rule & { overwrite: boolean; foldByGiven: boolean } {
  if (!isRecord(input)) fail("rule", "expected an object");
  checkKeys(input, [
    "id",
    "level",
    "description",
    "groups",
    "mitre",
    "match",
    "frequency",
    "after",
    "sameField",
    "differentField",
    "foldBy",
    "foldSeconds",
    "overwrite",
  ], "");
  const id = integer(input.id, "id", 1, MAX_RULE_ID);
  const level = integer(input.level, "level", 0, MAX_RULE_LEVEL);
  const description = text(input.description, "description", MAX_DESCRIPTION_CHARS);
  const groups = input.groups === undefined ? [] : list(input.groups, "groups", (v, f) => {
    const tag = text(v, f, 40);
    if (!/^[A-Za-z0-9_.-]+$/.test(tag)) fail(f, `invalid group name ${tag}`);
    return tag;
  });
  const mitre = input.mitre === undefined ? [] : list(input.mitre, "mitre", (v, f) => {
    const id = text(v, f, 16);
    if (!/^T\d{4}(?:\.\d{3})?$/.test(id)) fail(f, `invalid MITRE ATT&CK technique ${id}`);
    return id;
  });
  if (!isRecord(input.match)) fail("match", "expected an object");
  const match = input.match;
  checkKeys(
    match,
    [
      "program",
      "parent",
      "contains",
      "regex",
      "ignoreCase",
      "minSeverity",
      "msgid",
      "params",
      "internal",
    ],
    "match",
  );
  if (
    match.program === undefined && match.parent === undefined && match.contains === undefined &&
    match.regex === undefined && match.msgid === undefined
  ) {
    fail("match", "needs at least one of program, parent, contains, regex or msgid");
  }
  const programs = match.program === undefined
    ? null
    : list(match.program, "match.program", (v, f) => text(v, f, 64));
  const parents = match.parent === undefined
    ? null
    : list(match.parent, "match.parent", (v, f) => integer(v, f, 1, MAX_RULE_ID));
  const contains = match.contains === undefined
    ? null
    : list(match.contains, "match.contains", (v, f) => text(v, f, 200));
  if (contains !== null && contains.length > MAX_CONTAINS) {
    fail("match.contains", `expected at most ${MAX_CONTAINS} texts`);
  }
  const msgid = match.msgid === undefined ? null : text(match.msgid, "match.msgid", 32);
  const params = match.params === undefined ? [] : list(match.params, "match.params", fieldName);
  if (match.internal !== undefined && typeof match.internal !== "boolean") {
    fail("match.internal", "expected true or false");
  }
  if (match.ignoreCase !== undefined && typeof match.ignoreCase !== "boolean") {
    fail("match.ignoreCase", "expected true or false");
  }
  const ignoreCase = match.ignoreCase === true;
  let captures: string[] = [];
  let regex: string | null = null;
  if (match.regex !== undefined) {
    if (typeof match.regex !== "string" || match.regex === "") {
      fail("match.regex", "expected a non-empty string");
    }
    regex = match.regex;
    captures = groupNames(compileRegex(regex, ignoreCase));
    for (const name of captures) {
      if (RESERVED_FIELDS.has(name)) {
        fail("match.regex", `named group ${name} clashes with the event field of that name`);
      }
    }
  }
  for (const name of params) {
    if (RESERVED_FIELDS.has(name)) {
      fail("match.params", `parameter ${name} clashes with the event field of that name`);
    }
  }
  let maxSeverity: number | null = null;
  if (match.minSeverity !== undefined) {
    const value = match.minSeverity;
    if (typeof value === "string" && severityByName(value) !== undefined) {
      maxSeverity = severityByName(value)!;
    } else if (typeof value === "number") {
      maxSeverity = integer(value, "match.minSeverity", 0, 7);
    } else {
      fail("match.minSeverity", `expected 0-7 or a severity name, got ${JSON.stringify(value)}`);
    }
  }
  let frequency: Rule["frequency"] = null;
  if (input.frequency !== undefined) {
    if (!isRecord(input.frequency)) fail("frequency", "expected an object");
    checkKeys(input.frequency, ["count", "withinSeconds"], "frequency");
    frequency = {
      count: integer(input.frequency.count, "frequency.count", 2, MAX_CORRELATION_COUNT),
      withinSeconds: seconds(input.frequency.withinSeconds, "frequency.withinSeconds", 0.001),
    };
  }
  let after: Rule["after"] = null;
  if (input.after !== undefined) {
    if (frequency !== null) fail("after", "cannot be combined with frequency");
    if (!isRecord(input.after)) fail("after", "expected an object");
    checkKeys(input.after, ["rules", "count", "withinSeconds"], "after");
    after = {
      rules: list(input.after.rules, "after.rules", (v, f) => integer(v, f, 1, MAX_RULE_ID)),
      count: input.after.count === undefined
        ? 1
        : integer(input.after.count, "after.count", 1, MAX_CORRELATION_COUNT),
      withinSeconds: seconds(input.after.withinSeconds, "after.withinSeconds", 0.001),
    };
  }
  const correlates = frequency !== null || after !== null;
  const sameField = input.sameField === undefined
    ? []
    : list(input.sameField, "sameField", fieldName);
  if (sameField.length > 0 && !correlates) {
    fail("sameField", "needs frequency or after");
  }
  let differentField: string | null = null;
  if (input.differentField !== undefined) {
    if (frequency === null) fail("differentField", "needs frequency");
    differentField = fieldName(input.differentField, "differentField");
  }
  const foldByGiven = input.foldBy !== undefined;
  const foldBy = foldByGiven ? list(input.foldBy, "foldBy", fieldName) : [];
  const foldSeconds = input.foldSeconds === undefined
    ? DEFAULT_FOLD_SECONDS
    : seconds(input.foldSeconds, "foldSeconds", 0);
  if (input.overwrite !== undefined && typeof input.overwrite !== "boolean") {
    fail("overwrite", "expected true or false");
  }
  return {
    id,
    level,
    description,
    groups,
    mitre,
    programs,
    parents,
    contains,
    regex,
    ignoreCase,
    maxSeverity,
    msgid,
    params,
    internal: match.internal === true,
    frequency,
    after,
    sameField,
    differentField,
    foldBy,
    foldSeconds,
    captures,
    overwrite: input.overwrite === true,
    foldByGiven,
  };
}

function label(input: unknown, index: number): string {
  const id = isRecord(input) ? input.id : undefined;
  return typeof id === "number" && Number.isInteger(id)
    ? `rule ${id}`
    : `rule #${index + 1} (no valid id)`;
}

/**
 * Validates user rules and merges them after `base` (normally the built-in
 * rules) into one rule set. A user rule may replace a base rule with the same
 * id only when it says `overwrite: true`.
 *
 * @param input The user's rules: an array of rule objects, or `{ rules: [...] }`.
 * @param base Rules already known good, evaluated first.
 * @returns The validated rule set.
 * @throws {SyntaxError} Naming the rule and field, e.g. `rule 100001: match.regex: Unterminated group`.
 * @example
 * ```ts
 * const set = buildRuleSet([{ id: 100001, level: 7, description: "cron died", match: { program: "cron", contains: "died" } }]);
 * ```
 */
export function buildRuleSet(input: unknown, base: readonly RuleDefinition[] = []): RuleSet {
  const entries = isRecord(input) && Object.keys(input).length === 1 && "rules" in input
    ? input.rules
    : input;
  if (!Array.isArray(entries)) {
    throw new SyntaxError("Rules must be a list of rules, or an object with a rules list");
  }
  const normalized: ReturnType<typeof normalizeRule>[] = [];
  const byId = new Map<number, number>();
  const baseCount = base.length;
  [...base, ...entries].forEach((entry, index) => {
    let rule;
    try {
      rule = normalizeRule(entry);
    } catch (error) {
      if (!(error instanceof RuleProblem)) throw error;
      const where = index < baseCount ? "built-in " : "";
      throw new SyntaxError(
        `Invalid ${where}${
          label(entry, index < baseCount ? index : index - baseCount)
        }: ${error.message}`,
      );
    }
    const existing = byId.get(rule.id);
    if (existing !== undefined) {
      if (existing < baseCount && index >= baseCount && rule.overwrite) {
        normalized[existing] = rule;
        return;
      }
      throw new SyntaxError(
        `Invalid rule ${rule.id}: id: already used by ${
          existing < baseCount
            ? "a built-in rule (add overwrite: true to replace it)"
            : "another rule"
        }`,
      );
    }
    if (rule.overwrite && index >= baseCount) {
      throw new SyntaxError(
        `Invalid rule ${rule.id}: overwrite: there is no built-in rule with this id`,
      );
    }
    byId.set(rule.id, normalized.length);
    normalized.push(rule);
  });
  if (normalized.length > MAX_RULES) {
    throw new SyntaxError(`Too many rules: ${normalized.length} (at most ${MAX_RULES})`);
  }
  const rules = normalized.map(({ overwrite: _o, foldByGiven: _f, ...rule }) => rule as Rule);
  const find = new Map(rules.map((r) => [r.id, r]));
  /** Fields a rule's events carry: event fields plus the captures along every parent chain. */
  const available = new Map<number, Set<string>>();
  const visiting = new Set<number>();
  const fieldsOf = (rule: Rule): Set<string> => {
    const known = available.get(rule.id);
    if (known) return known;
    if (visiting.has(rule.id)) {
      throw new SyntaxError(`Invalid rule ${rule.id}: match.parent: parents form a cycle`);
    }
    visiting.add(rule.id);
    const fields = new Set<string>([...EVENT_FIELDS, ...rule.captures, ...rule.params]);
    for (const id of rule.parents ?? []) {
      const parent = find.get(id);
      if (!parent) {
        throw new SyntaxError(`Invalid rule ${rule.id}: match.parent: no rule has id ${id}`);
      }
      if (isCorrelationRule(parent)) {
        throw new SyntaxError(
          `Invalid rule ${rule.id}: match.parent: rule ${id} correlates events (frequency or after) and cannot be a parent`,
        );
      }
      for (const f of fieldsOf(parent)) fields.add(f);
    }
    visiting.delete(rule.id);
    available.set(rule.id, fields);
    return fields;
  };
  const result = rules.map((rule, index) => {
    const fields = fieldsOf(rule);
    const check = (names: readonly string[], field: string, within = fields) => {
      for (const name of names) {
        if (!within.has(name)) {
          throw new SyntaxError(
            `Invalid rule ${rule.id}: ${field}: field ${name} is not captured by this rule or its parents (known: ${
              [...within].join(", ")
            })`,
          );
        }
      }
    };
    check(rule.sameField, "sameField");
    if (rule.differentField !== null) check([rule.differentField], "differentField");
    check(rule.foldBy, "foldBy");
    for (const id of rule.after?.rules ?? []) {
      const target = find.get(id);
      if (!target) {
        throw new SyntaxError(`Invalid rule ${rule.id}: after.rules: no rule has id ${id}`);
      }
      // A correlation rule counts each time it fires (Wazuh's if_matched_group on a brute force).
      check(rule.sameField, `sameField (as seen by rule ${id})`, fieldsOf(target));
    }
    if (normalized[index]!.foldByGiven) return rule;
    // Default fold key: the correlated fields, or the host and every captured field.
    const foldBy = isCorrelationRule(rule)
      ? rule.sameField
      : ["host", ...[...fields].filter((f) => !(EVENT_FIELDS as readonly string[]).includes(f))];
    return { ...rule, foldBy };
  });
  return { rules: result };
}
