/**
 * Statistics of the last day, kept in memory and fed incrementally from the
 * events table: per-minute counts by severity, failed logins per minute, top
 * hosts and programs, and events per node in the last hour.
 *
 * Counting a day of events with `GROUP BY` would scan millions of rows on the
 * main thread, which also serves the agents' sockets. Instead the collector
 * reads new rows in small pages of compact digests (`Store.digestEvents`,
 * indexed by id), once a second and within a row budget, so a chart request
 * costs only an in-memory summary. It starts on first use (nobody pays for it
 * until someone opens the console) and reads the last day's backlog the same
 * way, a page at a time.
 *
 * @module
 */

import type { EventDigest, Store } from "../store/store.ts";

/** Minutes of history kept (one day). */
const MINUTES_KEPT = 24 * 60;
/** Width of the buckets that hold host and program counts, in minutes. */
const BLOCK_MINUTES = 10;
/** Buckets of host and program counts. */
const BLOCKS_KEPT = MINUTES_KEPT / BLOCK_MINUTES;
/** Severity slots per minute: 0 (emergency) to 7 (debug), then unknown. */
const SEVERITY_SLOTS = 9;
/**
 * Distinct hosts (and, separately, programs) counted per 10-minute bucket;
 * further names are counted under {@linkcode OTHER_KEY}. Bounds memory when
 * hostnames are attacker-chosen.
 */
export const MAX_NAMES_PER_BUCKET = 2_000;
/** Name under which names beyond {@linkcode MAX_NAMES_PER_BUCKET} are counted. */
export const OTHER_KEY = "(other)";
/** Most nodes whose last-hour count is kept; events of further nodes are not counted per node. */
const MAX_AGENTS_TRACKED = 10_000;
/**
 * Digests read per store call. Each page is one short, indexed query on the
 * main thread, which serves sockets and console requests between two pages:
 * small enough that none waits long behind one.
 */
export const STATS_PAGE_EVENTS = 500;
/**
 * Most digests read per tick. At one tick a second this follows up to 50,000
 * events/s; faster ingest makes statistics lag (shown as `complete: false`)
 * rather than stall the sockets.
 */
export const STATS_MAX_EVENTS_PER_TICK = 50_000;
/**
 * Events read before the earliest event of the last day (by event time) when
 * the collector starts. Events arrive roughly, not strictly, in time order
 * (clocks of hosts differ, agents catch up): this margin lets such events
 * count too; events outside the day are ignored anyway.
 */
const STATS_BACKFILL_MARGIN_EVENTS = 10_000;
/** Time between two reads once caught up, in ms. */
export const STATS_POLL_MS = 1_000;
/** Shortest time between two reads while catching up on the backlog, in ms. */
const STATS_CATCH_UP_MS = 20;
/**
 * Most of the main thread's time that catching up may take: after a read of
 * T ms the next waits T × (1 / share − 1), so a day of backlog after a restart
 * (millions of events) never starves the agents' sockets and the console.
 */
export const STATS_CATCH_UP_SHARE = 0.25;

/**
 * How long to wait before the next read while catching up.
 *
 * @param readMs How long the last read took, in ms.
 * @returns The pause, in ms.
 * @example
 * ```ts
 * catchUpPauseMs(100); // 300: reading takes at most a quarter of the time
 * ```
 */
export function catchUpPauseMs(readMs: number): number {
  return Math.max(STATS_CATCH_UP_MS, readMs * (1 / STATS_CATCH_UP_SHARE - 1));
}
/** Names shown in the top-hosts and top-programs lists. */
const TOP_NAMES = 10;

/**
 * Literal substrings that mark a failed login in a message: OpenSSH, PAM,
 * login(1), su, and NMS's own security events. The console's Live view
 * highlights the same patterns.
 */
export const FAILED_LOGIN_MARKERS: readonly string[] = [
  "Failed password",
  "Failed publickey",
  "authentication failure",
  "Invalid user",
  "FAILED LOGIN",
  "Failed login",
  "FAILED SU",
];

/** Time range of a statistics summary. */
export type StatsRange = "hour" | "day";

/** What `GET /api/stats` returns. */
export interface StatsSummary {
  readonly range: StatsRange;
  /** Start of the first bucket, ms since the epoch. */
  readonly startMs: number;
  /** Width of each bucket, ms. */
  readonly bucketMs: number;
  /**
   * Per severity 0-7 and unknown (index 8): events per minute in each bucket
   * (the average over the bucket when it is wider than a minute).
   */
  readonly perMinuteBySeverity: number[][];
  /** Failed logins per bucket (a count, not a rate). */
  readonly failedLogins: number[];
  readonly topHosts: { name: string; count: number }[];
  readonly topPrograms: { name: string; count: number }[];
  /** Events in the range. */
  readonly total: number;
  /** False while the collector is still reading the backlog or lags behind ingest. */
  readonly complete: boolean;
}

