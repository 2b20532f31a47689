/**
 * The stateful half of the rules: `frequency` (N matches within T seconds),
 * `after` (this match follows N matches of other rules within T seconds) and
 * their `sameField` / `differentField` conditions. It must see every match of
 * the whole server, because a brute force may arrive over several connections
 * served by different pool workers, so it runs in the single writer worker,
 * on matches whose events have just been stored (so event ids are real).
 *
 * Windows use event time (the time in the log line, else its receive time),
 * so a backlog replayed after an outage is judged by when things happened.
 * Memory is bounded: at most {@linkcode CorrelatorOptions.maxTrackedKeys}
 * windows, the least recently used evicted first, each holding at most its
 * rule's `count` entries.
 *
 * @module
 */

import type { Rule, RuleSet } from "./rule.ts";

/**
 * Default most windows (one per correlation rule and `sameField` values)
 * tracked at once. Beyond it the least recently used window is dropped,
 * which can only delay an alert, never invent one.
 */
export const DEFAULT_MAX_TRACKED_KEYS = 100_000;

/** Options of {@linkcode Correlator}. */
export interface CorrelatorOptions {
  /**
   * Most windows tracked at once.
   * @default {100000}
   */
  readonly maxTrackedKeys?: number;
}

/** A stored event that matched a rule, as the correlator sees it. */
export interface MatchedEvent {
  readonly ruleId: number;
  readonly host: string;
  readonly program: string;
  /** The captured named groups, or null. */
  readonly groups: Readonly<Record<string, string>> | null;
  /** Event time, ms since the epoch. */
  readonly ts: number;
  readonly eventId: number;
}

/** An alert to raise or fold: one occurrence of a rule firing. */
export interface FiredAlert {
  readonly rule: Rule;
  /** Identity of the alert for folding: rule id and the values of its `foldBy` fields. */
  readonly foldKey: string;
  /** The values of the rule's `foldBy` fields. */
  readonly fields: Record<string, string>;
  /** The events that made it fire, oldest first. */
  readonly eventIds: number[];
  readonly firstSeen: number;
  readonly lastSeen: number;
}

interface Entry {
  ts: number;
  eventId: number;
  /** Value of the `differentField`, or "" without one. */
  value: string;
}

/** The value of a field of a match: `host`, `program` or a captured group ("" when absent). */
function field(match: MatchedEvent, name: string): string {
  if (name === "host") return match.host;
  if (name === "program") return match.program;
  return match.groups?.[name] ?? "";
}

/** The values of `names` in a match, as one unambiguous string, without allocating for one name. */
function keyOf(names: readonly string[], match: MatchedEvent): string {
  if (names.length === 1) return field(match, names[0]!);
  return JSON.stringify(names.map((n) => field(match, n)));
}

/**
 * The fold key of an alert: its rule and the values of the rule's `foldBy`
 * fields, as one unambiguous string.
 *
 * @param rule The rule.
 * @param value The value of a field by name ("" when absent).
 * @returns The key.
 * @example
 * ```ts
 * foldKeyOf(rule, (name) => fields[name] ?? "");
 * ```
 */
export function foldKeyOf(rule: Rule, value: (name: string) => string): string {
  let key = String(rule.id);
  for (const name of rule.foldBy) key += "\u0001" + value(name);
  return key;
}

/**
 * Builds the alert for a rule that fired on `fields`.
 *
 * @param rule The rule.
 * @param fields The matched event's fields.
 * @param entries The events it fired on.
 * @returns The alert.
 */
function fire(
  rule: Rule,
  match: MatchedEvent,
  entries: readonly { ts: number; eventId: number }[],
): FiredAlert {
  const picked: Record<string, string> = {};
  for (const name of rule.foldBy) picked[name] = field(match, name);
  let firstSeen = Infinity;
  let lastSeen = -Infinity;
  for (const e of entries) {
    if (e.ts < firstSeen) firstSeen = e.ts;
    if (e.ts > lastSeen) lastSeen = e.ts;
  }
  return {
    rule,
    foldKey: foldKeyOf(rule, (name) => field(match, name)),
    fields: picked,
    eventIds: entries.map((e) => e.eventId),
    firstSeen,
    lastSeen,
  };
}

