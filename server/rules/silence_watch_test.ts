import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../store/sqlite_store.ts";
import type { AgentChange, EventBatch, SilenceSpan, Store } from "../store/store.ts";
import { AgentSilenceWatch } from "./silence_watch.ts";

/** A real SQLite store in a temp directory, removed on dispose. */
async function tempStore(): Promise<Store & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "nms-silence-" });
  const store = await openSqliteStore(join(dir, "nms.db"));
  return Object.assign(store, {
    async [Symbol.asyncDispose]() {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  });
}

/** Registers `hostname` and records a heartbeat at `lastHeartbeat`; returns its id. */
async function agent(store: Store, hostname: string, lastHeartbeat: number): Promise<number> {
  const [result] = await store.applyAgentChanges([{
    kind: "register",
    registration: { hostname, version: "1.0", os: "Linux", address: "10.0.0.1:4000", at: 0 },
  }]);
  const agentId = result!.agentId;
  await beat(store, agentId, lastHeartbeat);
  return agentId;
}

async function beat(store: Store, agentId: number, at: number): Promise<void> {
  await store.applyAgentChanges([{
    kind: "heartbeat",
    heartbeat: { agentId, uptimeSeconds: 1, lagBytes: null, at },
  }]);
}

Deno.test("AgentSilenceWatch reports an agent once per silence, not those silent at start", async () => {
  await using store = await tempStore();
  let now = 1_000_000;
  await agent(store, "old", 0);
  const web = await agent(store, "web", now);
  const recorded: EventBatch[] = [];
  const watch = new AgentSilenceWatch({
    store,
    heartbeatSeconds: 30,
    record: (b) => recorded.push(b),
    now: () => now,
  });
  assert.equal(await watch.check(), 0, "first check: 'old' was silent before we looked");
  now += 60_000;
  assert.equal(await watch.check(), 0, "web is late, not silent");
  now += 60_000;
  assert.equal(await watch.check(), 1);
  assert.match(recorded[0]!.message[0]!, /^Agent web is silent: no heartbeat since /);
  assert.equal(await watch.check(), 0, "reported once");
  await beat(store, web, now);
  assert.equal(await watch.check(), 0, "heard from again");
  now += 120_000;
  assert.equal(await watch.check(), 1, "a new silence is reported again");
  await watch.stop();
});

Deno.test("AgentSilenceWatch reads only the agents that fell silent, not every agent known", async () => {
  await using store = await tempStore();
  const t0 = 10_000_000;
  const changes: AgentChange[] = [];
  for (let i = 0; i < 3_000; i++) {
    changes.push({
      kind: "register",
      registration: { hostname: `host-${i}`, version: "1", os: "Linux", address: "a", at: 0 },
    });
  }
  const ids = (await store.applyAgentChanges(changes)).map((r) => r.agentId);
  // 2,000 silent long before the watch starts, 1,000 alive; then 3 about to fall silent.
  await store.applyAgentChanges(ids.map((agentId, i) => ({
    kind: "heartbeat",
    heartbeat: { agentId, uptimeSeconds: 1, lagBytes: null, at: i < 2_000 ? t0 - 500_000 : t0 },
  })));
  for (const name of ["crossing-1", "crossing-2", "crossing-3"]) {
    await agent(store, name, t0 - 80_000);
  }
  const reads: number[] = [];
  const counting = new Proxy(store, {
    get(target, key) {
      if (key === "listAgentsFallenSilent") {
        return async (span: SilenceSpan) => {
          const agents = await target.listAgentsFallenSilent(span);
          reads.push(agents.length);
          return agents;
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  let now = t0;
  const recorded: EventBatch[] = [];
  const watch = new AgentSilenceWatch({
    store: counting,
    heartbeatSeconds: 30,
    record: (b) => recorded.push(b),
    now: () => now,
  });
  assert.equal(await watch.check(), 0);
  now += 20_000;
  assert.equal(await watch.check(), 3);
  now += 30_000;
  assert.equal(await watch.check(), 0);
  assert.deepEqual(reads, [3, 0], "each check read the agents that crossed, of 3,003 known");
  assert.deepEqual(
    recorded.map((b) => b.message[0]!.split(" ")[1]).sort(),
    ["crossing-1", "crossing-2", "crossing-3"],
  );
  await watch.stop();
});
