import assert from "node:assert/strict";
import { ServerMetrics } from "./metrics.ts";

const GAUGES = { queueDepth: 0, connections: 0, agentsByStatus: {}, liveClients: 0, sessions: 0 };

Deno.test("ServerMetrics escapes label values as the Prometheus text format does", () => {
  const metrics = new ServerMetrics();
  metrics.observeRequest('GET /a"b\\c\nd', 0.002);
  const text = metrics.render({ ...GAUGES, agentsByStatus: { 'odd"status': 1 } });
  assert.match(text, /^nms_agents\{status="odd\\"status"\} 1$/m);
  assert.match(
    text,
    /^nms_http_request_duration_seconds_count\{route="GET \/a\\"b\\\\c\\nd"\} 1$/m,
  );
});
