import assert from "node:assert/strict";
import {
  formatThreadShares,
  parseStat,
  readThreadCpu,
  type ThreadCpu,
  threadShares,
} from "./_thread_cpu.ts";

const thread = (tid: number, name: string, userSeconds: number, systemSeconds: number) =>
  ({ tid, name, userSeconds, systemSeconds }) satisfies ThreadCpu;

Deno.test("parseStat() reads the name and the user and system times of a /proc stat line", () => {
  // Fields after the name: state, then 10 more, then utime and stime in clock ticks.
  const stat = "4242 (V8 Default (x) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0";
  assert.deepEqual(parseStat(stat), {
    name: "V8 Default (x) 1",
    userSeconds: 12.34,
    systemSeconds: 5.67,
  });
});

Deno.test("threadShares() splits a window's CPU into the main thread, each Worker, V8's helpers and the rest", () => {
  const before = [
    thread(100, "deno", 10, 5),
    thread(101, "V8 DefaultWorke", 0, 1),
    thread(102, "V8 DefaultWorke", 0, 1),
    thread(103, "worker-1", 4, 1),
    thread(104, "tokio-runtime-w", 1, 0),
  ];
  const after = [
    thread(100, "deno", 16, 8), // +6 user, +3 system
    thread(101, "V8 DefaultWorke", 0, 2), // +1 system
    thread(102, "V8 DefaultWorke", 0, 3), // +2 system
    thread(103, "worker-1", 7, 2), // +3 user, +1 system
    thread(105, "worker-2", 1, 0), // started in the window: counts from zero
    thread(104, "tokio-runtime-w", 1.5, 0), // +0.5 user
  ];
  assert.deepEqual(threadShares(before, after, 100, 10), [
    { label: "main", user: 0.6, system: 0.3 },
    { label: "worker-1", user: 0.3, system: 0.1 },
    { label: "V8 helpers", user: 0, system: 0.3 },
    { label: "worker-2", user: 0.1, system: 0 },
    { label: "other", user: 0.05, system: 0 },
  ]);
});

Deno.test("formatThreadShares() prints each group's share and system part, leaving out idle ones", () => {
  assert.equal(
    formatThreadShares([
      { label: "main", user: 0.168, system: 0.094 },
      { label: "worker-1", user: 0.07, system: 0.018 },
      { label: "worker-4", user: 0.0004, system: 0.0004 },
    ]),
    "main 26.2% (9.4% system), worker-1 8.8% (1.8% system)",
  );
  // The main thread is printed even when idle: the line always names it.
  assert.equal(
    formatThreadShares([{ label: "main", user: 0, system: 0 }]),
    "main 0.0% (0.0% system)",
  );
});

Deno.test({
  name: "readThreadCpu() reads this process's main thread and a busy Worker's thread",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const source = "let spin = true; self.onmessage = () => { spin = false; };" +
      "const burn = () => { const end = Date.now() + 20; while (Date.now() < end); if (spin) setTimeout(burn, 0); }; burn();";
    const worker = new Worker(
      URL.createObjectURL(new Blob([source], { type: "application/javascript" })),
      { type: "module" },
    );
    try {
      const busyWorker = async () => {
        for (let tries = 0; tries < 500; tries++) {
          const threads = await readThreadCpu(Deno.pid);
          const found = threads.find((t) =>
            /^worker-\d+$/.test(t.name) && t.userSeconds + t.systemSeconds >= 0.05
          );
          if (found) return { threads, found };
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return null;
      };
      const seen = await busyWorker();
      assert.ok(seen, "no Worker thread with CPU time");
      assert.ok(seen.threads.some((t) => t.tid === Deno.pid), "no main thread");
      assert.notEqual(seen.found.tid, Deno.pid);
    } finally {
      worker.postMessage("stop");
      worker.terminate();
    }
  },
});
