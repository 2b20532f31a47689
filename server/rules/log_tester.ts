/**
 * What `nms-server rules test` shows, as `wazuh-logtest` does: each line
 * parsed as the server parses it, the rule that finally matched it (level-0
 * rules included, so a silenced line says who silenced it), and the
 * correlation rules that fire over the lines given, in order. Pure: no
 * store, no clock (event time is the line's, else `receivedAt`).
 *
 * @module
 */

import { type ParsedLine, parseLogLine } from "../log_formats/mod.ts";
import { Correlator, type FiredAlert } from "./correlator.ts";
import { emptyMatches, RuleEngine } from "./engine.ts";
import { isCorrelationRule, type Rule, type RuleSet } from "./rule.ts";

/** Most lines one `rules test` run reads; more would only tie up the terminal. */
export const MAX_LOG_TEST_LINES = 100_000;

/** A rule that matched one line, with the fields it captured. */
export interface LogTestMatch {
  readonly rule: Rule;
  readonly fields: Readonly<Record<string, string>>;
}

/** A correlation rule that fired on a line, with the lines it counted (1-based). */
export interface LogTestAlert {
  readonly rule: Rule;
  readonly fields: Readonly<Record<string, string>>;
  readonly lines: readonly number[];
}

/** One line's result. */
export interface LogTestResult {
  /** 1-based. */
  readonly line: number;
  readonly text: string;
  readonly parsed: ParsedLine;
  /** Final matches of stateless rules (usually one). */
  readonly matches: readonly LogTestMatch[];
  /** Correlation rules that fired on this line. */
  readonly alerts: readonly LogTestAlert[];
}

/**
 * Runs lines through the parser, the rules and the correlator.
 *
 * @param lines The log lines, in order.
 * @param ruleSet The rules.
 * @param receivedAt Ms since the epoch: the year of BSD timestamps, the time of lines without one.
 * @returns One result per line.
 * @example
 * ```ts
 * const [result] = testLogLines(["Nov 23 19:43:33 web-01 sshd[1]: Invalid user x from 192.0.2.1"], builtinRuleSet(), Date.now());
 * result!.matches[0]!.rule.id; // 5710
 * ```
 */
export function testLogLines(
  lines: readonly string[],
  ruleSet: RuleSet,
  receivedAt: number,
): LogTestResult[] {
  const engine = new RuleEngine(ruleSet, { reportSilenced: true });
  const correlator = new Correlator(ruleSet);
  return lines.slice(0, MAX_LOG_TEST_LINES).map((text, i) => {
    const parsed = parseLogLine(text, receivedAt);
    const sink = emptyMatches();
    engine.match(i, parsed.program, parsed.message, parsed.severity ?? -1, sink);
    const matches: LogTestMatch[] = [];
    const alerts: LogTestAlert[] = [];
    for (let k = 0; k < sink.rule.length; k++) {
      const rule = engine.rule(sink.rule[k]!)!;
      const fields = sink.fields[k] ?? {};
      if (!isCorrelationRule(rule)) matches.push({ rule, fields });
      const fired = correlator.observe({
        ruleId: rule.id,
        host: parsed.host ?? "",
        program: parsed.program ?? "",
        groups: sink.fields[k] ?? null,
        ts: parsed.ts ?? receivedAt,
        eventId: i + 1,
      });
      alerts.push(...fired.map(toAlert));
    }
    return { line: i + 1, text, parsed, matches, alerts };
  });
}

function toAlert(alert: FiredAlert): LogTestAlert {
  return { rule: alert.rule, fields: alert.fields, lines: alert.eventIds };
}
