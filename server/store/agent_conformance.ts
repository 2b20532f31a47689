/**
 * The cases of the conformance suite about nodes: changes applied in one
 * transaction, and the console's pages (status, filters, orders, page
 * boundaries, counts, hostile filter values). `store_conformance.ts` runs
 * them against every backend.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { StoreFixture } from "./store_conformance.ts";
import {
  type AgentQuery,
  type AgentStatus,
  MAX_AGENT_CURSOR_CHARS,
  MAX_AGENT_FILTER_CHARS,
  MAX_AGENT_PAGE,
  type Store,
  StoreError,
} from "./store.ts";

/** The test clock: fixed, so that statuses never depend on when the suite runs. */
const NOW = 1_700_000_000_000;
/** A 10 s heartbeat: late before NOW - 15 s, silent before NOW - 30 s. */
const CUTOFFS = { lateBefore: NOW - 15_000, silentBefore: NOW - 30_000 };

/** Registers a node and returns its id. */
async function register(
  store: Store,
  hostname: string,
  fields: { at?: number; os?: string; version?: string; address?: string } = {},
): Promise<number> {
  const [result] = await store.applyAgentChanges([{
    kind: "register",
    registration: {
      hostname,
      os: fields.os ?? "Debian GNU/Linux 12",
      version: fields.version ?? "1.0.0",
      address: fields.address ?? "10.0.0.1:40000",
      at: fields.at ?? NOW - 1_000,
    },
  }]);
  return result!.agentId;
}

async function heartbeat(store: Store, agentId: number, at: number): Promise<void> {
  await store.applyAgentChanges([{
    kind: "heartbeat",
    heartbeat: { agentId, uptimeSeconds: 1, lagBytes: null, at },
  }]);
}

/** One node of each status, plus a second alive one; returns the expected status per name. */
async function seedStatuses(store: Store): Promise<Record<string, AgentStatus>> {
  await heartbeat(store, await register(store, "alive-1", { at: NOW - 60_000 }), NOW - 2_000);
  await heartbeat(store, await register(store, "alive-2", { at: NOW - 60_000 }), NOW - 15_000);
  await register(store, "alive-fresh", { at: NOW - 30_000 }); // no heartbeat yet
  await heartbeat(store, await register(store, "late-1", { at: NOW - 60_000 }), NOW - 15_001);
  await heartbeat(store, await register(store, "late-2", { at: NOW - 60_000 }), NOW - 30_000);
  await heartbeat(store, await register(store, "silent", { at: NOW - 90_000 }), NOW - 30_001);
  const gone = await register(store, "gone", { at: NOW - 60_000 });
  await heartbeat(store, gone, NOW - 1_000);
  await store.applyAgentChanges([
    { kind: "disconnect", agentId: gone, at: NOW - 500, lastContact: NOW - 1_000 },
  ]);
  const stopped = await register(store, "stopped", { at: NOW - 60_000 });
  await heartbeat(store, stopped, NOW - 1_000);
  await store.applyAgentChanges([{ kind: "stop", agentId: stopped, at: NOW - 900 }]);
  await register(store, "never-1", { at: NOW - 30_001 });
  const never = await register(store, "never-2", { at: NOW - 5_000 });
  await store.applyAgentChanges([
    { kind: "disconnect", agentId: never, at: NOW - 4_000, lastContact: NOW - 5_000 },
  ]);
  return {
    "alive-1": "alive",
    "alive-2": "alive",
    "alive-fresh": "alive",
    "late-1": "late",
    "late-2": "late",
    "silent": "disconnected",
    "gone": "disconnected",
    "stopped": "stopped",
    "never-1": "never_seen",
    "never-2": "never_seen",
  };
}

async function page(store: Store, query: Omit<AgentQuery, "cutoffs"> = {}) {
  return await store.queryAgents({ cutoffs: CUTOFFS, limit: MAX_AGENT_PAGE, ...query });
}

