import assert from "node:assert/strict";
import type { AlertRecord } from "../store/store.ts";
import { AlertWebhook, type WebhookPayload, webhookUrl } from "./webhook.ts";

const alert = (id: number, count = 1, level = 10): AlertRecord => ({
  id,
  ruleId: 5710,
  level,
  description: "sshd: brute force",
  fields: { srcip: "203.0.113.7" },
  eventIds: [1, 2, 3, 4, 5],
  firstSeen: 1,
  lastSeen: 2,
  count,
  updatedAt: 3,
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("AlertWebhook retries with backoff until the receiver accepts", async () => {
  const bodies: WebhookPayload[] = [];
  let calls = 0;
  await using receiver = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      calls++;
      const body = await req.json();
      if (calls <= 2) return new Response("busy", { status: 500 });
      bodies.push(body);
      return new Response("ok");
    },
  );
  const hook = new AlertWebhook({
    url: `http://127.0.0.1:${receiver.addr.port}/`,
    initialBackoffMs: 10,
    maxBackoffMs: 20,
  });
  try {
    hook.enqueue({ alert: alert(1), created: true });
    await until(() => hook.sent === 1);
    assert.equal(calls, 3);
    assert.deepEqual(bodies, [{ type: "alert.created", alert: alert(1) }]);
  } finally {
    await hook.close();
  }
});

Deno.test("AlertWebhook gives up after its attempts, and drops the oldest when full", async () => {
  const errors: string[] = [];
  await using receiver = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response("down", { status: 503 }),
  );
  const hook = new AlertWebhook({
    url: `http://127.0.0.1:${receiver.addr.port}/`,
    capacity: 2,
    maxAttempts: 2,
    initialBackoffMs: 1,
    maxBackoffMs: 1,
    onError: (m) => errors.push(m),
  });
  try {
    for (let id = 1; id <= 5; id++) hook.enqueue({ alert: alert(id), created: true });
    // One in flight, two waiting, two dropped.
    assert.equal(hook.dropped, 2);
    await until(() => hook.failed === 3);
    assert.equal(hook.sent, 0);
    assert.ok(errors.some((e) => /queue full/.test(e)));
    assert.ok(errors.some((e) => /gave up on alert \d+ after 2 attempts: HTTP 503/.test(e)));
  } finally {
    await hook.close();
  }
});

Deno.test("AlertWebhook folds updates of a waiting alert and skips low levels", async () => {
  const bodies: WebhookPayload[] = [];
  await using receiver = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      bodies.push(await req.json());
      return new Response("ok");
    },
  );
  const hook = new AlertWebhook({ url: `http://127.0.0.1:${receiver.addr.port}/`, minLevel: 7 });
  try {
    hook.enqueue({ alert: alert(1), created: true });
    hook.enqueue({ alert: alert(2, 1), created: true });
    hook.enqueue({ alert: alert(2, 2), created: false });
    hook.enqueue({ alert: alert(3, 1, 3), created: true });
    await until(() => hook.sent === 2);
    assert.deepEqual(bodies.map((b) => [b.alert.id, b.alert.count, b.type]), [
      [1, 1, "alert.created"],
      [2, 2, "alert.created"],
    ]);
  } finally {
    await hook.close();
  }
});

Deno.test("webhookUrl() accepts http(s) only and never echoes the URL", () => {
  assert.equal(webhookUrl("https://hooks.example.com/T0/B0/secret").host, "hooks.example.com");
  assert.throws(() => webhookUrl("ftp://x/secret"), /scheme ftp:/);
  assert.throws(() => webhookUrl("not a url secret"), (e: Error) => !e.message.includes("secret"));
});
