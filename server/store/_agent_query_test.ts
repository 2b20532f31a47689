import assert from "node:assert/strict";
import { walksOrderIndex } from "./_agent_query.ts";
import type { AgentStatus } from "./store.ts";

/** 100,000 nodes: 90% alive, 5% late, 3% disconnected, 1% stopped, 1% never seen. */
const FLEET: Record<AgentStatus, number> = {
  alive: 90_000,
  late: 5_000,
  disconnected: 3_000,
  stopped: 1_000,
  "never_seen": 1_000,
};

Deno.test("walksOrderIndex() walks the order for the status most nodes have, at any depth", () => {
  assert.equal(walksOrderIndex(FLEET, "alive", 101), true);
  assert.equal(walksOrderIndex(FLEET, "alive", 50_501), true);
  assert.equal(walksOrderIndex(FLEET, "alive", 90_000), true);
});

Deno.test("walksOrderIndex() sorts a rare status once the walk would pass too many nodes", () => {
  // The first page of late nodes passes about 2,000 nodes; sorting all 5,000 costs more.
  assert.equal(walksOrderIndex(FLEET, "late", 101), true);
  // Deep in them, the walk would pass most of the fleet.
  assert.equal(walksOrderIndex(FLEET, "late", 4_101), false);
  assert.equal(walksOrderIndex(FLEET, "stopped", 901), false);
});

Deno.test("walksOrderIndex() sorts when no node has the status", () => {
  assert.equal(walksOrderIndex({ ...FLEET, late: 0 }, "late", 101), false);
});
