import assert from "node:assert/strict";
import { AlertFeed } from "../rules/alert_feed.ts";
import type { AlertRecord, Store } from "../store/store.ts";
import { LIVE_MAX_ALERTS_PER_MESSAGE, LiveHub } from "./live_stream.ts";

const OWNER = { userId: 1, passwordHash: "scrypt$h", role: "viewer" as const };

/** A store with no events: the hub only asks it for events. */
const emptyStore = { queryEvents: () => Promise.resolve([]) } as unknown as Store;

function alert(id: number, count = 1): AlertRecord {
  return {
    id,
    ruleId: 5710,
    level: 10,
    description: "sshd: brute force",
    fields: { srcip: `203.0.113.${id % 256}` },
    eventIds: [id],
    firstSeen: 1_000,
    lastSeen: 2_000,
    count,
    updatedAt: 3_000 + id,
  };
}

/** Reads the stream until an `alerts` message arrives; returns its data. */
async function nextAlerts(
  reader: ReadableStreamDefaultReader<string>,
): Promise<{ alerts: AlertRecord[]; more: boolean }> {
  let buffer = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Stream ended before an alerts message");
    buffer += value;
    const match = /event: alerts\ndata: (.*)\n\n/.exec(buffer);
    if (match) return JSON.parse(match[1]!);
  }
}

Deno.test("LiveHub pushes alerts from the feed as one alerts message per tick, latest state per id", async () => {
  const feed = new AlertFeed();
  const hub = new LiveHub(emptyStore, { pollMs: 20, alerts: feed });
  try {
    const body = await hub.subscribe({ owner: OWNER, filter: {}, stillAllowed: () => true });
    const reader = body!.pipeThrough(new TextDecoderStream()).getReader();
    feed.publish([
      { alert: alert(1), created: true },
      { alert: alert(2), created: true },
      { alert: alert(1, 4), created: false },
    ]);
    const message = await nextAlerts(reader);
    assert.deepEqual(message.alerts.map((a) => [a.id, a.count]), [[2, 1], [1, 4]]);
    assert.equal(message.more, false);
    await reader.cancel();
  } finally {
    hub.close();
  }
});

Deno.test("LiveHub caps the alerts of one tick and says more when it left some out", async () => {
  const feed = new AlertFeed();
  const hub = new LiveHub(emptyStore, { pollMs: 20, alerts: feed });
  try {
    const body = await hub.subscribe({ owner: OWNER, filter: {}, stillAllowed: () => true });
    const reader = body!.pipeThrough(new TextDecoderStream()).getReader();
    const notices = Array.from(
      { length: LIVE_MAX_ALERTS_PER_MESSAGE + 10 },
      (_, i) => ({ alert: alert(i + 1), created: true }),
    );
    feed.publish(notices);
    const message = await nextAlerts(reader);
    assert.equal(message.alerts.length, LIVE_MAX_ALERTS_PER_MESSAGE);
    assert.equal(message.more, true);
    await reader.cancel();
  } finally {
    hub.close();
  }
});

Deno.test("LiveHub subscribes to the alert feed once and unsubscribes on close", () => {
  let listeners = 0;
  const source = {
    subscribe(_listener: unknown) {
      listeners++;
      return () => void listeners--;
    },
  };
  const hub = new LiveHub(emptyStore, { alerts: source });
  assert.equal(listeners, 1);
  hub.close();
  assert.equal(listeners, 0);
});
