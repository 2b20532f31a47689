/**
 * The stateless half of the rules: which rules one event matches, with the
 * fields their regular expressions capture. Runs in the pool workers right
 * after parsing, on every event, so it is built to be cheap when nothing
 * matches, which is the case for most lines:
 *
 * 1. rules are bucketed by program, so a line from `CRON` only meets the
 *    rules for `CRON` and those that name no program;
 * 2. a rule's literal text (`contains`, or one derived from its regex) is
 *    checked with `includes()` before the regex runs;
 * 3. a regex without named groups runs as `test()`, which allocates nothing.
 *
 * Parent rules form trees: when a child matches, the child's match replaces
 * its parent's (the most specific rule wins, as in Wazuh), which also lets a
 * level-0 child silence a parent. Correlation rules are only reported as
 * candidates here; `correlator.ts` decides in the writer whether they fire.
 *
 * @module
 */

import { readStructuredParams } from "../log_formats/mod.ts";
import { requiredLiteral } from "./_regex_analysis.ts";
import { invalidUserFields } from "./_invalid_user.ts";
import { INVALID_USER_REGEX } from "./builtin_rules.ts";
import { isCorrelationRule, type Rule, type RuleSet } from "./rule.ts";

/**
 * The matches of one batch, in columns: match `k` is rule `rule[k]` on event
 * `index[k]`, with the named groups `fields[k]` (null when it captured none).
 * Small and plain, so it travels with the batch to the writer.
 */
export interface BatchMatches {
  readonly index: number[];
  readonly rule: number[];
  readonly fields: (Record<string, string> | null)[];
  /**
   * Alerts of plain (not correlating) rules, folded per batch by `matchBatch()`:
   * fold `f` is rule `rule[f]` with fold key `key[f]` and the values of its
   * `foldBy` fields `fields[f]`, on the events `indexes[f]`.
   */
  readonly folds: {
    readonly rule: number[];
    readonly key: string[];
    readonly fields: Record<string, string>[];
    readonly indexes: number[][];
  };
}

/**
 * Most characters of a message the rules look at; the rest of a longer
 * message is not matched. It bounds what one line can cost the rules (each
 * regex runs in time linear in this many characters, see linear_regex.ts),
 * and it is rsyslog's default largest message: sshd, sudo and PAM lines are
 * far shorter (OpenSSH's log buffer holds 1,024 bytes).
 */
export const MAX_RULE_INPUT_CHARS = 8 * 1024;

/** Fields of a match that captured nothing; compared by identity. */
const NO_FIELDS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** What a rule may look at besides program, message and severity; absent for most lines. */
export interface EventExtra {
  /** RFC 5424 MSGID, or the kind of an NMS event. */
  readonly msgid: string | null;
  /** RFC 5424 STRUCTURED-DATA as stored. */
  readonly structuredData: string | null;
  /** Written by NMS itself. */
  readonly internal: boolean;
}

interface CompiledRule {
  readonly rule: Rule;
  readonly id: number;
  readonly programs: ReadonlySet<string> | null;
  /** One text the message must contain, or null. */
  readonly contains: string | null;
  /** Texts of which the message must contain one, or null. */
  readonly containsAny: readonly string[] | null;
  readonly msgid: string | null;
  readonly params: readonly string[];
  readonly internal: boolean;
  readonly regex: RegExp | null;
  /** A literal parse equivalent to `regex` on some lines (its fields), else undefined. */
  readonly literal: ((message: string) => Record<string, string> | undefined) | null;
  readonly captures: boolean;
  /** Highest severity number accepted, or 8 for any (unknown severities included). */
  readonly maxSeverity: number;
  readonly correlation: boolean;
  /** Whether a final match of this rule is reported: it alerts, or correlation rules count it. */
  emit: boolean;
  readonly children: CompiledRule[];
  readonly correlations: CompiledRule[];
}

function compile(rule: Rule): CompiledRule {
  let contains = rule.contains?.length === 1 ? rule.contains[0]! : null;
  if (contains === null && rule.regex !== null && !rule.ignoreCase) {
    contains = requiredLiteral(rule.regex);
  }
  return {
    rule,
    id: rule.id,
    programs: rule.programs === null ? null : new Set(rule.programs),
    contains,
    containsAny: rule.contains !== null && rule.contains.length > 1 ? rule.contains : null,
    msgid: rule.msgid,
    params: rule.params,
    internal: rule.internal,
    regex: rule.regex === null ? null : new RegExp(rule.regex, rule.ignoreCase ? "i" : ""),
    literal: rule.regex === INVALID_USER_REGEX && !rule.ignoreCase ? invalidUserFields : null,
    captures: rule.captures.length > 0,
    maxSeverity: rule.maxSeverity ?? 8,
    correlation: isCorrelationRule(rule),
    emit: rule.level > 0,
    children: [],
    correlations: [],
  };
}