/** Options of {@linkcode StatsCollector}. */
export interface StatsCollectorOptions {
  /**
   * Clock, ms since the epoch.
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * Time between two reads once caught up, in ms.
   * @default {STATS_POLL_MS}
   */
  pollMs?: number;
  /** Called when a read fails (the collector keeps trying). */
  onError?: (error: Error) => void;
}

/**
 * Follows the events table and keeps a day of counters.
 *
 * @example
 * ```ts
 * const stats = new StatsCollector(store);
 * stats.start();
 * const summary = stats.summary("hour");
 * stats.close();
 * ```
 */
export class StatsCollector {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #pollMs: number;
  readonly #onError: (error: Error) => void;
  readonly #minuteStamp = new Float64Array(MINUTES_KEPT).fill(-1);
  readonly #bySeverity = new Uint32Array(MINUTES_KEPT * SEVERITY_SLOTS);
  readonly #failed = new Uint32Array(MINUTES_KEPT);
  readonly #blockStamp = new Float64Array(BLOCKS_KEPT).fill(-1);
  readonly #hosts: Map<string, number>[] = Array.from({ length: BLOCKS_KEPT }, () => new Map());
  readonly #programs: Map<string, number>[] = Array.from({ length: BLOCKS_KEPT }, () => new Map());
  /** Per node: minute stamps and counts of the last 60 minutes. */
  readonly #agents = new Map<number, { stamp: Float64Array; counts: Uint32Array }>();
  #lastId = -1;
  #caughtUp = false;
  #started = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param store A store the collector reads from (the main thread's).
   * @param options Clock and poll interval.
   */
  constructor(store: Store, options: StatsCollectorOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#pollMs = options.pollMs ?? STATS_POLL_MS;
    this.#onError = options.onError ?? (() => {});
  }

  /** Whether the backlog has been read and the collector keeps up with new events. */
  get caughtUp(): boolean {
    return this.#caughtUp;
  }

