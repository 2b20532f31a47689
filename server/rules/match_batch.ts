/**
 * `matchBatch()`: runs the stateless rules over a parsed batch, in the pool
 * worker that parsed it (or in the writer for NMS's own events), and shapes
 * the result for the writer: the alerts of plain rules already folded per
 * batch (a flood of one alert costs the writer one entry, not one per event),
 * and one entry per event only where the correlator needs it.
 *
 * @module
 */

import { EVENT_FLAGS, type EventBatch } from "../store/store.ts";
import { type BatchMatches, emptyMatches, type RuleEngine } from "./engine.ts";
import { isCorrelationRule } from "./rule.ts";

/**
 * Matches every event of a batch.
 *
 * @param engine The compiled rules.
 * @param batch A parsed batch.
 * @returns The matches, or null when no event matched (the common case).
 * @example
 * ```ts
 * const matches = matchBatch(engine, parseEvents(job));
 * ```
 */
export function matchBatch(engine: RuleEngine, batch: EventBatch): BatchMatches | null {
  const raw = emptyMatches();
  const { msgid, structuredData, flags } = batch;
  for (let i = 0; i < batch.count; i++) {
    const internal = (flags[i]! & EVENT_FLAGS.internal) !== 0;
    // Most lines have no MSGID, structured data or NMS origin: no extra object for them.
    const extra = internal || msgid?.[i] || structuredData?.[i]
      ? { msgid: msgid?.[i] ?? null, structuredData: structuredData?.[i] ?? null, internal }
      : undefined;
    engine.match(i, batch.program[i] ?? null, batch.message[i]!, batch.severity[i]!, raw, extra);
  }
  if (raw.index.length === 0) return null;
  const out = emptyMatches();
  const folds = new Map<string, number>();
  for (let k = 0; k < raw.index.length; k++) {
    const id = raw.rule[k]!;
    const rule = engine.rule(id)!;
    const i = raw.index[k]!;
    const groups = raw.fields[k] ?? null;
    const correlation = isCorrelationRule(rule);
    if (correlation || engine.counted(id)) {
      out.index.push(i);
      out.rule.push(id);
      out.fields.push(groups);
    }
    if (correlation || rule.level === 0) continue;
    // The fold key as foldKeyOf() builds it, without a closure on this per-match path.
    const host = batch.host[i] ?? "";
    const program = batch.program[i] ?? "";
    let key = String(id);
    for (const name of rule.foldBy) {
      key += "\u0001" +
        (name === "host" ? host : name === "program" ? program : groups?.[name] ?? "");
    }
    const f = folds.get(key);
    if (f !== undefined) {
      out.folds.indexes[f]!.push(i);
      continue;
    }
    const fields: Record<string, string> = {};
    for (const name of rule.foldBy) {
      fields[name] = name === "host" ? host : name === "program" ? program : groups?.[name] ?? "";
    }
    folds.set(key, out.folds.key.length);
    out.folds.rule.push(id);
    out.folds.key.push(key);
    out.folds.fields.push(fields);
    out.folds.indexes.push([i]);
  }
  return out;
}
