/**
 * `matchBatch()`: runs the stateless rules over a parsed batch, in the pool
 * worker that parsed it (or in the writer for NMS's own events), and shapes
 * the result for the writer: the alerts of plain rules already folded per
 * batch (a flood of one alert costs the writer one entry, not one per event),
 * and one entry per event only where the correlator needs it, holding only
 * the fields the correlator reads. Equal fields of consecutive matches share
 * one object, which the structured clone to the writer then copies once: an
 * attack's lines cost the thread boundary one small object, not one each.
 *
 * @module
 */

import { EVENT_FLAGS, type EventBatch } from "../store/store.ts";
import { type BatchMatches, emptyMatches, type MatchPlan, type RuleEngine } from "./engine.ts";

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
  /** The last fold, to skip building its key again for a run of equal alerts. */
  let lastFold = -1;
  let lastPlan: MatchPlan | undefined;
  let lastPlanId = -1;
  /** The last correlated fields pushed per rule, shared by consecutive equal ones. */
  const lastCorrelated = new Map<number, Record<string, string>>();
  for (let k = 0; k < raw.index.length; k++) {
    const id = raw.rule[k]!;
    if (id !== lastPlanId) {
      lastPlan = engine.plan(id);
      lastPlanId = id;
    }
    const plan = lastPlan!;
    const i = raw.index[k]!;
    const groups = raw.fields[k] ?? null;
    if (plan.correlate) {
      out.index.push(i);
      out.rule.push(id);
      out.fields.push(projected(plan.correlatedFields, groups, lastCorrelated, id));
    }
    if (!plan.fold) continue;
    const rule = plan.rule;
    const host = batch.host[i] ?? "";
    const program = batch.program[i] ?? "";
    const value = (name: string) =>
      name === "host" ? host : name === "program" ? program : groups?.[name] ?? "";
    // A run of the same alert (an attack's lines): compare with the last fold's values.
    if (lastFold >= 0 && out.folds.rule[lastFold] === id) {
      const fields = out.folds.fields[lastFold]!;
      let same = true;
      for (const name of rule.foldBy) {
        if (fields[name] !== value(name)) {
          same = false;
          break;
        }
      }
      if (same) {
        out.folds.indexes[lastFold]!.push(i);
        continue;
      }
    }
    // The fold key as foldKeyOf() builds it.
    let key = String(id);
    for (const name of rule.foldBy) key += "\u0001" + value(name);
    const f = folds.get(key);
    if (f !== undefined) {
      out.folds.indexes[f]!.push(i);
      lastFold = f;
      continue;
    }
    const fields: Record<string, string> = {};
    for (const name of rule.foldBy) fields[name] = value(name);
    lastFold = out.folds.key.length;
    folds.set(key, lastFold);
    out.folds.rule.push(id);
    out.folds.key.push(key);
    out.folds.fields.push(fields);
    out.folds.indexes.push([i]);
  }
  return out;
}

/** The named fields of a match, shared with the previous match of the rule when equal. */
function projected(
  names: readonly string[],
  groups: Record<string, string> | null,
  last: Map<number, Record<string, string>>,
  id: number,
): Record<string, string> | null {
  if (groups === null || names.length === 0) return null;
  const previous = last.get(id);
  if (previous !== undefined) {
    let same = true;
    for (const name of names) {
      if (previous[name] !== groups[name]) {
        same = false;
        break;
      }
    }
    if (same) return previous;
  }
  const fields: Record<string, string> = {};
  for (const name of names) {
    const value = groups[name];
    if (value !== undefined) fields[name] = value;
  }
  last.set(id, fields);
  return fields;
}
