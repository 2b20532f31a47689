/**
 * The conformance suite every {@linkcode Store} implementation must pass
 * (STYLE.md practice 7). `sqlite_store_test.ts` and `postgres_store_test.ts`
 * each call {@linkcode storeConformance} with a way to open a fresh, empty
 * store; the same cases then run against both backends.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isValidUserName } from "./user_name.ts";
import { AGENT_CASES } from "./agent_conformance.ts";
import {
  type AlertUpsert,
  APPEND_STATUS,
  EVENT_FLAGS,
  type EventBatch,
  type EventRecord,
  type GroupAlerts,
  type SourceUpdate,
  type Store,
  StoreError,
} from "./store.ts";

/** A fresh, empty store for one test case. */
export interface StoreFixture {
  /** The store under test. */
  readonly store: Store;
  /**
   * Opens another store on the same data, as a second server would. The
   * caller closes it.
   */
  openAnother(): Promise<Store>;
  /** Closes the store if still open and removes its data. */
  cleanup(): Promise<void>;
}

/** Options of {@linkcode storeConformance}. */
export interface StoreConformanceOptions {
  /**
   * When set, every case is registered as ignored, and one more ignored case
   * states this reason (e.g. no database reachable).
   * @default {undefined}
   */
  ignoreReason?: string;
  /**
   * Whether several stores (servers) may write to the same data at once. The
   * cases that need it are registered as ignored otherwise. SQLite has one
   * writer per database file (the server's writer worker), so its cache of
   * stream positions may be stale when another store writes.
   * @default {false}
   */
  concurrentWriters?: boolean;
}

/** One event of {@linkcode makeBatch}; omitted fields take plain defaults. */
export interface TestEvent {
  ts?: number;
  host?: string | null;
  program?: string | null;
  pid?: number;
  severity?: number;
  facility?: number;
  message?: string;
  raw?: string;
  flags?: number;
  stream?: string | null;
  position?: number;
  msgid?: string | null;
  structuredData?: string | null;
}

/** Receive time of the test batches: a fixed day, so that results never depend on the clock. */
export const TEST_RECEIVED_AT = 1_700_000_000_000;

/**
 * Builds an {@linkcode EventBatch} from event objects.
 *
 * @param events The events, in order.
 * @param options Batch-wide fields.
 * @returns The batch in columns.
 * @example
 * ```ts
 * await store.appendEvents([makeBatch([{ message: "hello" }])]);
 * ```
 */
export function makeBatch(
  events: readonly TestEvent[],
  options: { receivedAt?: number; agentId?: number | null; sources?: SourceUpdate[] } = {},
): EventBatch {
  const receivedAt = options.receivedAt ?? TEST_RECEIVED_AT;
  const withSyslog = events.some((e) => e.msgid !== undefined || e.structuredData !== undefined);
  return {
    count: events.length,
    receivedAt,
    agentId: options.agentId ?? null,
    ts: Float64Array.from(events, (e) => e.ts ?? receivedAt),
    host: events.map((e) => e.host === undefined ? "host-a" : e.host),
    program: events.map((e) => e.program === undefined ? "app" : e.program),
    pid: Int32Array.from(events, (e) => e.pid ?? -1),
    severity: Int8Array.from(events, (e) => e.severity ?? -1),
    facility: Int8Array.from(events, (e) => e.facility ?? -1),
    message: events.map((e, i) => e.message ?? `message ${i}`),
    raw: events.map((e, i) => e.raw ?? e.message ?? `message ${i}`),
    flags: Uint8Array.from(events, (e) => e.flags ?? 0),
    stream: events.map((e) => e.stream ?? null),
    position: Float64Array.from(events, (e) => e.position ?? -1),
    ...(withSyslog
      ? {
        msgid: events.map((e) => e.msgid ?? null),
        structuredData: events.map((e) => e.structuredData ?? null),
      }
      : {}),
    ...(options.sources ? { sources: options.sources } : {}),
  };
}

/** Messages of all events, oldest first. */
async function messages(store: Store): Promise<string[]> {
  return (await store.queryEvents({ limit: 10_000 })).map((e) => e.message).reverse();
}

/** An alert to store, as the rules raise one. */
function testAlert(over: Partial<AlertUpsert> = {}): AlertUpsert {
  return {
    ruleId: 5710,
    level: 10,
    description: "sshd: brute force",
    foldKey: "5710\u0001203.0.113.7",
    fields: { srcip: "203.0.113.7" },
    eventIds: [],
    firstSeen: 1_000,
    lastSeen: 2_000,
    count: 1,
    foldWindowMs: 60_000,
    ...over,
  };
}

function statusesOf(result: Uint8Array[]): number[][] {
  return result.map((statuses) => [...statuses]);
}

const STORED = APPEND_STATUS.stored;
const DUP = APPEND_STATUS.duplicate;

/** Strings that break naive SQL, LIKE patterns, shells or HTML, which must be stored literally. */
export const HOSTILE_STRINGS: readonly string[] = [
  "'; DROP TABLE logs; --",
  'Robert"); DELETE FROM users; --',
  "100% of _all_ \\ backslashes",
  "%",
  "_",
  "\\",
  "$1 $$ ${x} `id`",
  "<script>alert(1)</script>",
  "ünïcødé ✓ 日本語 🚀",
  "a\tb",
  "OR 1=1",
];

type Case = (fixture: StoreFixture) => Promise<void>;

/** Cases that only hold where several stores write to the same data (see `concurrentWriters`). */
const CONCURRENT_WRITER_CASES = new Set<string>();

function concurrentWriters(title: string): string {
  CONCURRENT_WRITER_CASES.add(title);
  return title;
}

