/**
 * `nms-server rules test`: the rules as `wazuh-logtest` shows them. Lines come
 * from the arguments or, without any, from standard input; each is printed
 * with how it was parsed and which rules matched it, and the correlation
 * rules that fire over the lines given (docs/RULES.md). main.ts adds the
 * command to its program.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import { SEVERITY } from "../../protocol/mod.ts";
import {
  builtinRuleSet,
  EMPTY_RULE_SET,
  loadRulesFile,
  type LogTestResult,
  MAX_LOG_TEST_LINES,
  type Rule,
  testLogLines,
} from "../rules/mod.ts";
import { printable } from "./format.ts";

/** Most bytes read from standard input (a line is at most 64 KiB on the wire too). */
export const MAX_LOG_TEST_INPUT_BYTES = 16 * 1024 * 1024;

/** What the command needs from main.ts. */
export interface RulesCommandContext {
  /** Writes one line to stdout. */
  readonly out: (text: string) => void;
  /** Standard input, read when no line is given as an argument. */
  readonly stdin: ReadableStream<Uint8Array>;
}

const SEVERITY_NAMES = new Map<number, string>(
  Object.entries(SEVERITY).map(([name, n]) => [n, name]),
);

/**
 * Adds `rules test` to the program.
 *
 * @param program The nms-server program.
 * @param ctx Output and input.
 * @example
 * ```ts
 * addRulesCommands(program, { out: console.log, stdin: Deno.stdin.readable });
 * ```
 */
export function addRulesCommands(
  program: Command,
  ctx: RulesCommandContext,
): void {
  const rules = program.command("rules").description("Work with the detection rules");
  rules.command("test")
    .description(
      "Show how log lines are parsed and which rules match them (lines as arguments, else from stdin)",
    )
    .argument("[lines...]", "log lines; without any, one line per line of standard input")
    .option("--rules <file>", "user rules (YAML or JSON) added to the built-in ones")
    .option("--no-builtin-rules", "only the rules of --rules")
    .addOption(new Option("--json", "print one JSON object per line"))
    .action(async (lines, options) => {
      const builtin = options.builtinRules;
      const ruleSet = options.rules === undefined
        ? (builtin ? builtinRuleSet() : EMPTY_RULE_SET)
        : await loadRulesFile(options.rules, { builtin });
      const input = lines.length > 0 ? lines : await readLines(ctx.stdin);
      const results = testLogLines(input, ruleSet, Date.now());
      for (const result of results) {
        if (options.json) ctx.out(JSON.stringify(jsonOf(result)));
        else for (const line of textOf(result)) ctx.out(line);
      }
    });
}

/** Reads standard input as lines, at most {@linkcode MAX_LOG_TEST_INPUT_BYTES}. */
async function readLines(stdin: ReadableStream<Uint8Array>): Promise<string[]> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of stdin) {
    const room = MAX_LOG_TEST_INPUT_BYTES - bytes;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    bytes += Math.min(chunk.length, room);
    if (bytes >= MAX_LOG_TEST_INPUT_BYTES) break;
  }
  const all = new Uint8Array(bytes);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  const text = new TextDecoder().decode(all);
  const lines = text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(0, MAX_LOG_TEST_LINES);
}

function ruleText(rule: Rule): string {
  const mitre = rule.mitre.length > 0 ? ` mitre: ${rule.mitre.join(", ")}` : "";
  return `${rule.id} (level ${rule.level}) ${rule.description}; groups: ${
    rule.groups.join(", ") || "-"
  }${mitre}`;
}

function fieldsText(fields: Readonly<Record<string, string>>): string {
  const entries = Object.entries(fields);
  return entries.length === 0
    ? "-"
    : entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
}

/** The text a person reads: one block per line, log text escaped. */
function textOf(result: LogTestResult): string[] {
  const p = result.parsed;
  const severity = p.severity === null
    ? "-"
    : `${p.severity} (${SEVERITY_NAMES.get(p.severity) ?? "?"})`;
  const out = [
    `** Line ${result.line}: ${printable(result.text)}`,
    `   format: ${p.format}`,
    `   time: ${p.ts === null ? "-" : new Date(p.ts).toISOString()}`,
    `   host: ${printable(p.host ?? "-")}`,
    `   program: ${printable(p.program ?? "-")}`,
    `   pid: ${p.pid ?? "-"}`,
    `   severity: ${severity}`,
    `   facility: ${p.facility ?? "-"}`,
    `   message: ${printable(p.message)}`,
  ];
  if (result.matches.length === 0) out.push("   rule: none matched");
  for (const m of result.matches) {
    out.push(`   rule: ${ruleText(m.rule)}${m.rule.level === 0 ? " (no alert)" : ""}`);
    out.push(`   fields: ${printable(fieldsText(m.fields))}`);
  }
  for (const a of result.alerts) {
    out.push(`   alert: ${ruleText(a.rule)}`);
    out.push(
      `   correlated lines: ${a.lines.join(", ")}; fields: ${printable(fieldsText(a.fields))}`,
    );
  }
  return out;
}

function ruleJson(rule: Rule) {
  return {
    id: rule.id,
    level: rule.level,
    description: rule.description,
    groups: rule.groups,
    mitre: rule.mitre,
  };
}

function jsonOf(result: LogTestResult) {
  const p = result.parsed;
  return {
    line: result.line,
    text: result.text,
    parsed: {
      format: p.format,
      time: p.ts === null ? null : new Date(p.ts).toISOString(),
      host: p.host,
      program: p.program,
      pid: p.pid,
      severity: p.severity,
      facility: p.facility,
      message: p.message,
      ...(p.extra ?? {}),
    },
    matches: result.matches.map((m) => ({ rule: ruleJson(m.rule), fields: m.fields })),
    alerts: result.alerts.map((a) => ({
      rule: ruleJson(a.rule),
      fields: a.fields,
      lines: a.lines,
    })),
  };
}
