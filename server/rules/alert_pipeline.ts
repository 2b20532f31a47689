/**
 * The rules' half of the writer worker's group commit. Before the events of a
 * group are appended it matches the batches that came without matches (NMS's
 * own events) and asks the store for the new events' ids; after COMMIT it
 * feeds every stored match to the correlator and folds the alerts of the
 * whole group by identity, so a flood of one alert costs one upsert per group.
 *
 * @module
 */

import {
  type AlertUpsert,
  APPEND_STATUS,
  type EventBatch,
  MAX_ALERT_EVENT_IDS,
} from "../store/store.ts";
import { Correlator, type CorrelatorOptions, type MatchedEvent } from "./correlator.ts";
import { type BatchMatches, RuleEngine } from "./engine.ts";
import { matchBatch } from "./match_batch.ts";
import type { RuleSet } from "./rule.ts";

/** One appended batch and its matches: undefined until matched, null when nothing matched. */
export interface PipelineEntry {
  readonly batch: EventBatch;
  matches?: BatchMatches | null | undefined;
}

/**
 * Rule matching, correlation and folding for the writer.
 *
 * @example
 * ```ts
 * const pipeline = new AlertPipeline(ruleSet);
 * const eventIds = pipeline.prepare(entries);
 * const statuses = await store.appendEvents(batches, eventIds ? { eventIds } : {});
 * const upserts = pipeline.collect(entries, statuses, eventIds);
 * ```
 */
export class AlertPipeline {
  #engine: RuleEngine;
  readonly #correlator: Correlator;

  /**
   * @param ruleSet The rules.
   * @param options The correlator's memory bound.
   */
  constructor(ruleSet: RuleSet, options: CorrelatorOptions = {}) {
    this.#engine = new RuleEngine(ruleSet);
    this.#correlator = new Correlator(ruleSet, options);
  }

  /** Windows the correlator tracks. */
  get trackedKeys(): number {
    return this.#correlator.trackedKeys;
  }

  /**
   * Replaces the rules (SIGHUP); correlation windows of unchanged rules survive.
   *
   * @param ruleSet The new rules.
   */
  setRules(ruleSet: RuleSet): void {
    this.#engine = new RuleEngine(ruleSet);
    this.#correlator.setRules(ruleSet);
  }

  /**
   * Starts a group: what {@linkcode collect} then does to the correlation
   * windows is undone by {@linkcode rollback} (its transaction failed, or it
   * is collected again) and kept by {@linkcode commit}.
   */
  begin(): void {
    this.#correlator.begin();
  }

  /** Keeps what the group's {@linkcode collect} did to the correlation windows. */
  commit(): void {
    this.#correlator.commit();
  }

  /** Undoes what the group's {@linkcode collect} did to the correlation windows, and ends it. */
  rollback(): void {
    this.#correlator.rollback();
  }

