import assert from "node:assert/strict";
import type { ComponentHealth, DashboardContext, RouteRequest } from "./context.ts";
import { health } from "./monitor_routes.ts";
import type { IntegrityState } from "../store/integrity_check.ts";

/** The parts of the console context `health()` reads. */
function context(
  components: ComponentHealth,
  options: { integrity?: IntegrityState; databaseFails?: boolean } = {},
): DashboardContext {
  return {
    store: {
      queryEvents: () =>
        options.databaseFails ? Promise.reject(new Error("disk I/O error")) : Promise.resolve([]),
    },
    databaseIntegrity: () => options.integrity ?? { status: "ok", seconds: 0.1 },
    components: () => components,
  } as unknown as DashboardContext;
}

const REQUEST = {} as RouteRequest;
const ALIVE: ComponentHealth = { writer: true, listeners: { agents: true, "syslog-udp": true } };

Deno.test("health() answers 200 with every part ok while the writer and the listeners run", async () => {
  const response = await health(REQUEST, context(ALIVE));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    status: "ok",
    integrity: "ok",
    writer: "ok",
    listeners: { agents: "ok", "syslog-udp": "ok" },
  });
});

Deno.test("health() answers 503 unavailable when the writer worker has died", async () => {
  const response = await health(REQUEST, context({ ...ALIVE, writer: false }));
  assert.equal(response.status, 503);
  const body = await response.json();
  assert.equal(body.status, "unavailable");
  assert.equal(body.writer, "failing");
  assert.deepEqual(body.problems, ["The writer worker has stopped: nothing can be stored"]);
});

Deno.test("health() answers 503 unavailable naming a listener that cannot accept", async () => {
  const response = await health(
    REQUEST,
    context({ writer: true, listeners: { agents: true, "syslog-tcp": false } }),
  );
  assert.equal(response.status, 503);
  const body = await response.json();
  assert.equal(body.listeners["syslog-tcp"], "failing");
  assert.deepEqual(body.problems, ["The syslog-tcp listener cannot accept connections"]);
});

Deno.test("health() answers 503 when the database does not answer, and degraded for damage", async () => {
  const down = await health(REQUEST, context(ALIVE, { databaseFails: true }));
  assert.equal(down.status, 503);
  assert.deepEqual((await down.json()).problems, ["Database unavailable"]);
  const damaged = await health(
    REQUEST,
    context(ALIVE, { integrity: { status: "corrupt", problems: ["page 7"], seconds: 1 } }),
  );
  assert.equal(damaged.status, 503);
  assert.equal((await damaged.json()).status, "degraded");
});