  /** Starts following the events table (first call only). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Stops reading. Idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Reads whatever is new, up to the per-tick budget. Exposed for tests; the
   * timer calls it.
   *
   * @returns How many events were read.
   */
  async poll(): Promise<number> {
    if (this.#lastId < 0) {
      const since = this.#now() - MINUTES_KEPT * 60_000;
      const first = await this.#store.firstEventIdSince(since);
      if (first !== null) {
        this.#lastId = Math.max(0, first - 1 - STATS_BACKFILL_MARGIN_EVENTS);
      } else {
        const [newest] = await this.#store.queryEvents({ limit: 1 });
        this.#lastId = newest?.id ?? 0;
      }
    }
    let read = 0;
    while (read < STATS_MAX_EVENTS_PER_TICK && !this.#closed) {
      const page = await this.#store.digestEvents(this.#lastId, {
        limit: STATS_PAGE_EVENTS,
        markSubstrings: FAILED_LOGIN_MARKERS,
      });
      for (const digest of page) this.#add(digest);
      read += page.length;
      if (page.length > 0) this.#lastId = page[page.length - 1]!.id;
      if (page.length < STATS_PAGE_EVENTS) {
        this.#caughtUp = true;
        return read;
      }
      // Let sockets and requests run between pages.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    this.#caughtUp = false;
    return read;
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      const started = performance.now();
      try {
        await this.poll();
      } catch (error) {
        this.#onError(error as Error);
      }
      this.#schedule(
        this.#caughtUp ? this.#pollMs : catchUpPauseMs(performance.now() - started),
      );
    }, delayMs);
  }

  #add(d: EventDigest): void {
    const minute = Math.floor(d.ts / 60_000);
    const nowMinute = Math.floor(this.#now() / 60_000);
    if (minute > nowMinute + 1 || minute <= nowMinute - MINUTES_KEPT) return;
    const slot = minute % MINUTES_KEPT;
    const stamp = this.#minuteStamp[slot]!;
    if (stamp > minute) return; // the slot already holds a newer minute
    if (stamp < minute) {
      this.#minuteStamp[slot] = minute;
      this.#bySeverity.fill(0, slot * SEVERITY_SLOTS, (slot + 1) * SEVERITY_SLOTS);
      this.#failed[slot] = 0;
    }
    const severity = d.severity !== null && d.severity >= 0 && d.severity <= 7 ? d.severity : 8;
    this.#bySeverity[slot * SEVERITY_SLOTS + severity]!++;
    if (d.marked) this.#failed[slot]!++;

    const block = Math.floor(minute / BLOCK_MINUTES);
    const blockSlot = block % BLOCKS_KEPT;
    const blockStamp = this.#blockStamp[blockSlot]!;
    if (blockStamp <= block) {
      if (blockStamp < block) {
        this.#blockStamp[blockSlot] = block;
        this.#hosts[blockSlot]!.clear();
        this.#programs[blockSlot]!.clear();
      }
      increment(this.#hosts[blockSlot]!, d.host ?? "(unknown)");
      increment(this.#programs[blockSlot]!, d.program ?? "(unknown)");
    }

    if (d.agentId !== null && minute > nowMinute - 60) {
      let agent = this.#agents.get(d.agentId);
      if (!agent) {
        if (this.#agents.size >= MAX_AGENTS_TRACKED) return;
        agent = { stamp: new Float64Array(60).fill(-1), counts: new Uint32Array(60) };
        this.#agents.set(d.agentId, agent);
      }
      const s = minute % 60;
      if (agent.stamp[s]! > minute) return;
      if (agent.stamp[s]! < minute) {
        agent.stamp[s] = minute;
        agent.counts[s] = 0;
      }
      agent.counts[s]!++;
    }
  }

  /**
   * Events per node with an event time in the last hour.
   *
   * @param agentId The node.
   * @returns The count, or null while the backlog is still being read.
   */
  eventsLastHour(agentId: number): number | null {
    if (!this.#caughtUp) return null;
    const agent = this.#agents.get(agentId);
    if (!agent) return 0;
    const nowMinute = Math.floor(this.#now() / 60_000);
    let total = 0;
    for (let i = 0; i < 60; i++) {
      if (agent.stamp[i]! > nowMinute - 60) total += agent.counts[i]!;
    }
    return total;
  }

  /**
   * Summarises the last hour (1-minute buckets) or day (10-minute buckets).
   *
   * @param range `hour` or `day`.
   * @returns Series for the charts and the top lists.
   */
  summary(range: StatsRange): StatsSummary {
    const nowMinute = Math.floor(this.#now() / 60_000);
    const minutes = range === "hour" ? 60 : MINUTES_KEPT;
    const width = range === "hour" ? 1 : BLOCK_MINUTES;
    const buckets = minutes / width;
    // Buckets end with the current (partial) minute or block.
    const lastStart = Math.floor(nowMinute / width) * width;
    const firstMinute = lastStart - (buckets - 1) * width;
    const perMinute = Array.from({ length: SEVERITY_SLOTS }, () => new Array(buckets).fill(0));
    const failed = new Array(buckets).fill(0);
    let total = 0;
    for (let m = firstMinute; m <= nowMinute; m++) {
      const slot = ((m % MINUTES_KEPT) + MINUTES_KEPT) % MINUTES_KEPT;
      if (this.#minuteStamp[slot] !== m) continue;
      const b = Math.floor((m - firstMinute) / width);
      for (let s = 0; s < SEVERITY_SLOTS; s++) {
        const n = this.#bySeverity[slot * SEVERITY_SLOTS + s]!;
        perMinute[s]![b] += n / width;
        total += n;
      }
      failed[b] += this.#failed[slot]!;
    }
    const hosts = new Map<string, number>();
    const programs = new Map<string, number>();
    const firstBlock = Math.floor(firstMinute / BLOCK_MINUTES);
    for (let block = firstBlock; block <= Math.floor(nowMinute / BLOCK_MINUTES); block++) {
      const slot = block % BLOCKS_KEPT;
      if (this.#blockStamp[slot] !== block) continue;
      for (const [name, n] of this.#hosts[slot]!) hosts.set(name, (hosts.get(name) ?? 0) + n);
      for (const [name, n] of this.#programs[slot]!) {
        programs.set(name, (programs.get(name) ?? 0) + n);
      }
    }
    return {
      range,
      startMs: firstMinute * 60_000,
      bucketMs: width * 60_000,
      perMinuteBySeverity: perMinute.map((series) => series.map((v) => Math.round(v * 100) / 100)),
      failedLogins: failed,
      topHosts: top(hosts),
      topPrograms: top(programs),
      total,
      complete: this.#caughtUp,
    };
  }
}

function increment(counts: Map<string, number>, name: string): void {
  const current = counts.get(name);
  if (current !== undefined) counts.set(name, current + 1);
  else if (counts.size < MAX_NAMES_PER_BUCKET) counts.set(name, 1);
  else counts.set(OTHER_KEY, (counts.get(OTHER_KEY) ?? 0) + 1);
}

function top(counts: Map<string, number>): { name: string; count: number }[] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TOP_NAMES)
    .map(([name, count]) => ({ name, count }));
}