  /**
   * Matches the batches that arrived unmatched, and allocates the id arrays
   * for the batches with matches.
   *
   * @param entries The group's batches, in append order; `matches` is filled in.
   * @returns `eventIds` for `Store.appendEvents`, or undefined when nothing matched.
   */
  prepare(entries: PipelineEntry[]): (Float64Array | null)[] | undefined {
    let any = false;
    for (const entry of entries) {
      if (entry.matches === undefined) entry.matches = matchBatch(this.#engine, entry.batch);
      if (entry.matches) any = true;
    }
    if (!any) return undefined;
    return entries.map((e) => (e.matches ? new Float64Array(e.batch.count) : null));
  }

  /**
   * Correlates the stored matches of a group and folds the alerts (called by
   * the store inside the group's transaction, between {@linkcode begin} and
   * {@linkcode commit}).
   *
   * @param entries The group, as passed to {@linkcode prepare}.
   * @param statuses `Store.appendEvents`' statuses: duplicates are not matched again.
   * @param eventIds The arrays from {@linkcode prepare}, filled by the store.
   * @returns The alerts to store (`GroupAlerts.collect` in store.ts), one per identity.
   */
  collect(
    entries: readonly PipelineEntry[],
    statuses: readonly Uint8Array[],
    eventIds: readonly (Float64Array | null)[] | undefined,
  ): AlertUpsert[] {
    const folded = new Map<string, Folding>();
    entries.forEach((entry, b) => {
      const matches = entry.matches;
      if (!matches) return;
      const { batch } = entry;
      const status = statuses[b]!;
      const ids = eventIds?.[b] ?? null;
      // 1. Plain rules' alerts, already folded per batch by the pool worker.
      const { folds } = matches;
      for (let f = 0; f < folds.rule.length; f++) {
        const rule = this.#correlator.rule(folds.rule[f]!);
        if (!rule) continue; // matched by rules that have since been reloaded away
        const occurrence: Folding = {
          ruleId: rule.id,
          level: rule.level,
          description: rule.description,
          foldKey: folds.key[f]!,
          fields: folds.fields[f]!,
          eventIds: [],
          firstSeen: Infinity,
          lastSeen: -Infinity,
          count: 0,
          foldWindowMs: rule.foldSeconds * 1000,
        };
        for (const i of folds.indexes[f]!) {
          if (status[i] !== APPEND_STATUS.stored) continue; // a resend is not a new occurrence
          occurrence.count++;
          const ts = batch.ts[i]!;
          if (ts < occurrence.firstSeen) occurrence.firstSeen = ts;
          if (ts > occurrence.lastSeen) occurrence.lastSeen = ts;
          const id = ids?.[i] ?? 0;
          if (id > 0 && occurrence.eventIds.length < MAX_ALERT_EVENT_IDS) {
            occurrence.eventIds.push(id);
          }
        }
        if (occurrence.count > 0) fold(folded, occurrence);
      }
      // 2. One entry per event where the correlator needs it. The correlator keeps
      // nothing of the object it is given, so one is reused for the whole batch.
      const match = { ruleId: 0, host: "", program: "", groups: null, ts: 0, eventId: 0 } as {
        -readonly [K in keyof MatchedEvent]: MatchedEvent[K];
      };
      for (let k = 0; k < matches.index.length; k++) {
        const i = matches.index[k]!;
        if (status[i] !== APPEND_STATUS.stored) continue;
        match.ruleId = matches.rule[k]!;
        match.host = batch.host[i] ?? "";
        match.program = batch.program[i] ?? "";
        match.groups = matches.fields[k] ?? null;
        match.ts = batch.ts[i]!;
        match.eventId = ids?.[i] ?? 0;
        const fired = this.#correlator.observe(match);
        for (const alert of fired) {
          fold(folded, {
            ruleId: alert.rule.id,
            level: alert.rule.level,
            description: alert.rule.description,
            foldKey: alert.foldKey,
            fields: alert.fields,
            // Stores without event ids (0) still raise the alert, with fewer ids.
            eventIds: alert.eventIds.filter((id) => id > 0).slice(0, MAX_ALERT_EVENT_IDS),
            firstSeen: alert.firstSeen,
            lastSeen: alert.lastSeen,
            count: 1,
            foldWindowMs: alert.rule.foldSeconds * 1000,
          });
        }
      }
    });
    return [...folded.values()];
  }
}

/** An {@linkcode AlertUpsert} being built. */
type Folding = {
  -readonly [K in keyof AlertUpsert]: K extends "eventIds" ? number[] : AlertUpsert[K];
};

/** Adds an occurrence to the group's alerts, folding it into one with the same key. */
function fold(folded: Map<string, Folding>, occurrence: Folding): void {
  const existing = folded.get(occurrence.foldKey);
  if (!existing) {
    folded.set(occurrence.foldKey, occurrence);
    return;
  }
  existing.count += occurrence.count;
  existing.firstSeen = Math.min(existing.firstSeen, occurrence.firstSeen);
  existing.lastSeen = Math.max(existing.lastSeen, occurrence.lastSeen);
  for (const id of occurrence.eventIds) {
    if (existing.eventIds.length >= MAX_ALERT_EVENT_IDS) break;
    existing.eventIds.push(id);
  }
}