/**
 * Turns the stream of matches into alerts.
 *
 * @example
 * ```ts
 * const correlator = new Correlator(ruleSet);
 * const alerts = correlator.observe({ ruleId: 5700, fields: { host: "web-01", srcip: "203.0.113.7" }, ts: Date.now(), eventId: 42 });
 * ```
 */
export class Correlator {
  readonly #maxKeys: number;
  #rules = new Map<number, Rule>();
  /** Rule id → the `after` rules that count its matches. */
  #countedBy = new Map<number, Rule[]>();
  /** Windows in least-recently-used order: `f<id>\0<key>` for frequency, `a<id>\0<key>` for after. */
  readonly #windows = new Map<string, Entry[]>();
  #evicted = 0;
  /**
   * While a group's transaction is open ({@linkcode begin}): each window as it
   * was before its first change, undefined for one that did not exist.
   */
  #journal: Map<string, Entry[] | undefined> | null = null;
  #evictedAtBegin = 0;
  /**
   * The window {@linkcode #touch} returned last: already the most recently
   * used and journaled, so an attack's run of matches on one key skips the
   * map work. Forgotten whenever windows change otherwise.
   */
  #lastKey: string | null = null;
  #lastWindow: Entry[] | null = null;
  /** The frequency key built last, for the fields object it was built from. */
  #keyGroups: Readonly<Record<string, string>> | null = null;
  #keyRule = -1;
  #keyText = "";

  /**
   * @param ruleSet The rules.
   * @param options Memory bound.
   */
  constructor(ruleSet: RuleSet, options: CorrelatorOptions = {}) {
    this.#maxKeys = options.maxTrackedKeys ?? DEFAULT_MAX_TRACKED_KEYS;
    this.setRules(ruleSet);
  }

  /** Windows currently tracked. */
  get trackedKeys(): number {
    return this.#windows.size;
  }

  /** Windows dropped so far because {@linkcode CorrelatorOptions.maxTrackedKeys} was reached. */
  get evictedKeys(): number {
    return this.#evicted;
  }

  /** The rule with this id, or undefined. */
  rule(id: number): Rule | undefined {
    return this.#rules.get(id);
  }

  /**
   * Replaces the rules. Windows of correlation rules that are unchanged are
   * kept, so a reload does not forget an attack in progress.
   *
   * @param ruleSet The new rules.
   */
  setRules(ruleSet: RuleSet): void {
    const before = this.#rules;
    this.#rules = new Map(ruleSet.rules.map((r) => [r.id, r]));
    this.#countedBy = new Map();
    for (const rule of ruleSet.rules) {
      for (const id of rule.after?.rules ?? []) {
        const list = this.#countedBy.get(id) ?? [];
        list.push(rule);
        this.#countedBy.set(id, list);
      }
    }
    this.#lastKey = null;
    this.#keyGroups = null;
    const changed = new Set<number>();
    for (const [id, rule] of before) {
      const now = this.#rules.get(id);
      if (!now || JSON.stringify(now) !== JSON.stringify(rule)) changed.add(id);
    }
    if (changed.size === 0) return;
    for (const key of [...this.#windows.keys()]) {
      if (changed.has(Number(key.slice(1, key.indexOf("\0"))))) this.#windows.delete(key);
    }
  }

  /**
   * Starts remembering changes, so that {@linkcode rollback} can undo what the
   * matches of a group whose transaction failed did to the windows.
   */
  begin(): void {
    this.#lastKey = null;
    this.#journal = new Map();
    this.#evictedAtBegin = this.#evicted;
  }

  /** Keeps the changes since {@linkcode begin}. */
  commit(): void {
    this.#journal = null;
  }

  /**
   * Puts every window back as it was at {@linkcode begin} (their order of use
   * aside) and ends the group: its events were not stored, and will be
   * counted when they are.
   */
  rollback(): void {
    this.#lastKey = null;
    const journal = this.#journal;
    if (!journal) return;
    for (const [key, window] of journal) {
      if (window === undefined) this.#windows.delete(key);
      else this.#windows.set(key, window);
    }
    this.#evicted = this.#evictedAtBegin;
    this.#journal = null;
  }

  /** Notes how a window was before its first change since {@linkcode begin}. */
  #remember(key: string): void {
    const journal = this.#journal;
    if (!journal || journal.has(key)) return;
    const window = this.#windows.get(key);
    journal.set(key, window === undefined ? undefined : [...window]);
  }

