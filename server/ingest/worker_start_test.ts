import assert from "node:assert/strict";
import { ready } from "./worker_start.ts";

/** Runs `use` with a worker whose module is `body`, and stops the worker after. */
async function withWorker(body: string, use: (worker: Worker) => Promise<void>): Promise<void> {
  const source = `data:application/javascript,${encodeURIComponent(body)}`;
  const worker = new Worker(source, { type: "module" });
  try {
    await use(worker);
  } finally {
    worker.terminate();
  }
}

Deno.test("worker start-up does not count a slow module load against the store's time limit", async () => {
  // The load takes twice the limit; the limit is far above one message's round trip.
  await withWorker(
    `const until = Date.now() + 1_000;
    while (Date.now() < until) {}
    self.onmessage = () => self.postMessage({ kind: "ready" });
    self.postMessage({ kind: "loaded" });`,
    (worker) => ready(worker, { kind: "init" }, [], 500),
  );
});

/** Start-ups that must fail, each with the message it must fail with. */
const FAILED_STARTS: { name: string; body: string; timeoutMs: number; message: RegExp }[] = [
  {
    name: "worker start-up fails with a clear message when the store does not open in time",
    body: `self.onmessage = () => {};
      self.postMessage({ kind: "loaded" });`,
    timeoutMs: 50,
    message: /^Worker did not open the store within 0\.05 s$/,
  },
  {
    name: "worker start-up fails with the worker's reason when the store cannot be opened",
    body: `self.onmessage = () =>
        self.postMessage({ kind: "init-failed", message: "unable to open database file" });
      self.postMessage({ kind: "loaded" });`,
    timeoutMs: 5_000,
    message: /^unable to open database file$/,
  },
  {
    name: "worker start-up fails at once when the worker's module throws while loading",
    body: `throw new Error("this module fails to load on purpose");`,
    timeoutMs: 5_000,
    message: /fails to load on purpose/,
  },
];

for (const { name, body, timeoutMs, message } of FAILED_STARTS) {
  Deno.test(name, async () => {
    await withWorker(
      body,
      (worker) => assert.rejects(ready(worker, { kind: "init" }, [], timeoutMs), { message }),
    );
  });
}