/**
 * The root rules one line meets, split for speed: those with literal text
 * that every match contains are skipped together when one scan of the
 * message (`gate`, an alternation of those literals) finds none of them,
 * which is what happens on most lines.
 */
interface RootList {
  /** Roots without a literal: always tested. */
  readonly always: readonly CompiledRule[];
  /** Roots with literals, tested only when the gate finds one. */
  readonly gated: readonly CompiledRule[];
  readonly gate: RegExp | null;
}

/** The literals one of which every match of the rule contains, or null. */
function literalsOf(rule: CompiledRule): readonly string[] | null {
  if (rule.containsAny !== null) return rule.containsAny;
  return rule.contains === null ? null : [rule.contains];
}

function rootList(roots: readonly CompiledRule[]): RootList {
  const always = roots.filter((r) => literalsOf(r) === null);
  const gated = roots.filter((r) => literalsOf(r) !== null);
  const literals = gated.flatMap((r) => literalsOf(r)!);
  // Literal text only, escaped: the alternation runs in linear time.
  const gate = literals.length === 0
    ? null
    : new RegExp(literals.map((l) => l.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")).join("|"));
  return { always, gated, gate };
}

/**
 * What {@linkcode matchBatch} does with a match of one rule, worked out once
 * per rule set instead of once per event.
 */
export interface MatchPlan {
  readonly rule: Rule;
  /** The correlator needs this match one by one (a correlation rule, or counted by one). */
  readonly correlate: boolean;
  /** The fields the correlator reads from such a match (sameField, differentField, foldBy). */
  readonly correlatedFields: readonly string[];
  /** Its own alert is folded per batch (a plain rule of level > 0). */
  readonly fold: boolean;
}

/** A new, empty {@linkcode BatchMatches}. */
export function emptyMatches(): BatchMatches {
  return { index: [], rule: [], fields: [], folds: { rule: [], key: [], fields: [], indexes: [] } };
}

/**
 * Matches events against a rule set.
 *
 * @example
 * ```ts
 * const engine = new RuleEngine(buildRuleSet([], BUILTIN_RULES));
 * const sink = emptyMatches();
 * engine.match(0, "sshd", "Failed password for root from 203.0.113.7 port 22 ssh2", 6, sink);
 * sink.rule; // [5700]
 * ```
 */
export class RuleEngine {
  /** Root rules per program, each including the program-less roots. */
  readonly #byProgram = new Map<string, RootList>();
  /** Root rules that name no program. */
  readonly #anyProgram: RootList;
  readonly #rules = new Map<number, Rule>();
  readonly #plans = new Map<number, MatchPlan>();
  /** Rules whose matches an `after` condition counts. */
  readonly #counted = new Set<number>();
  /** Report final matches of level-0 rules too (`nms-server rules test`). */
  readonly #reportSilenced: boolean;

  /**
   * @param ruleSet A validated rule set (`buildRuleSet`); its order is evaluation order.
   * @param options `reportSilenced`: also report a line's final match when its rule has level 0
   *   (the server does not: such a match raises nothing). Default false.
   */
  constructor(ruleSet: RuleSet, options: { readonly reportSilenced?: boolean } = {}) {
    this.#reportSilenced = options.reportSilenced ?? false;
    const compiled = ruleSet.rules.map(compile);
    const byId = new Map(compiled.map((c) => [c.id, c]));
    const roots: CompiledRule[] = [];
    for (const c of compiled) {
      this.#rules.set(c.id, c.rule);
      for (const id of c.rule.after?.rules ?? []) {
        byId.get(id)!.emit = true;
        this.#counted.add(id);
      }
      if (c.rule.parents === null) {
        roots.push(c);
        continue;
      }
      for (const id of c.rule.parents) {
        const parent = byId.get(id)!;
        (c.correlation ? parent.correlations : parent.children).push(c);
      }
    }
    for (const c of compiled) {
      const rule = c.rule;
      const counters = ruleSet.rules.filter((r) => r.after?.rules.includes(rule.id));
      const fields = new Set<string>(
        c.correlation ? [...rule.sameField, ...rule.foldBy, rule.differentField ?? ""] : [],
      );
      for (const counter of counters) for (const name of counter.sameField) fields.add(name);
      fields.delete("");
      fields.delete("host");
      fields.delete("program");
      this.#plans.set(rule.id, {
        rule,
        correlate: c.correlation || counters.length > 0,
        correlatedFields: [...fields],
        fold: !c.correlation && rule.level > 0,
      });
    }
    const anyProgram: CompiledRule[] = [];
    const byProgram = new Map<string, CompiledRule[]>();
    for (const root of roots) {
      if (root.programs === null) {
        anyProgram.push(root);
        for (const list of byProgram.values()) list.push(root);
        continue;
      }
      for (const program of root.programs) {
        let list = byProgram.get(program);
        if (!list) {
          list = [...anyProgram];
          byProgram.set(program, list);
        }
        list.push(root);
      }
    }
    this.#anyProgram = rootList(anyProgram);
    for (const [program, list] of byProgram) this.#byProgram.set(program, rootList(list));
  }

  /** The rule with this id, or undefined. */
  rule(id: number): Rule | undefined {
    return this.#rules.get(id);
  }

  /** What to do with a match of this rule (see {@linkcode MatchPlan}), or undefined. */
  plan(id: number): MatchPlan | undefined {
    return this.#plans.get(id);
  }

  /** Whether some rule's `after` condition counts matches of this rule. */
  counted(id: number): boolean {
    return this.#counted.has(id);
  }

  /**
   * Evaluates one event and appends its matches to `sink`.
   *
   * @param index Index of the event in its batch, recorded with each match.
   * @param program The event's program, or null.
   * @param message The event's message; rules see its first {@linkcode MAX_RULE_INPUT_CHARS}.
   * @param severity Syslog severity 0-7, or -1 when unknown.
   * @param sink Where matches are appended.
   * @param extra The event's MSGID, structured data and origin, when it has any.
   * @returns The number of matches appended.
   */
  match(
    index: number,
    program: string | null,
    message: string,
    severity: number,
    sink: BatchMatches,
    extra?: EventExtra,
  ): number {
    if (message.length > MAX_RULE_INPUT_CHARS) message = message.slice(0, MAX_RULE_INPUT_CHARS);
    const list = program === null
      ? this.#anyProgram
      : (this.#byProgram.get(program) ?? this.#anyProgram);
    let added = this.#matchRoots(list.always, index, program, message, severity, sink, extra);
    if (list.gate !== null && list.gate.test(message)) {
      added += this.#matchRoots(list.gated, index, program, message, severity, sink, extra);
    }
    return added;
  }

  #matchRoots(
    roots: readonly CompiledRule[],
    index: number,
    program: string | null,
    message: string,
    severity: number,
    sink: BatchMatches,
    extra: EventExtra | undefined,
  ): number {
    let added = 0;
    for (let r = 0; r < roots.length; r++) {
      const root = roots[r]!;
      let fields = test(root, program, message, severity, extra);
      if (fields === null) continue;
      if (root.correlation) {
        push(sink, index, root.id, fields);
        added++;
        continue;
      }
      let node = root;
      descend: for (;;) {
        for (const child of node.children) {
          const childFields = test(child, program, message, severity, extra);
          if (childFields !== null) {
            fields = merge(fields, childFields);
            node = child;
            continue descend;
          }
        }
        break;
      }
      if (node.emit || this.#reportSilenced) {
        push(sink, index, node.id, fields);
        added++;
      }
      for (const correlation of node.correlations) {
        const own = test(correlation, program, message, severity, extra);
        if (own === null) continue;
        push(sink, index, correlation.id, merge(fields, own));
        added++;
      }
    }
    return added;
  }
}