const CASES: [string, Case][] = [
  ["appendEvents() stores every field and queryEvents() reads it back", async ({ store }) => {
    const result = await store.appendEvents([makeBatch([
      {
        ts: TEST_RECEIVED_AT - 5000,
        host: "web-1",
        program: "sshd",
        pid: 812,
        severity: 3,
        facility: 4,
        message: "Accepted publickey for deploy",
        raw: "<35>Nov 14 22:13:15 web-1 sshd[812]: Accepted publickey for deploy",
        flags: EVENT_FLAGS.gap,
        msgid: "ID47",
        structuredData: '[exampleSDID@32473 iut="3"]',
      },
      {
        host: null,
        program: null,
        message: "raw line",
        flags: EVENT_FLAGS.unparsed,
      },
    ], { agentId: 7 })]);
    assert.deepEqual(statusesOf(result), [[STORED, STORED]]);
    const [second, first] = await store.queryEvents({});
    assert.ok(first && second && second.id > first.id);
    const expected: Omit<EventRecord, "id"> = {
      receivedAt: TEST_RECEIVED_AT,
      ts: TEST_RECEIVED_AT - 5000,
      host: "web-1",
      agentId: 7,
      program: "sshd",
      pid: 812,
      severity: 3,
      facility: 4,
      message: "Accepted publickey for deploy",
      raw: "<35>Nov 14 22:13:15 web-1 sshd[812]: Accepted publickey for deploy",
      flags: EVENT_FLAGS.gap,
      msgid: "ID47",
      structuredData: '[exampleSDID@32473 iut="3"]',
    };
    const { id: _id, ...rest } = first;
    assert.deepEqual({ ...rest, msgid: rest.msgid ?? null }, expected);
    assert.equal(second.host, null);
    assert.equal(second.program, null);
    assert.equal(second.pid, null);
    assert.equal(second.severity, null);
    assert.equal(second.facility, null);
    assert.equal(second.flags, EVENT_FLAGS.unparsed);
    assert.equal(second.msgid ?? null, null);
    assert.equal(second.structuredData ?? null, null);
  }],

  ["appendEvents() returns one status per event of each batch, in order", async ({ store }) => {
    const result = await store.appendEvents([
      makeBatch([{ message: "a" }, { message: "b" }]),
      makeBatch([]),
      makeBatch([{ message: "c" }]),
    ]);
    assert.deepEqual(statusesOf(result), [[STORED, STORED], [], [STORED]]);
    assert.deepEqual(await messages(store), ["a", "b", "c"]);
    assert.deepEqual(await store.appendEvents([]), []);
  }],

  ["appendEvents() stores a resent origin once and reports it as duplicate", async ({ store }) => {
    const first = await store.appendEvents([makeBatch([
      { stream: "s1", position: 1, message: "one" },
      { stream: "s1", position: 2, message: "two" },
    ])]);
    assert.deepEqual(statusesOf(first), [[STORED, STORED]]);
    const again = await store.appendEvents([makeBatch([
      { stream: "s1", position: 1, message: "one" },
      { stream: "s1", position: 2, message: "two" },
      { stream: "s1", position: 3, message: "three" },
    ])]);
    assert.deepEqual(statusesOf(again), [[DUP, DUP, STORED]]);
    assert.deepEqual(await messages(store), ["one", "two", "three"]);
  }],

  ["appendEvents() stores an origin repeated within one call once", async ({ store }) => {
    const result = await store.appendEvents([
      makeBatch([
        { stream: "s1", position: 5, message: "first" },
        { stream: "s1", position: 5, message: "again in the batch" },
      ]),
      makeBatch([{ stream: "s1", position: 5, message: "again in the group" }]),
    ]);
    assert.deepEqual(statusesOf(result), [[STORED, DUP], [DUP]]);
    assert.deepEqual(await messages(store), ["first"]);
  }],

  ["appendEvents() accepts positions out of order and below stored ones", async ({ store }) => {
    await store.appendEvents([makeBatch([{ stream: "s", position: 10, message: "10" }])]);
    const result = await store.appendEvents([makeBatch([
      { stream: "s", position: 3, message: "3" },
      { stream: "s", position: 10, message: "10 again" },
      { stream: "s", position: 7, message: "7" },
    ])]);
    assert.deepEqual(statusesOf(result), [[STORED, DUP, STORED]]);
    assert.deepEqual(await messages(store), ["10", "3", "7"]);
  }],

  ["appendEvents() keeps the positions of different streams apart", async ({ store }) => {
    const result = await store.appendEvents([makeBatch([
      { stream: "host-a:/var/log/syslog", position: 1, message: "a1" },
      { stream: "host-b:/var/log/syslog", position: 1, message: "b1" },
      { stream: "host-a:/var/log/syslog", position: 1, message: "a1 again" },
    ])]);
    assert.deepEqual(statusesOf(result), [[STORED, STORED, DUP]]);
  }],

  ["appendEvents() never treats events without an origin as duplicates", async ({ store }) => {
    const same = { message: "identical", raw: "identical" };
    const result = await store.appendEvents([makeBatch([same, same]), makeBatch([same])]);
    assert.deepEqual(statusesOf(result), [[STORED, STORED], [STORED]]);
    assert.deepEqual(statusesOf(await store.appendEvents([makeBatch([same])])), [[STORED]]);
    assert.equal(await store.countEvents(), 4);
  }],

  ["appendEvents() on a second store finds the origins the first one stored", async (fixture) => {
    const { store } = fixture;
    // Server A stores 1-3; the agent fails over to server B and resends 2-5.
    const onA = await store.appendEvents([makeBatch([1, 2, 3].map((p) => ({
      stream: "agent-1",
      position: p,
      message: `line ${p}`,
    })))]);
    assert.deepEqual(statusesOf(onA), [[STORED, STORED, STORED]]);
    const other = await fixture.openAnother();
    try {
      const onB = await other.appendEvents([makeBatch([2, 3, 4, 5].map((p) => ({
        stream: "agent-1",
        position: p,
        message: `line ${p}`,
      })))]);
      assert.deepEqual(statusesOf(onB), [[DUP, DUP, STORED, STORED]]);
      assert.deepEqual(await messages(other), [1, 2, 3, 4, 5].map((p) => `line ${p}`));
    } finally {
      await other.close();
    }
  }],

  [
    concurrentWriters("appendEvents() keeps exactly-once while two stores write alternately"),
    async (fixture) => {
      const { store } = fixture;
      const other = await fixture.openAnother();
      const send = (target: Store, positions: number[]) =>
        target.appendEvents([makeBatch(positions.map((p) => ({
          stream: "agent-1",
          position: p,
          message: `line ${p}`,
        })))]);
      try {
        assert.deepEqual(statusesOf(await send(store, [1, 2, 3])), [[STORED, STORED, STORED]]);
        assert.deepEqual(statusesOf(await send(other, [2, 3, 4, 5])), [[DUP, DUP, STORED, STORED]]);
        // Back to A, which must not trust what it remembers about the stream.
        assert.deepEqual(statusesOf(await send(store, [4, 5, 6])), [[DUP, DUP, STORED]]);
        assert.deepEqual(statusesOf(await send(other, [6, 7])), [[DUP, STORED]]);
        assert.deepEqual(await messages(store), [1, 2, 3, 4, 5, 6, 7].map((p) => `line ${p}`));
      } finally {
        await other.close();
      }
    },
  ],

  [
    concurrentWriters("appendEvents() from two stores at once stores each origin exactly once"),
    async (fixture) => {
      const { store } = fixture;
      const other = await fixture.openAnother();
      try {
        const batch = (from: number, to: number) =>
          makeBatch(
            Array.from({ length: to - from + 1 }, (_, i) => ({
              stream: `s${(from + i) % 3}`,
              position: from + i,
              message: `m${from + i}`,
            })),
          );
        const [a, b] = await Promise.all([
          store.appendEvents([batch(1, 300), batch(301, 400)]),
          other.appendEvents([batch(200, 500)]),
        ]);
        const stored = [...statusesOf(a).flat(), ...statusesOf(b).flat()].filter((s) =>
          s === STORED
        ).length;
        assert.equal(stored, 500);
        const all = await messages(store);
        assert.equal(all.length, 500);
        assert.equal(new Set(all).size, 500);
      } finally {
        await other.close();
      }
    },
  ],

  ["appendEvents() commits many rows in one call", async ({ store }) => {
    const count = 12_345;
    const events = Array.from({ length: count }, (_, i) => ({
      stream: "bulk",
      position: i + 1,
      message: `bulk ${i}`,
    }));
    const result = await store.appendEvents([
      makeBatch(events.slice(0, 5000)),
      makeBatch(events.slice(5000)),
    ]);
    assert.equal(statusesOf(result).flat().filter((s) => s === STORED).length, count);
    assert.equal(await store.countEvents(), count);
    const [newest] = await store.queryEvents({ limit: 1 });
    assert.equal(newest?.message, `bulk ${count - 1}`);
  }],

  ["queryEvents() filters by host, program, severity and time", async ({ store }) => {
    const t = TEST_RECEIVED_AT;
    await store.appendEvents([makeBatch([
      { host: "web-1", program: "sshd", severity: 6, ts: t - 3000, message: "w1 sshd info" },
      { host: "web-1", program: "cron", severity: 3, ts: t - 2000, message: "w1 cron err" },
      { host: "db-1", program: "sshd", severity: 2, ts: t - 1000, message: "d1 sshd crit" },
      { host: "db-1", program: "postgres", ts: t, message: "d1 pg unknown severity" },
    ])]);
    const of = async (query: Parameters<Store["queryEvents"]>[0]) =>
      (await store.queryEvents(query)).map((e) => e.message).reverse();
    assert.deepEqual(await of({ host: "web-1" }), ["w1 sshd info", "w1 cron err"]);
    assert.deepEqual(await of({ program: "sshd" }), ["w1 sshd info", "d1 sshd crit"]);
    assert.deepEqual(await of({ maxSeverity: 3 }), ["w1 cron err", "d1 sshd crit"]);
    assert.deepEqual(await of({ sinceMs: t - 2000 }), [
      "w1 cron err",
      "d1 sshd crit",
      "d1 pg unknown severity",
    ]);
    assert.deepEqual(await of({ untilMs: t - 2000 }), ["w1 sshd info"]);
    assert.deepEqual(
      await of({ host: "db-1", program: "sshd", maxSeverity: 2, sinceMs: t - 1000 }),
      [
        "d1 sshd crit",
      ],
    );
    assert.deepEqual(await of({ host: "nowhere" }), []);
  }],

  ["queryEvents() matches `contains` as a literal, case-sensitive substring", async ({ store }) => {
    await store.appendEvents([makeBatch([
      { message: "disk 100% full" },
      { message: "disk 1000 full" },
      { message: "user_name=x" },
      { message: "username=x" },
      { message: "path C:\\temp" },
      { message: "Failed password" },
    ])]);
    const of = async (contains: string) =>
      (await store.queryEvents({ contains })).map((e) => e.message).reverse();
    assert.deepEqual(await of("100%"), ["disk 100% full"]);
    assert.deepEqual(await of("%"), ["disk 100% full"]);
    assert.deepEqual(await of("user_"), ["user_name=x"]);
    assert.deepEqual(await of("C:\\t"), ["path C:\\temp"]);
    assert.deepEqual(await of("failed"), []);
    assert.deepEqual(await of("Failed"), ["Failed password"]);
    assert.equal((await of("")).length, 6);
  }],

  ["queryEvents() pages with beforeId and follows with afterId", async ({ store }) => {
    await store.appendEvents([
      makeBatch(Array.from({ length: 150 }, (_, i) => ({ message: `e${i}` }))),
    ]);
    const newest = await store.queryEvents({});
    assert.equal(newest.length, 100, "default limit");
    assert.equal(newest[0]!.message, "e149");
    assert.ok(newest.every((e, i) => i === 0 || e.id < newest[i - 1]!.id), "newest first");
    const older = await store.queryEvents({ beforeId: newest.at(-1)!.id, limit: 100 });
    assert.equal(older.length, 50);
    assert.equal(older[0]!.message, "e49");
    const following = await store.queryEvents({ afterId: older[0]!.id, limit: 3 });
    assert.deepEqual(following.map((e) => e.message), ["e50", "e51", "e52"]);
    assert.deepEqual(await store.queryEvents({ afterId: newest[0]!.id }), []);
    assert.equal((await store.queryEvents({ limit: 0 })).length, 1, "limit is at least 1");
    assert.equal((await store.queryEvents({ limit: 1_000_000 })).length, 150);
  }],

  ["countEvents() counts all, matching, and stops at atMost", async ({ store }) => {
    assert.equal(await store.countEvents(), 0);
    await store.appendEvents([makeBatch([
      { host: "a", message: "x one" },
      { host: "a", message: "y two" },
      { host: "b", message: "x three" },
    ])]);
    assert.equal(await store.countEvents(), 3);
    assert.equal(await store.countEvents({ host: "a" }), 2);
    assert.equal(await store.countEvents({ contains: "x " }), 2);
    assert.equal(await store.countEvents({ host: "a", contains: "x" }), 1);
    assert.equal(await store.countEvents({}, { atMost: 2 }), 2);
    assert.equal(await store.countEvents({ host: "b" }, { atMost: 10 }), 1);
    assert.equal(await store.countEvents({ host: "a", limit: 1, afterId: 1_000_000 }), 2);
  }],

  ["digestEvents() returns compact rows after an id and marks substrings", async ({ store }) => {
    await store.appendEvents([makeBatch([
      { host: "h", program: "sshd", severity: 4, message: "Failed password for root" },
      { host: "h", program: "sshd", severity: 6, message: "Accepted password" },
      { host: null, program: null, message: "Invalid user 100%_x" },
    ], { agentId: 3 })]);
    const all = await store.queryEvents({ afterId: 0 });
    const digests = await store.digestEvents(all[0]!.id - 1, {
      limit: 10,
      markSubstrings: ["Failed password", "user 100%_", ""],
    });
    assert.deepEqual(
      digests.map((d) => [d.id, d.host, d.program, d.severity, d.agentId, d.marked]),
      [
        [all[0]!.id, "h", "sshd", 4, 3, true],
        [all[1]!.id, "h", "sshd", 6, 3, false],
        [all[2]!.id, null, null, null, 3, true],
      ],
    );
    assert.equal(digests[0]!.ts, all[0]!.ts);
    const page = await store.digestEvents(all[0]!.id, { limit: 1, markSubstrings: [] });
    assert.deepEqual(page.map((d) => [d.id, d.marked]), [[all[1]!.id, false]]);
  }],

  ["firstEventIdSince() finds the earliest event at or after a time", async ({ store }) => {
    assert.equal(await store.firstEventIdSince(0), null);
    const t = TEST_RECEIVED_AT;
    await store.appendEvents([makeBatch([
      { ts: t - 100, message: "late-arriving old" },
      { ts: t - 500, message: "oldest" },
      { ts: t, message: "newest" },
    ])]);
    const ids = new Map((await store.queryEvents({})).map((e) => [e.message, e.id]));
    assert.equal(await store.firstEventIdSince(t - 1000), ids.get("oldest"));
    assert.equal(await store.firstEventIdSince(t - 100), ids.get("late-arriving old"));
    assert.equal(await store.firstEventIdSince(t + 1), null);
  }],

  ["registerAgent() creates a node once per hostname and updates it", async ({ store }) => {
    const id = await store.registerAgent({
      hostname: "web-1",
      version: "1.0",
      os: "Debian 12",
      address: "10.0.0.5:4000",
      at: 1000,
    });
    await store.markAgentStopped(id, 1500);
    const again = await store.registerAgent({
      hostname: "web-1",
      version: "1.1",
      os: "Debian 13",
      address: "10.0.0.6:4001",
      at: 2000,
    });
    assert.equal(again, id);
    const [agent] = await store.listAgents();
    assert.deepEqual(agent, {
      id,
      hostname: "web-1",
      version: "1.1",
      os: "Debian 13",
      address: "10.0.0.6:4001",
      firstSeen: 1000,
      lastSeen: 2000,
      lastHeartbeat: null,
      uptimeSeconds: null,
      lagBytes: null,
      stoppedAt: null,
    });
  }],

  ["recordHeartbeat() and markAgentStopped() update a node", async ({ store }) => {
    const id = await store.registerAgent({
      hostname: "db-1",
      version: "1.0",
      os: "Alpine",
      address: "10.0.0.7:5000",
      at: 1000,
    });
    await store.recordHeartbeat({ agentId: id, uptimeSeconds: 60, lagBytes: 4096, at: 2000 });
    await store.recordHeartbeat({ agentId: id, uptimeSeconds: 90, lagBytes: null, at: 3000 });
    let [agent] = await store.listAgents();
    assert.equal(agent?.lastHeartbeat, 3000);
    assert.equal(agent?.lastSeen, 3000);
    assert.equal(agent?.uptimeSeconds, 90);
    assert.equal(agent?.lagBytes, 4096, "a heartbeat without lag keeps the last one");
    assert.equal(agent?.stoppedAt, null);
    await store.markAgentStopped(id, 4000);
    [agent] = await store.listAgents();
    assert.equal(agent?.stoppedAt, 4000);
    assert.equal(agent?.lastSeen, 4000);
    await store.recordHeartbeat({ agentId: id, uptimeSeconds: 5, lagBytes: 0, at: 5000 });
    [agent] = await store.listAgents();
    assert.equal(agent?.stoppedAt, null, "a heartbeat clears the stopped mark");
    assert.equal(agent?.lagBytes, 0);
    // Unknown ids are ignored.
    await store.recordHeartbeat({ agentId: id + 1000, uptimeSeconds: 1, lagBytes: null, at: 1 });
    await store.markAgentStopped(id + 1000, 1);
  }],

  ["listAgents() orders nodes by hostname, byte-wise", async ({ store }) => {
    for (const hostname of ["web-2", "Web-3", "db-1", "web-10"]) {
      await store.registerAgent({ hostname, version: "1", os: "x", address: "a", at: 1 });
    }
    assert.deepEqual((await store.listAgents()).map((a) => a.hostname), [
      "Web-3",
      "db-1",
      "web-10",
      "web-2",
    ]);
  }],

  ["users: create, find, list, change and remove", async ({ store }) => {
    assert.equal(await store.countUsers(), 0);
    const before = Date.now();
    const alice = await store.createUser("alice", "hash-a", "admin");
    assert.equal(alice.username, "alice");
    assert.equal(alice.passwordHash, "hash-a");
    assert.equal(alice.role, "admin");
    assert.ok(alice.createdAt >= before - 1000 && alice.createdAt <= Date.now() + 1000);
    await store.createUser("Bob", "hash-b", "viewer");
    await store.createUser("agent-7", "hash-c", "agent");
    assert.equal(await store.countUsers(), 3);
    assert.deepEqual((await store.listUsers()).map((u) => u.username), ["Bob", "agent-7", "alice"]);
    assert.deepEqual(await store.findUser("alice"), alice);
    assert.equal(await store.findUser("ALICE"), undefined, "names are case-sensitive");
    assert.equal(await store.findUser("nobody"), undefined);
    assert.equal(await store.setPasswordHash("alice", "hash-a2"), true);
    assert.equal((await store.findUser("alice"))?.passwordHash, "hash-a2");
    assert.equal(await store.setPasswordHash("nobody", "x"), false);
    assert.equal(await store.setUserRole("Bob", "admin"), true);
    assert.equal((await store.findUser("Bob"))?.role, "admin");
    assert.equal(await store.setUserRole("nobody", "viewer"), false);
    assert.equal(await store.removeUser("agent-7"), true);
    assert.equal(await store.removeUser("agent-7"), false);
    assert.equal(await store.countUsers(), 2);
  }],

  ["createUser() rejects a taken name with a conflict StoreError", async ({ store }) => {
    await store.createUser("carol", "h1", "viewer");
    await assert.rejects(
      () => store.createUser("carol", "h2", "admin"),
      (error: unknown) => error instanceof StoreError && error.code === "conflict",
    );
    assert.equal((await store.findUser("carol"))?.passwordHash, "h1");
  }],

  ["hostile strings are stored and found literally", async ({ store }) => {
    // User names follow one rule (user_name.ts): most of these are refused, never spliced.
    const userNames = HOSTILE_STRINGS.filter(isValidUserName);
    for (const [i, text] of HOSTILE_STRINGS.entries()) {
      if (isValidUserName(text)) await store.createUser(text, `hash ${i}`, "viewer");
      else {
        await assert.rejects(
          () => store.createUser(text, `hash ${i}`, "viewer"),
          (error: unknown) => error instanceof StoreError && error.code === "invalid",
          text,
        );
      }
      await store.registerAgent({ hostname: text, version: text, os: text, address: text, at: i });
    }
    await store.appendEvents([makeBatch(HOSTILE_STRINGS.map((text) => ({
      host: text,
      program: text,
      message: `before ${text} after`,
      raw: text,
    })))]);
    assert.equal(await store.countUsers(), userNames.length);
    assert.equal(await store.countEvents(), HOSTILE_STRINGS.length);
    for (const [i, text] of HOSTILE_STRINGS.entries()) {
      const hash = isValidUserName(text) ? `hash ${i}` : undefined;
      assert.equal((await store.findUser(text))?.passwordHash, hash, text);
      const byHost = await store.queryEvents({ host: text });
      assert.deepEqual(byHost.map((e) => [e.program, e.raw]), [[text, text]], text);
      const found = await store.queryEvents({ contains: text });
      assert.ok(found.some((e) => e.message === `before ${text} after`), text);
      assert.ok(found.every((e) => e.message.includes(text)), text);
    }
    const hostnames = (await store.listAgents()).map((a) => a.hostname).sort();
    assert.deepEqual(hostnames, [...HOSTILE_STRINGS].sort());
    assert.equal(await store.removeUser("' OR '1'='1"), false);
    assert.equal(await store.countUsers(), userNames.length);
  }],

  [
    "createUser() refuses a name outside the user-name rule, @-prefixed ones included",
    async ({ store }) => {
      for (const name of ["@token", "@admin", "", "a".repeat(65), "two words", "nul\0", "é"]) {
        await assert.rejects(
          () => store.createUser(name, "h", "admin"),
          (error: unknown) => error instanceof StoreError && error.code === "invalid",
          JSON.stringify(name),
        );
      }
      for (const name of ["web-01", "a@b", "_svc", "Ops.Team", "a".repeat(64)]) {
        assert.equal((await store.createUser(name, "h", "viewer")).username, name);
      }
      assert.equal(await store.countUsers(), 5);
    },
  ],

  ["listSources() aggregates syslog senders from appended batches", async ({ store }) => {
    assert.deepEqual(await store.listSources(), []);
    const update = (address: string, fields: Partial<SourceUpdate>): SourceUpdate => ({
      address,
      transport: "udp",
      hostname: null,
      events: 1,
      unparsed: 0,
      at: 1000,
      ...fields,
    });
    await store.appendEvents([
      makeBatch([{ message: "a" }], {
        sources: [
          update("192.0.2.10", { hostname: "switch-1", events: 3, unparsed: 1, at: 1000 }),
          update("192.0.2.20", { events: 2, at: 1100 }),
        ],
      }),
      makeBatch([{ message: "b" }], {
        sources: [update("192.0.2.10", { transport: "tcp", events: 2, at: 1200 })],
      }),
    ]);
    await store.appendEvents([makeBatch([{ message: "c" }], {
      sources: [update("192.0.2.20", { hostname: "router-1", events: 1, unparsed: 1, at: 900 })],
    })]);
    const sources = await store.listSources();
    assert.deepEqual(
      sources.map((s) => ({ ...s, id: 0 })),
      [
        {
          id: 0,
          address: "192.0.2.20",
          hostname: "router-1",
          transport: "udp",
          firstSeen: 1100,
          lastSeen: 1100,
          events: 3,
          unparsed: 1,
        },
        {
          id: 0,
          address: "192.0.2.10",
          hostname: "switch-1",
          transport: "tcp",
          firstSeen: 1000,
          lastSeen: 1200,
          events: 5,
          unparsed: 1,
        },
      ],
    );
  }],

  ["data survives closing and reopening the store", async (fixture) => {
    await fixture.store.appendEvents([makeBatch([{ stream: "s", position: 1, message: "kept" }])]);
    await fixture.store.createUser("dave", "h", "viewer");
    await fixture.store.close();
    await fixture.store.close(); // idempotent
    const reopened = await fixture.openAnother();
    try {
      assert.deepEqual(await messages(reopened), ["kept"]);
      assert.equal((await reopened.findUser("dave"))?.role, "viewer");
      const again = await reopened.appendEvents([makeBatch([{ stream: "s", position: 1 }])]);
      assert.deepEqual(statusesOf(again), [[DUP]]);
    } finally {
      await reopened.close();
    }
  }],
  // Ids, histogram and full-text search.
  ["appendEvents() fills eventIds with the id of each stored event", async ({ store }) => {
    await store.appendEvents([makeBatch([{ stream: "s", position: 2, message: "old" }])]);
    const eventIds = [new Float64Array(3).fill(-1), null, new Float64Array(1).fill(-1)];
    await store.appendEvents([
      makeBatch([
        { stream: "s", position: 1, message: "one" },
        { stream: "s", position: 2, message: "dup" },
        { message: "no origin" },
      ]),
      makeBatch([{ message: "skipped batch" }]),
      makeBatch([{ message: "last" }]),
    ], { eventIds });
    const byMessage = new Map((await store.queryEvents({})).map((e) => [e.message, e.id]));
    assert.deepEqual([...eventIds[0]!], [byMessage.get("one"), -1, byMessage.get("no origin")]);
    assert.deepEqual([...eventIds[2]!], [byMessage.get("last")]);
  }],

  ["eventHistogram() counts events per time bucket", async ({ store }) => {
    const t = 1_700_000_040_000; // a whole minute
    await store.appendEvents([makeBatch([
      { ts: t - 1 },
      { ts: t },
      { ts: t + 59_999 },
      { ts: t + 60_000 },
      { ts: t + 180_000 },
      { ts: t + 300_000 },
    ])]);
    assert.deepEqual(
      await store.eventHistogram({ sinceMs: t, untilMs: t + 300_000, bucketMs: 60_000 }),
      [
        { start: t, count: 2 },
        { start: t + 60_000, count: 1 },
        { start: t + 180_000, count: 1 },
      ],
    );
  }],

  [
    "queryEvents() matches `contains` in the whole line, not only the message",
    async ({ store }) => {
      await store.appendEvents([makeBatch([
        { raw: "<13>Nov 14 web-1 sshd[1]: hello", message: "hello", host: "web-1" },
      ])]);
      assert.equal((await store.queryEvents({ contains: "sshd[1]" })).length, 1);
      assert.equal(await store.countEvents({ contains: "<13>" }), 1);
    },
  ],

  [
    "queryEvents() finds `text` keywords before and after the full-text index",
    async ({ store }) => {
      const line = (message: string) => ({ message, raw: `web-1 app: ${message}`, program: "app" });
      await store.appendEvents([makeBatch([
        line("Failed password for root from 203.0.113.7"),
        line("Accepted publickey for deploy"),
        line("FAILED to start unit nginx.service"),
      ])]);
      const find = async (text: string) =>
        (await store.queryEvents({ text })).map((e) => e.message).reverse();
      const check = async () => {
        assert.deepEqual(await find("failed"), [
          "Failed password for root from 203.0.113.7",
          "FAILED to start unit nginx.service",
        ]);
        assert.deepEqual(await find("fail root"), ["Failed password for root from 203.0.113.7"]);
        assert.deepEqual(await find("203.0.113"), ["Failed password for root from 203.0.113.7"]);
        assert.deepEqual(await find("nginx.service"), ["FAILED to start unit nginx.service"]);
        assert.deepEqual(await find("deploy nothing"), []);
        assert.deepEqual(await find("\"' & | ! :* ("), [], "query syntax is never interpreted");
        assert.equal(await store.countEvents({ text: "failed" }), 2);
        assert.equal(await store.countEvents({ text: "failed" }, { atMost: 1 }), 1);
      };
      await check(); // nothing indexed yet: the tail scan finds them
      if (store.indexText) {
        const stored = (await store.queryEvents({ limit: 100 })).length;
        assert.equal(await store.textIndexLag?.(), stored, "every event waits for the index");
        assert.equal(await store.indexText(2), 2);
        assert.equal(await store.textIndexLag?.(), stored - 2);
        await check(); // half indexed
        while (await store.indexText(100) > 0);
        assert.equal(await store.textIndexLag?.(), 0);
        assert.deepEqual(await find("ailed"), [], "an indexed keyword starts a word");
        await store.appendEvents([makeBatch([line("failed again, after indexing")])]);
        assert.deepEqual(
          (await store.queryEvents({ text: "failed", limit: 2 })).map((e) => e.message),
          [
            "failed again, after indexing",
            "FAILED to start unit nginx.service",
          ],
        );
        assert.equal(await store.countEvents({ text: "FAILED" }), 3);
      }
    },
  ],
  [
    "indexText() stops a step once the raw lines it took reach maxBytes, but takes at least one",
    async ({ store }) => {
      if (!store.indexText) return;
      const long = (i: number) => ({ message: `long line ${i} ` + "a".repeat(1000) });
      await store.appendEvents([makeBatch(Array.from({ length: 10 }, (_, i) => long(i)))]);
      const lag = await store.textIndexLag?.() ?? 0;
      // Each raw line is over 1,000 bytes: a 2,500-byte step takes three, never the ten rows allowed.
      assert.equal(await store.indexText(10, 2500), 3);
      assert.equal(await store.indexText(10, 1), 1);
      assert.equal(await store.textIndexLag?.(), lag - 4);
      assert.equal(await store.indexText(100), 6);
      assert.equal(await store.countEvents({ text: "long" }), 10);
    },
  ],

  [
    "pruneEvents() removes events received before the cutoff, storageInfo() tells the oldest",
    async ({ store }) => {
      if (!store.pruneEvents || !store.storageInfo) return; // optional methods
      const day = 86_400_000;
      const d = 19_700 * day;
      await store.appendEvents([
        makeBatch([{ message: "d0 a" }, { message: "d0 b" }], { receivedAt: d + 3_600_000 }),
        makeBatch([{ message: "d1 early" }], { receivedAt: d + day + 1_800_000 }),
        makeBatch([{ message: "d1 late" }], { receivedAt: d + day + 7_200_000 }),
        makeBatch([{ message: "d3" }], { receivedAt: d + 3 * day }),
      ]);
      assert.equal((await store.storageInfo()).oldestReceivedAt, d + 3_600_000);
      for (let step = 0; step < 10; step++) {
        const result = await store.pruneEvents({
          receivedBeforeMs: d + day + 3_600_000,
          maxRows: 1,
        });
        if (!result.more) break;
      }
      assert.deepEqual(await messages(store), ["d1 late", "d3"]);
      const info = await store.storageInfo();
      assert.equal(info.oldestReceivedAt, d + day + 7_200_000);
      assert.equal(info.oldestEventTs, d + day + 7_200_000);
      // The newest event is kept whatever the cutoff.
      for (let step = 0; step < 10; step++) {
        if (
          !(await store.pruneEvents({ receivedBeforeMs: d + 10 * day, maxRows: 100 })).more
        ) break;
      }
      assert.deepEqual(await messages(store), ["d3"]);
    },
  ],

  // Alerts (server/rules/).
  [
    "alerts stored with a group are inserted, folded within the window, and listAlerts()/countAlerts() filter",
    async ({ store }) => {
      const alert = (over: Partial<AlertUpsert> = {}): AlertUpsert => ({
        ruleId: 5710,
        level: 10,
        description: "sshd: brute force",
        foldKey: "5710\u0001203.0.113.7",
        fields: { srcip: "203.0.113.7" },
        eventIds: [1, 2, 3],
        firstSeen: 1_000,
        lastSeen: 2_000,
        count: 1,
        foldWindowMs: 60_000,
        ...over,
      });
      // As the writer stores them: with a group of events, in its transaction.
      const storeWithGroup = async (alerts: AlertUpsert[], at: number) => {
        const group: GroupAlerts = { at, stored: [], collect: () => alerts };
        await store.appendEvents([makeBatch([{ message: `group at ${at}` }])], { alerts: group });
        assert.equal(group.error, undefined);
        return group.stored;
      };
      const [first] = await storeWithGroup([alert()], 10);
      assert.deepEqual({ ...first!, id: 0 }, {
        id: 0,
        ruleId: 5710,
        level: 10,
        description: "sshd: brute force",
        fields: { srcip: "203.0.113.7" },
        eventIds: [1, 2, 3],
        firstSeen: 1_000,
        lastSeen: 2_000,
        count: 1,
        updatedAt: 10,
      });
      // Within the window: folded, count and ids grow.
      const [folded] = await storeWithGroup(
        [alert({ eventIds: [4], firstSeen: 30_000, lastSeen: 31_000, count: 2 })],
        20,
      );
      assert.equal(folded!.id, first!.id);
      assert.equal(folded!.count, 3);
      assert.deepEqual(folded!.eventIds, [1, 2, 3, 4]);
      assert.equal(folded!.firstSeen, 1_000);
      assert.equal(folded!.lastSeen, 31_000);
      assert.equal(folded!.updatedAt, 20);
      // Past the window, or another key: a new alert.
      const [later, other] = await storeWithGroup([
        alert({ firstSeen: 500_000, lastSeen: 500_000 }),
        alert({ foldKey: "5702\u0001web-1\u0001deploy", ruleId: 5702, level: 3, fields: {} }),
      ], 30);
      assert.notEqual(later!.id, first!.id);
      assert.equal(later!.count, 1);
      assert.notEqual(other!.id, later!.id);
      const listed = await store.listAlerts();
      assert.deepEqual(listed.map((a) => a.id), [other!.id, later!.id, first!.id]);
      assert.deepEqual(await store.listAlerts({ minLevel: 10, limit: 1 }), [later]);
      assert.deepEqual((await store.listAlerts({ sinceMs: 25 })).map((a) => a.id), [
        other!.id,
        later!.id,
      ]);
      assert.equal(await store.countAlerts(), 3);
      assert.equal(await store.countAlerts({ minLevel: 10, sinceMs: 15 }), 2);
    },
  ],
  [
    "appendEvents() stores the group's alerts in the events' transaction, once the statuses are known",
    async ({ store }) => {
      await store.appendEvents([makeBatch([{ stream: "s1", position: 1, message: "one" }])]);
      const seen: number[][][] = [];
      const group: GroupAlerts = {
        at: 50,
        stored: [],
        collect(statuses) {
          seen.push(statusesOf([...statuses]));
          return [testAlert({ count: 1 })];
        },
      };
      const statuses = await store.appendEvents([
        makeBatch([
          { stream: "s1", position: 1, message: "one" },
          { stream: "s1", position: 2, message: "two" },
        ]),
      ], { alerts: group });
      // The resend is known as a duplicate when the rules correlate.
      assert.deepEqual(seen, [[[APPEND_STATUS.duplicate, APPEND_STATUS.stored]]]);
      assert.deepEqual(seen[0], statusesOf(statuses));
      assert.equal(group.error, undefined);
      assert.equal(group.stored.length, 1);
      assert.equal(group.stored[0]!.updatedAt, 50);
      assert.deepEqual(await store.listAlerts(), group.stored);
      assert.deepEqual(await messages(store), ["one", "two"]);
    },
  ],
  [
    "appendEvents() commits the events when their alerts fail, and tells why",
    async ({ store }) => {
      const throwing: GroupAlerts = {
        at: 1,
        stored: [],
        collect() {
          throw new Error("a rule failed");
        },
      };
      await store.appendEvents([makeBatch([{ message: "x" }])], { alerts: throwing });
      assert.match(throwing.error?.message ?? "", /a rule failed/);
      // An alert the database refuses (level is NOT NULL), after one it accepted.
      const refused: GroupAlerts = {
        at: 2,
        stored: [],
        collect: () => [
          testAlert({ foldKey: "accepted" }),
          testAlert({ level: null as unknown as number }),
        ],
      };
      await store.appendEvents([makeBatch([{ message: "y" }])], { alerts: refused });
      assert.ok(refused.error instanceof Error);
      assert.deepEqual(refused.stored, []);
      assert.deepEqual(await messages(store), ["x", "y"]);
      assert.equal(
        await store.countAlerts(),
        0,
        "the accepted alert went back with the refused one",
      );
      // The next group's alerts are stored as usual.
      const next: GroupAlerts = { at: 3, stored: [], collect: () => [testAlert()] };
      await store.appendEvents([makeBatch([{ message: "z" }])], { alerts: next });
      assert.equal(next.error, undefined);
      assert.equal(await store.countAlerts(), 1);
    },
  ],
];