async function rejects(store: Store, query: Omit<AgentQuery, "cutoffs">): Promise<void> {
  await assert.rejects(
    store.queryAgents({ cutoffs: CUTOFFS, ...query }),
    (error) => error instanceof StoreError && error.code === "invalid",
  );
}

/** Strings that break naive SQL or LIKE patterns: each must match only itself. */
const HOSTILE_FILTERS = ["%", "_", "'", "' OR '1'='1", "\\", "%_%", "a'); DROP TABLE agents; --"];

/** The cases, as `[title, run]`. */
export const AGENT_CASES: [string, (fixture: StoreFixture) => Promise<void>][] = [
  ["applyAgentChanges() applies a mixed group in order, in one call", async ({ store }) => {
    const results = await store.applyAgentChanges([
      {
        kind: "register",
        registration: { hostname: "a", os: "x", version: "1", address: "1.2.3.4:5", at: 1000 },
      },
      {
        kind: "register",
        registration: { hostname: "b", os: "x", version: "1", address: "1.2.3.4:6", at: 1001 },
      },
      {
        kind: "register",
        registration: { hostname: "a", os: "y", version: "2", address: "1.2.3.4:7", at: 1002 },
      },
    ]);
    assert.deepEqual(results.map((r) => r.created), [true, true, false]);
    assert.equal(results[2]!.agentId, results[0]!.agentId);
    const a = results[0]!.agentId;
    const more = await store.applyAgentChanges([
      { kind: "heartbeat", heartbeat: { agentId: a, uptimeSeconds: 9, lagBytes: 5, at: 2000 } },
      { kind: "stop", agentId: results[1]!.agentId, at: 2001 },
      { kind: "heartbeat", heartbeat: { agentId: 999_999, uptimeSeconds: 1, lagBytes: 1, at: 1 } },
    ]);
    assert.deepEqual(more.map((r) => r.agentId), [a, results[1]!.agentId, 999_999]);
    const agents = await store.listAgents();
    assert.deepEqual(agents.map((n) => [n.hostname, n.os, n.lastHeartbeat, n.stoppedAt]), [
      ["a", "y", 2000, null],
      ["b", "x", null, 2001],
    ]);
    assert.deepEqual(await store.applyAgentChanges([]), []);
  }],

  ["applyAgentChanges() disconnects only a node not heard from since", async ({ store }) => {
    const id = await register(store, "web-1", { at: NOW - 10_000 });
    await heartbeat(store, id, NOW - 5_000);
    // A connection whose last contact was the registration closes after a newer heartbeat.
    await store.applyAgentChanges([
      { kind: "disconnect", agentId: id, at: NOW - 4_000, lastContact: NOW - 10_000 },
    ]);
    let [row] = (await page(store)).agents;
    assert.equal(row!.status, "alive");
    assert.equal(row!.disconnectedAt, null);
    await store.applyAgentChanges([
      { kind: "disconnect", agentId: id, at: NOW - 3_000, lastContact: NOW - 5_000 },
    ]);
    [row] = (await page(store)).agents;
    assert.equal(row!.status, "disconnected");
    assert.equal(row!.disconnectedAt, NOW - 3_000);
    await heartbeat(store, id, NOW - 1_000);
    [row] = (await page(store)).agents;
    assert.equal(row!.status, "alive", "a heartbeat reconnects it");
    assert.equal(row!.disconnectedAt, null);
    // A stopped node stays stopped when its connection closes.
    await store.applyAgentChanges([{ kind: "stop", agentId: id, at: NOW - 500 }]);
    await store.applyAgentChanges([
      { kind: "disconnect", agentId: id, at: NOW - 400, lastContact: NOW },
    ]);
    [row] = (await page(store)).agents;
    assert.equal(row!.status, "stopped");
  }],

  ["queryAgents() computes each status and counts them", async ({ store }) => {
    const expected = await seedStatuses(store);
    const all = await page(store);
    assert.deepEqual(
      Object.fromEntries(all.agents.map((a) => [a.hostname, a.status])),
      expected,
    );
    assert.equal(all.total, 10);
    assert.deepEqual(all.counts, {
      alive: 3,
      late: 2,
      disconnected: 2,
      stopped: 1,
      never_seen: 2,
    });
    for (const status of Object.keys(all.counts) as AgentStatus[]) {
      const only = await page(store, { status });
      const names = Object.entries(expected).filter(([, s]) => s === status).map(([n]) => n);
      assert.deepEqual(only.agents.map((a) => a.hostname), names.sort(), status);
      assert.equal(only.total, names.length);
      assert.deepEqual(only.counts, all.counts, "counts ignore the status filter");
    }
  }],

  ["queryAgents() filters by name, OS, version and address, literally", async ({ store }) => {
    await register(store, "web-01", { os: "Debian GNU/Linux 12", version: "1.2.0" });
    await register(store, "WEB-02", { os: "Alpine Linux", address: "10.9.0.2:5000" });
    await register(store, "db-01", { os: "FreeBSD", version: "1.3.0-rc1" });
    await register(store, "100%_host", { address: "192.0.2.1:1" });
    const names = async (query: Omit<AgentQuery, "cutoffs">) =>
      (await page(store, query)).agents.map((a) => a.hostname);
    assert.deepEqual(await names({ name: "web" }), ["WEB-02", "web-01"]);
    assert.deepEqual(
      await names({ os: "linux" }),
      ["100%_host", "WEB-02", "db-01", "web-01"]
        .filter((n) => n !== "db-01"),
    );
    assert.deepEqual(await names({ version: "rc1" }), ["db-01"]);
    assert.deepEqual(await names({ address: "10.9." }), ["WEB-02"]);
    assert.deepEqual(await names({ name: "web", os: "alpine" }), ["WEB-02"]);
    assert.deepEqual(await names({ name: "%" }), ["100%_host"]);
    assert.deepEqual(await names({ name: "_" }), ["100%_host"]);
    assert.deepEqual(await names({ name: "" }), ["100%_host", "WEB-02", "db-01", "web-01"]);
    for (const text of HOSTILE_FILTERS) {
      for (const key of ["name", "os", "version", "address"] as const) {
        const result = await page(store, { [key]: text });
        for (const agent of result.agents) {
          const field = key === "name" ? agent.hostname : agent[key];
          assert.ok(field.toLowerCase().includes(text.toLowerCase()), `${key} ${text}`);
        }
        assert.equal(result.total, result.agents.length);
      }
    }
    const filtered = await page(store, { name: "web" });
    assert.equal(filtered.total, 2);
    assert.equal(filtered.counts.alive, 2, "counts follow the other filters");
    assert.equal((await store.listAgents()).length, 4, "nothing was dropped");
  }],

  [
    "queryAgents() filters fold ASCII letters only, and a filter always finds its own text",
    async ({ store }) => {
      await register(store, "Über-01", { os: "Ubuntu", version: "1.0.0-Ä" });
      await register(store, "über-02", { os: "ubuntu" });
      for (const match of ["contains", "prefix"] as const) {
        const names = async (query: Omit<AgentQuery, "cutoffs">) =>
          (await page(store, { ...query, match })).agents.map((a) => a.hostname);
        assert.deepEqual(await names({ name: "Über" }), ["Über-01"], match);
        assert.deepEqual(await names({ name: "über" }), ["über-02"], match);
        assert.deepEqual(await names({ name: "ÜBER" }), ["Über-01"], match);
        assert.deepEqual(await names({ name: "üBER" }), ["über-02"], match);
        assert.deepEqual(await names({ os: "UBUNTU" }), ["Über-01", "über-02"], match);
      }
      assert.deepEqual(
        (await page(store, { version: "-Ä" })).agents.map((a) => a.hostname),
        ["Über-01"],
      );
    },
  ],

  ["queryAgents() sorts and pages without gaps or repeats", async ({ store }) => {
    for (let i = 0; i < 25; i++) {
      const id = await register(store, `node-${String(i).padStart(2, "0")}`, {
        at: NOW - 100_000 + (i % 5) * 1000, // ties in registration time
      });
      if (i % 3 !== 0) await heartbeat(store, id, NOW - 10_000 + (i % 4) * 100);
    }
    const walk = async (query: Omit<AgentQuery, "cutoffs">, size: number) => {
      const seen: string[] = [];
      for (let offset = 0;; offset += size) {
        const result = await page(store, { ...query, offset, limit: size });
        assert.equal(result.total, 25);
        seen.push(...result.agents.map((a) => a.hostname));
        if (result.agents.length < size) break;
      }
      return seen;
    };
    const byName = await walk({}, 7);
    assert.deepEqual(byName, [...byName].sort());
    assert.equal(new Set(byName).size, 25);
    assert.deepEqual(await walk({ descending: true }, 10), [...byName].reverse());
    for (const sort of ["lastSeen", "lastHeartbeat", "registeredAt"] as const) {
      const full = (await page(store, { sort })).agents;
      assert.deepEqual(await walk({ sort }, 4), full.map((a) => a.hostname), sort);
      const key = (a: typeof full[number]) =>
        sort === "lastSeen" ? a.lastSeen : sort === "registeredAt" ? a.firstSeen : a.lastHeartbeat;
      for (let i = 1; i < full.length; i++) {
        const [before, after] = [key(full[i - 1]!), key(full[i]!)];
        // Nodes without a heartbeat come first, ties by id.
        assert.ok(
          before === null || (after !== null && before <= after),
          `${sort}: ${before} then ${after}`,
        );
        if (before === after) assert.ok(full[i - 1]!.id < full[i]!.id);
      }
      const reversed = (await page(store, { sort, descending: true })).agents;
      assert.deepEqual(reversed.map((a) => a.id), full.map((a) => a.id).reverse(), sort);
    }
    assert.deepEqual((await page(store, { offset: 25 })).agents, []);
    assert.equal((await page(store, { offset: 24 })).agents.length, 1);
    assert.equal((await page(store, { limit: 1 })).agents.length, 1);
  }],

  [
    "listAgentsFallenSilent() lists the nodes not stopped whose silence began in the span",
    async ({ store }) => {
      const since = NOW - 30_000;
      const before = NOW - 20_000;
      await heartbeat(store, await register(store, "in", { at: NOW - 90_000 }), since);
      const gone = await register(store, "in-gone", { at: NOW - 90_000 });
      await heartbeat(store, gone, before - 1);
      await store.applyAgentChanges([
        { kind: "disconnect", agentId: gone, at: NOW - 5_000, lastContact: before - 1 },
      ]);
      await register(store, "in-no-heartbeat", { at: NOW - 25_000 });
      await heartbeat(store, await register(store, "edge-after", { at: NOW - 90_000 }), before);
      await heartbeat(store, await register(store, "edge-before", { at: NOW - 90_000 }), since - 1);
      await heartbeat(store, await register(store, "alive", { at: NOW - 90_000 }), NOW - 1_000);
      await register(store, "no-heartbeat-old", { at: since - 1 });
      const stopped = await register(store, "stopped", { at: NOW - 90_000 });
      await heartbeat(store, stopped, since + 1);
      await store.applyAgentChanges([{ kind: "stop", agentId: stopped, at: since + 2 }]);
      const names = (await store.listAgentsFallenSilent({ since, before })).map((a) => a.hostname);
      assert.deepEqual(names.sort(), ["in", "in-gone", "in-no-heartbeat"]);
      assert.deepEqual(await store.listAgentsFallenSilent({ since: before, before: since }), []);
    },
  ],

  [
    "queryAgents() matches text filters as prefixes, literally, with match: prefix",
    async ({ store }) => {
      await register(store, "web-01", { os: "Debian GNU/Linux 12", version: "1.2.0" });
      await register(store, "WEB-02", { os: "Alpine Linux", address: "10.9.0.2:5000" });
      await register(store, "db-web", { os: "FreeBSD", version: "1.3.0-rc1" });
      await register(store, "100%_host", { address: "192.0.2.1:1" });
      await register(store, "\u{10FFFF}\u{10FFFF}", { address: "192.0.2.2:1" });
      await register(store, "\u{10FFFF}a", { address: "192.0.2.2:1" });
      await register(store, "\uD7FFx", { address: "192.0.2.3:1" });
      await register(store, "\uE000", { address: "192.0.2.3:1" });
      const names = async (query: Omit<AgentQuery, "cutoffs">) =>
        (await page(store, { ...query, match: "prefix" })).agents.map((a) => a.hostname);
      assert.deepEqual(await names({ name: "web" }), ["WEB-02", "web-01"]);
      assert.deepEqual(await names({ name: "WEB-0" }), ["WEB-02", "web-01"]);
      assert.deepEqual(await names({ name: "eb" }), [], "not a substring");
      assert.deepEqual(await names({ os: "alpine", name: "w" }), ["WEB-02"]);
      assert.deepEqual(await names({ version: "1.3" }), ["db-web"]);
      assert.deepEqual(await names({ address: "10.9." }), ["WEB-02"]);
      assert.deepEqual(await names({ name: "100%" }), ["100%_host"]);
      assert.deepEqual(await names({ name: "%" }), []);
      assert.deepEqual(await names({ name: "_" }), []);
      assert.deepEqual(await names({ name: "\u{10FFFF}" }), [
        "\u{10FFFF}a",
        "\u{10FFFF}\u{10FFFF}",
      ]);
      assert.deepEqual(await names({ name: "\u{10FFFF}\u{10FFFF}" }), ["\u{10FFFF}\u{10FFFF}"]);
      assert.deepEqual(await names({ name: "\uD7FF" }), ["\uD7FFx"]);
      for (const text of HOSTILE_FILTERS) {
        const result = await page(store, { name: text, match: "prefix" });
        for (const agent of result.agents) {
          assert.ok(agent.hostname.toLowerCase().startsWith(text.toLowerCase()), text);
        }
      }
      const filtered = await page(store, { name: "web", match: "prefix" });
      assert.equal(filtered.total, 2);
      assert.equal(filtered.counts.alive, 2, "counts follow the other filters");
      await rejects(store, { match: "regex" as "prefix" });
    },
  ],

  [
    "queryAgents() pages by cursor: every node once, in order, for every order",
    async ({ store }) => {
      for (let i = 0; i < 23; i++) {
        // Ties in registration and heartbeat times; a third without a heartbeat.
        const id = await register(store, `node-${String(i).padStart(2, "0")}`, {
          at: NOW - 100_000 + (i % 4) * 1000,
        });
        if (i % 3 !== 0) await heartbeat(store, id, NOW - 10_000 + (i % 2) * 100);
        if (i % 7 === 0) await heartbeat(store, id, NOW - 40_000);
      }
      for (const sort of ["hostname", "lastSeen", "lastHeartbeat", "registeredAt"] as const) {
        for (const descending of [false, true]) {
          for (const status of [undefined, "alive"] as const) {
            const query = { sort, descending, ...(status ? { status } : {}) };
            const full = (await page(store, query)).agents.map((a) => a.id);
            for (const size of [1, 4, 7]) {
              const seen: number[] = [];
              let after: string | undefined;
              for (let n = 0; n <= full.length; n++) {
                const result = await page(store, {
                  ...query,
                  limit: size,
                  ...(after === undefined ? {} : { after }),
                });
                seen.push(...result.agents.map((a) => a.id));
                if (result.next === null) break;
                assert.equal(result.agents.length, size);
                after = result.next;
              }
              assert.deepEqual(seen, full, `${sort} ${descending} ${status} by ${size}`);
            }
          }
        }
      }
      const first = await page(store, { limit: 5 });
      assert.equal(
        (await page(store, { limit: 5, offset: 5 })).next,
        (await page(store, {
          limit: 5,
          after: first.next!,
        })).next,
        "offset and cursor pages end at the same node",
      );
      assert.equal((await page(store, {})).next, null, "one page: no next");
    },
  ],

  ["queryAgents() refuses a cursor it did not give, or of another order", async ({ store }) => {
    await register(store, "a");
    await register(store, "b");
    const { next } = await page(store, { limit: 1 });
    assert.ok(next !== null && next.length <= MAX_AGENT_CURSOR_CHARS);
    const base64 = (value: unknown) =>
      new TextEncoder().encode(JSON.stringify(value)).toBase64({
        alphabet: "base64url",
        omitPadding: true,
      });
    for (
      const after of [
        "",
        "!",
        "a".repeat(MAX_AGENT_CURSOR_CHARS + 1),
        "AAAA",
        base64("x"),
        base64(null),
        base64([]),
        base64({ s: "hostname", d: 0, k: "a" }),
        base64({ s: "hostname", d: 0, k: "a", i: 1, x: 1 }),
        base64({ s: "hostname", d: 0, k: 5, i: 1 }),
        base64({ s: "hostname", d: 0, k: null, i: 1 }),
        base64({ s: "hostname", d: 0, k: "a", i: -1 }),
        base64({ s: "hostname", d: 0, k: "a", i: 1.5 }),
        base64({ s: "hostname", d: 0, k: "a", i: "1" }),
        base64({ s: "hostname", d: "0", k: "a", i: 1 }),
        base64({ s: "lastSeen", d: 0, k: 1, i: 1 }),
        base64({ s: "hostname", d: 1, k: "a", i: 1 }),
        base64({ s: "hostname; DROP TABLE agents", d: 0, k: "a", i: 1 }),
        base64({ s: "hostname", d: 0, k: "a'); DROP TABLE agents; --", i: 1 }).slice(1),
        next.slice(0, -2) + "!!",
      ]
    ) {
      await rejects(store, { after });
    }
    await rejects(store, { after: next, sort: "lastSeen" });
    await rejects(store, { after: next, descending: true });
    await rejects(store, { after: next, offset: 1 });
    await rejects(store, {
      sort: "lastSeen",
      after: base64({ s: "lastSeen", d: 0, k: null, i: 1 }),
    });
    await rejects(store, {
      sort: "lastSeen",
      after: base64({ s: "lastSeen", d: 0, k: 1e300, i: 1 }),
    });
    const hostile = base64({ s: "hostname", d: 0, k: "a'); DROP TABLE agents; --", i: 1 });
    assert.deepEqual((await page(store, { after: hostile })).agents.map((a) => a.hostname), ["b"]);
    assert.equal((await store.listAgents()).length, 2);
  }],

  ["queryAgents() refuses pages, orders and filters out of bounds", async ({ store }) => {
    await rejects(store, { limit: 0 });
    await rejects(store, { limit: MAX_AGENT_PAGE + 1 });
    await rejects(store, { limit: 1.5 });
    await rejects(store, { offset: -1 });
    await rejects(store, { sort: "hostname; DROP TABLE agents" as "hostname" });
    await rejects(store, { status: "dead" as AgentStatus });
    await rejects(store, { name: "x".repeat(MAX_AGENT_FILTER_CHARS + 1) });
    assert.equal((await page(store, { name: "x".repeat(MAX_AGENT_FILTER_CHARS) })).total, 0);
  }],
];
