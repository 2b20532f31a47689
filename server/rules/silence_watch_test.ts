import assert from "node:assert/strict";
import type { AgentRecord, EventBatch, Store } from "../store/store.ts";
import { AgentSilenceWatch } from "./silence_watch.ts";

const agent = (id: number, hostname: string, lastHeartbeat: number): AgentRecord => ({
  id,
  hostname,
  version: "1.0",
  os: "Linux",
  address: "10.0.0.1:4000",
  firstSeen: 0,
  lastSeen: lastHeartbeat,
  lastHeartbeat,
  uptimeSeconds: 1,
  lagBytes: null,
  stoppedAt: null,
});

Deno.test("AgentSilenceWatch reports an agent once per silence, not those silent at start", async () => {
  let now = 1_000_000;
  let agents = [agent(1, "old", 0), agent(2, "web", now)];
  const recorded: EventBatch[] = [];
  const store = { listAgents: () => Promise.resolve(agents) } as unknown as Store;
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
  agents = [agent(1, "old", 0), agent(2, "web", now)];
  assert.equal(await watch.check(), 0, "heard from again");
  now += 120_000;
  assert.equal(await watch.check(), 1, "a new silence is reported again");
  await watch.stop();
});