  /** The window for `key`, created if needed, moved to most recently used. */
  #touch(key: string): Entry[] {
    if (key === this.#lastKey) return this.#lastWindow!;
    this.#remember(key);
    let window = this.#windows.get(key);
    if (window) {
      this.#windows.delete(key);
    } else {
      window = [];
      if (this.#windows.size >= this.#maxKeys) {
        const oldest = this.#windows.keys().next().value!;
        this.#remember(oldest);
        this.#windows.delete(oldest);
        this.#evicted++;
      }
    }
    this.#windows.set(key, window);
    this.#lastKey = key;
    this.#lastWindow = window;
    return window;
  }

  /**
   * Feeds one stored match; returns the alerts it raises (usually none). Only
   * correlation rules raise alerts here: a plain rule's match is only counted
   * for the `after` rules that refer to it (its own alert is folded by the caller).
   *
   * @param match The rule that matched, the event's fields, time and id; not kept (the caller may reuse it).
   * @returns Alerts to fold and store.
   */
  observe(match: MatchedEvent): FiredAlert[] {
    const rule = this.#rules.get(match.ruleId);
    if (!rule) return []; // matched by a rule set that has since been reloaded away
    const fired: FiredAlert[] = [];
    const entry: Entry = { ts: match.ts, eventId: match.eventId, value: "" };
    // A correlation rule's candidates are not counted by `after` rules: its firings are (below).
    const counters = rule.frequency === null && rule.after === null
      ? this.#countedBy.get(rule.id)
      : undefined;
    for (const counter of counters ?? []) {
      const window = this.#touch(`a${counter.id}\0${keyOf(counter.sameField, match)}`);
      const limitMs = counter.after!.withinSeconds * 1000;
      prune(window, match.ts, limitMs);
      window.push(entry);
      if (window.length > counter.after!.count) window.shift();
    }
    if (rule.frequency !== null) {
      // The pool worker shares one fields object between equal matches: same object, same key.
      let key: string;
      if (match.groups !== null && match.groups === this.#keyGroups && rule.id === this.#keyRule) {
        key = this.#keyText;
      } else {
        key = `f${rule.id}\0${keyOf(rule.sameField, match)}`;
        this.#keyGroups = match.groups;
        this.#keyRule = rule.id;
        this.#keyText = key;
      }
      const window = this.#touch(key);
      prune(window, match.ts, rule.frequency.withinSeconds * 1000);
      if (rule.differentField === null) {
        window.push(entry);
      } else {
        // Distinct values: a repeated value refreshes its entry instead of counting twice.
        const value = field(match, rule.differentField);
        const same = window.findIndex((e) => e.value === value);
        if (same >= 0) window.splice(same, 1);
        window.push({ ...entry, value });
      }
      if (window.length >= rule.frequency.count) {
        if (rule.level > 0) fired.push(fire(rule, match, window));
        this.#windows.delete(key); // counting starts over, as in Wazuh
        if (this.#lastKey === key) this.#lastKey = null;
        // A firing counts for the `after` rules that name this rule (a success after a brute force).
        for (const counter of this.#countedBy.get(rule.id) ?? []) {
          const counted = this.#touch(`a${counter.id}\0${keyOf(counter.sameField, match)}`);
          prune(counted, match.ts, counter.after!.withinSeconds * 1000);
          counted.push(entry);
          if (counted.length > counter.after!.count) counted.shift();
        }
      }
    } else if (rule.after !== null) {
      const window = this.#windows.get(`a${rule.id}\0${keyOf(rule.sameField, match)}`);
      if (!window) return fired; // the common case: nothing it counts happened
      const limitMs = rule.after.withinSeconds * 1000;
      const before = window.filter((e) => Math.abs(match.ts - e.ts) <= limitMs);
      if (before.length >= rule.after.count && rule.level > 0) {
        fired.push(fire(rule, match, [...before, entry]));
      }
    }
    return fired;
  }
}

/** Drops entries more than `limitMs` away from `ts`. */
function prune(window: Entry[], ts: number, limitMs: number): void {
  let kept = 0;
  for (let i = 0; i < window.length; i++) {
    const e = window[i]!;
    if (Math.abs(ts - e.ts) <= limitMs) window[kept++] = e;
  }
  window.length = kept;
}