function test(
  rule: CompiledRule,
  program: string | null,
  message: string,
  severity: number,
  extra: EventExtra | undefined,
): Record<string, string> | null {
  if (rule.maxSeverity < 8 && (severity < 0 || severity > rule.maxSeverity)) return null;
  if (rule.programs !== null && (program === null || !rule.programs.has(program))) return null;
  if (rule.internal && extra?.internal !== true) return null;
  if (rule.msgid !== null && extra?.msgid !== rule.msgid) return null;
  if (rule.contains !== null && !message.includes(rule.contains)) return null;
  if (rule.containsAny !== null && !containsOne(message, rule.containsAny)) return null;
  let fields = NO_FIELDS;
  if (rule.params.length > 0) {
    const sd = extra?.structuredData;
    if (!sd) return null;
    const params = readStructuredParams(sd);
    fields = {};
    for (const name of rule.params) {
      const value = params[name];
      if (value !== undefined) fields[name] = value;
    }
  }
  if (rule.regex === null) return fields;
  const parsed = rule.literal?.(message);
  if (parsed !== undefined) return fields === NO_FIELDS ? parsed : { ...fields, ...parsed };
  if (!rule.captures) return rule.regex.test(message) ? fields : null;
  const groups = rule.regex.exec(message)?.groups;
  if (!groups) return null;
  if (fields === NO_FIELDS) fields = {};
  for (const name in groups) {
    const value = groups[name];
    if (value !== undefined) fields[name] = value;
  }
  return fields;
}

/** Whether the message contains one of the texts. */
function containsOne(message: string, texts: readonly string[]): boolean {
  for (let i = 0; i < texts.length; i++) if (message.includes(texts[i]!)) return true;
  return false;
}

function merge(
  outer: Record<string, string>,
  inner: Record<string, string>,
): Record<string, string> {
  if (inner === NO_FIELDS) return outer;
  if (outer === NO_FIELDS) return inner;
  return { ...outer, ...inner };
}

function push(sink: BatchMatches, index: number, rule: number, fields: Record<string, string>) {
  sink.index.push(index);
  sink.rule.push(rule);
  sink.fields.push(fields === NO_FIELDS ? null : fields);
}