/**
 * Registers the conformance cases as `Deno.test`s named `"<name>: <case>"`.
 * Each case gets a fresh store from `open` and calls its `cleanup` at the end.
 *
 * @param name Backend name shown in each test name, e.g. `"SqliteStore"`.
 * @param open Opens a fresh, empty store.
 * @param options `ignoreReason` to register every case as ignored; `concurrentWriters`.
 * @example
 * ```ts
 * storeConformance("SqliteStore", async () => {
 *   const dir = await Deno.makeTempDir();
 *   const path = `${dir}/nms.db`;
 *   return {
 *     store: await openSqliteStore(path),
 *     openAnother: () => openSqliteStore(path),
 *     cleanup: () => Deno.remove(dir, { recursive: true }),
 *   };
 * });
 * ```
 */
export function storeConformance(
  name: string,
  open: () => Promise<StoreFixture>,
  options: StoreConformanceOptions = {},
): void {
  const ignore = options.ignoreReason !== undefined;
  if (ignore) {
    Deno.test({ name: `${name}: ignored: ${options.ignoreReason}`, ignore: true, fn() {} });
  }
  for (const [title, run] of [...CASES, ...AGENT_CASES]) {
    const unsupported = !options.concurrentWriters && CONCURRENT_WRITER_CASES.has(title);
    Deno.test({
      name: `${name}: ${title}${unsupported ? " (ignored: one writer per database)" : ""}`,
      ignore: ignore || unsupported,
      async fn() {
        const fixture = await open();
        try {
          await run(fixture);
        } finally {
          await fixture.cleanup();
        }
      },
    });
  }
}
