/**
 * Severity inference for lines that carry no syslog PRI (files written by
 * rsyslog, the paper's format), from keywords in the message.
 *
 * The rules are deliberately conservative: a word must appear whole (`\b`),
 * case-insensitively, and the most severe matching rule wins. A message that
 * matches nothing is informational, which is what most unlabelled log lines
 * are.
 *
 * | Severity | Rule name    | Whole words                                                     |
 * | -------- | ------------ | --------------------------------------------------------------- |
 * | 0 emerg  | `emergency`  | panic, emerg, emergency                                         |
 * | 2 crit   | `critical`   | crit, critical, fatal                                           |
 * | 3 err    | `error`      | error, failed, failure, denied, segfault, oom, out of memory    |
 * | 4 warning| `warning`    | warn, warning                                                   |
 * | 7 debug  | `debug`      | level markers only: `DEBUG` first, `[debug]`, `<debug>`, `debug:`, `level=debug` |
 * | 6 info   | (default)    | anything else                                                   |
 *
 * Left out on purpose: `alert` (TLS "alert" messages are routine), `err`
 * (`err=0` is success in many programs), plural `errors` (`0 errors`) and
 * `notice` (too rare to be worth a rule). Note that sshd logs "Failed
 * password" at info: inference reads it as err, which is what an operator
 * scanning for trouble wants.
 *
 * @module
 */

/** Syslog severity levels (RFC 5424 §6.2.1). */
export const SEVERITY = {
  emergency: 0,
  alert: 1,
  critical: 2,
  error: 3,
  warning: 4,
  notice: 5,
  informational: 6,
  debug: 7,
} as const;

/** Severity inferred for a message that matches no rule. */
export const DEFAULT_INFERRED_SEVERITY: number = SEVERITY.informational;

/** One keyword rule of {@linkcode SEVERITY_RULES}. */
export interface SeverityRule {
  /** Short name for documentation and tests. */
  readonly name: string;
  /** Severity given to a message the pattern matches. */
  readonly severity: number;
  /** Case-insensitive, non-global pattern over whole words (no nested quantifiers). */
  readonly pattern: RegExp;
}

/** Keyword rules, most severe first; the first that matches decides. */
export const SEVERITY_RULES: readonly SeverityRule[] = [
  { name: "emergency", severity: SEVERITY.emergency, pattern: /\b(?:panic|emerg|emergency)\b/i },
  { name: "critical", severity: SEVERITY.critical, pattern: /\b(?:crit|critical|fatal)\b/i },
  {
    name: "error",
    severity: SEVERITY.error,
    pattern: /\b(?:error|failed|failure|denied|segfault|oom|out of memory)\b/i,
  },
  { name: "warning", severity: SEVERITY.warning, pattern: /\b(?:warn|warning)\b/i },
  // Only level markers: a bare word would catch paths such as /sys/kernel/debug.
  {
    name: "debug",
    severity: SEVERITY.debug,
    pattern: /^debug\b|\[debug\]|<debug>|\bdebug:|\blevel=debug\b/i,
  },
];

/**
 * All rules in one pattern. Most messages match no rule, and one pass of this
 * pattern costs about half of trying the rules one by one (see
 * parse_bench.ts); only a message that matches goes through the table.
 */
const ANY_RULE = new RegExp(
  SEVERITY_RULES.map((rule) => `(?:${rule.pattern.source})`).join("|"),
  "i",
);

/**
 * Infers a syslog severity from the words of a message.
 *
 * @param message Message text (without timestamp, host and tag).
 * @returns Severity 0..7: the first matching rule of {@linkcode SEVERITY_RULES}, else 6 (info).
 * @example
 * ```ts
 * import { inferSeverity } from "./severity.ts";
 *
 * inferSeverity("Failed password for root from 203.0.113.7"); // 3
 * inferSeverity("Accepted publickey for deploy"); // 6
 * ```
 */
export function inferSeverity(message: string): number {
  if (!ANY_RULE.test(message)) return DEFAULT_INFERRED_SEVERITY;
  for (const rule of SEVERITY_RULES) {
    if (rule.pattern.test(message)) return rule.severity;
  }
  return DEFAULT_INFERRED_SEVERITY;
}

/** Syslog's keyword for each severity, index = severity number (as in syslog.conf). */
export const SEVERITY_KEYWORDS = [
  "emerg",
  "alert",
  "crit",
  "err",
  "warning",
  "notice",
  "info",
  "debug",
] as const;

/**
 * Names accepted wherever a severity is configured (`--min-severity`, a rule's
 * `minSeverity`), with their level: syslog's keywords and common spellings.
 */
export const SEVERITY_NAMES: Readonly<Record<string, number>> = {
  emerg: 0,
  emergency: 0,
  panic: 0,
  alert: 1,
  crit: 2,
  critical: 2,
  err: 3,
  error: 3,
  warning: 4,
  warn: 4,
  notice: 5,
  info: 6,
  informational: 6,
  debug: 7,
};

/**
 * Looks up a severity name of {@linkcode SEVERITY_NAMES}, case-insensitively.
 *
 * @param name The name as written.
 * @returns Its level 0..7, or undefined when it is not a severity name.
 * @example
 * ```ts
 * severityByName("WARN"); // 4
 * severityByName("constructor"); // undefined
 * ```
 */
export function severityByName(name: string): number | undefined {
  const key = name.toLowerCase();
  return Object.hasOwn(SEVERITY_NAMES, key) ? SEVERITY_NAMES[key] : undefined;
}
