import assert from "node:assert/strict";
import { agentStatus } from "./agent_status.ts";
import type { AgentRecord } from "../store/store.ts";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const HEARTBEAT_SECONDS = 30;

function agent(fields: Partial<AgentRecord> = {}): AgentRecord {
  return {
    id: 1,
    hostname: "web-01",
    version: "0.1.0",
    os: "Linux",
    address: "127.0.0.1:40000",
    firstSeen: NOW - 3_600_000,
    lastSeen: NOW - 1_000,
    lastHeartbeat: NOW - 1_000,
    uptimeSeconds: 100,
    lagBytes: null,
    stoppedAt: null,
    ...fields,
  };
}

function statusAfter(ageMs: number): string {
  return agentStatus(agent({ lastHeartbeat: NOW - ageMs }), NOW, HEARTBEAT_SECONDS);
}

Deno.test("agentStatus() is alive within one interval plus half an interval of grace", () => {
  assert.equal(statusAfter(0), "alive");
  assert.equal(statusAfter(30_000), "alive");
  assert.equal(statusAfter(45_000), "alive");
});

Deno.test("agentStatus() is late after one missed heartbeat", () => {
  assert.equal(statusAfter(45_001), "late");
  assert.equal(statusAfter(90_000), "late");
});

Deno.test("agentStatus() is disconnected after three missed heartbeats", () => {
  assert.equal(statusAfter(90_001), "disconnected");
  assert.equal(statusAfter(86_400_000), "disconnected");
});

Deno.test("agentStatus() scales with the heartbeat interval", () => {
  const record = agent({ lastHeartbeat: NOW - 100_000 });
  assert.equal(agentStatus(record, NOW, 30), "disconnected");
  assert.equal(agentStatus(record, NOW, 60), "late");
  assert.equal(agentStatus(record, NOW, 120), "alive");
});

Deno.test("agentStatus() is stopped after BYE, however recent its heartbeat", () => {
  assert.equal(
    agentStatus(agent({ stoppedAt: NOW - 10, lastHeartbeat: NOW }), NOW, HEARTBEAT_SECONDS),
    "stopped",
  );
  assert.equal(
    agentStatus(agent({ stoppedAt: NOW, lastHeartbeat: null }), NOW, HEARTBEAT_SECONDS),
    "stopped",
  );
});

Deno.test("agentStatus() counts a node that registered recently without a heartbeat as alive", () => {
  const record = agent({ lastHeartbeat: null, lastSeen: NOW - 90_000 });
  assert.equal(agentStatus(record, NOW, HEARTBEAT_SECONDS), "alive");
});

Deno.test("agentStatus() is never_seen when a registered node never sent a heartbeat", () => {
  const record = agent({ lastHeartbeat: null, lastSeen: NOW - 90_001 });
  assert.equal(agentStatus(record, NOW, HEARTBEAT_SECONDS), "never_seen");
});

Deno.test("agentStatus() treats a heartbeat from the future (clock skew) as alive", () => {
  assert.equal(statusAfter(-60_000), "alive");
});
