import assert from "node:assert/strict";
import { join } from "node:path";
import { type AlertNotice, builtinRuleSet } from "../rules/mod.ts";
import { makeBatch } from "../store/store_conformance.ts";
import {
  type AgentChange,
  type AgentRegistration,
  APPEND_STATUS,
  openSqliteStore,
  type Store,
  type SyncMode,
} from "../store/mod.ts";
import {
  GROUP_COMMIT_COALESCE_BATCHES,
  GROUP_COMMIT_MAX_ROWS,
  GROUP_COMMIT_MIN_INTERVAL_MS,
  GroupCommit,
  type GroupCommitSink,
} from "./group_commit.ts";
import { TEXT_INDEX_STEP_BYTES } from "./text_index_lag.ts";
import { DEFERRED_INDEX_STEP_ROWS } from "../store/sqlite_deferred_indexes.ts";
import { MAX_LINE_BYTES } from "../../protocol/mod.ts";
import type { BatchCommit, WriteResult } from "./worker_messages.ts";
import { NO_REPLY } from "./worker_messages.ts";

/** Everything a GroupCommit reported, and a way to wait for it. */
class Recorder implements GroupCommitSink {
  /** What each `committed()` call reported. */
  readonly groups: BatchCommit[][] = [];
  /** Every result reported through `done()`. */
  readonly writes: WriteResult[] = [];
  /** Rule ids of the alerts reported. */
  readonly alertRules: number[] = [];
  readonly warnings: string[] = [];
  #wake = () => {};

  committed(results: BatchCommit[]): void {
    this.groups.push(results);
    this.#wake();
  }

  done(results: WriteResult[]): void {
    this.writes.push(...results);
    this.#wake();
  }

  alerts(notices: AlertNotice[]): void {
    this.alertRules.push(...notices.map((notice) => notice.alert.ruleId));
  }

  warning(message: string): void {
    this.warnings.push(message);
  }

  /** Resolves once `count` groups have been reported through `committed()`. */
  groupsReported(count: number): Promise<void> {
    return this.#until(() => this.groups.length >= count);
  }

  /** Resolves once `count` results have been reported through `done()`. */
  writesReported(count: number): Promise<void> {
    return this.#until(() => this.writes.length >= count);
  }

  #until(reached: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = () => reached() ? resolve() : (this.#wake = check);
      check();
    });
  }
}

/** A GroupCommit on a fresh SQLite database, closed with its store afterwards. */
async function groupCommit(options: { sync?: SyncMode } = {}): Promise<
  { store: Store; commit: GroupCommit; sink: Recorder; changeCalls: number[] } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "nms-group-commit-" });
  const real = await openSqliteStore(join(dir, "nms.db"), options);
  // The real store, with the size of each node-change transaction written down.
  const changeCalls: number[] = [];
  const store = new Proxy(real, {
    get(target, key) {
      if (key === "applyAgentChanges") {
        return (changes: readonly AgentChange[]) => {
          changeCalls.push(changes.length);
          return target.applyAgentChanges(changes);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const sink = new Recorder();
  const commit = new GroupCommit(store, sink, {
    textIndexLag: { maxEvents: 0, maxCatchupSeconds: 0 },
  });
  return {
    store,
    commit,
    sink,
    changeCalls,
    async [Symbol.asyncDispose]() {
      await commit.close();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("GroupCommit stores the batches that arrive in one turn in one group and answers each", async () => {
  await using fixture = await groupCommit();
  const { commit, sink, store } = fixture;
  commit.addEvents(1, makeBatch([{ stream: "s1", position: 10 }, { stream: "s1", position: 20 }]));
  // Still the same turn of the event loop: the next batch joins the group.
  await Promise.resolve();
  commit.addEvents(2, makeBatch([{ stream: "s1", position: 20 }, { stream: "s1", position: 30 }]));
  commit.addEvents(NO_REPLY, makeBatch([{ message: "nobody waits for this one" }]));
  await sink.groupsReported(1);
  assert.equal(sink.groups.length, 1);
  assert.deepEqual(sink.groups[0]!.map((r) => r.jobId), [1, 2]);
  const [first, second] = sink.groups[0]! as { statuses: Uint8Array }[];
  assert.deepEqual([...first!.statuses], [APPEND_STATUS.stored, APPEND_STATUS.stored]);
  assert.deepEqual([...second!.statuses], [APPEND_STATUS.duplicate, APPEND_STATUS.stored]);
  assert.equal((await store.queryEvents({ limit: 10 })).length, 4);
});

Deno.test("GroupCommit commits a group of GROUP_COMMIT_MAX_ROWS at once, without waiting for its timer", async () => {
  await using fixture = await groupCommit();
  const { commit, sink } = fixture;
  // Timers run in order: this one fires before any timer the group commit could set.
  const groupsBeforeTimers = new Promise<number>((resolve) =>
    setTimeout(() => resolve(sink.groups.length), 0)
  );
  commit.addEvents(1, makeBatch(Array.from({ length: GROUP_COMMIT_MAX_ROWS }, () => ({}))));
  assert.equal(await groupsBeforeTimers, 1);
  commit.addEvents(2, makeBatch([{ message: "a small batch waits for the turn to end" }]));
  await sink.groupsReported(2);
  assert.deepEqual(sink.groups.map((group) => group.map((r) => r.jobId)), [[1], [2]]);
});

Deno.test("GroupCommit: after a group of many senders, batches that arrive soon wait for its interval and share one group", async () => {
  await using fixture = await groupCommit();
  const { commit, sink } = fixture;
  // A fleet's turn: many small batches, committed at once after a quiet spell.
  const fleet = Array.from({ length: GROUP_COMMIT_COALESCE_BATCHES }, (_, i) => i + 1);
  for (const jobId of fleet) commit.addEvents(jobId, makeBatch([{ message: `agent ${jobId}` }]));
  await sink.groupsReported(1);
  // Three batches in three turns of the timer queue, each well within the interval.
  const apartMs = GROUP_COMMIT_MIN_INTERVAL_MS / 10;
  for (const jobId of [101, 102, 103]) {
    commit.addEvents(jobId, makeBatch([{ message: `batch ${jobId}` }]));
    await new Promise((resolve) => setTimeout(resolve, apartMs));
  }
  await sink.groupsReported(2);
  assert.deepEqual(sink.groups.map((group) => group.map((r) => r.jobId)), [fleet, [101, 102, 103]]);
});

Deno.test("GroupCommit: one agent's lines are committed at once, never held for the interval", async () => {
  await using fixture = await groupCommit();
  const { commit, sink } = fixture;
  commit.addEvents(1, makeBatch([{ message: "a line" }]));
  await sink.groupsReported(1);
  const apartMs = GROUP_COMMIT_MIN_INTERVAL_MS / 10;
  for (const jobId of [2, 3]) {
    commit.addEvents(jobId, makeBatch([{ message: `line ${jobId}` }]));
    await new Promise((resolve) => setTimeout(resolve, apartMs));
  }
  await sink.groupsReported(3);
  assert.deepEqual(sink.groups.map((group) => group.map((r) => r.jobId)), [[1], [2], [3]]);
});

Deno.test("GroupCommit applies node changes after the group's events; a first REGISTER is also stored as an event", async () => {
  await using fixture = await groupCommit();
  const { commit, sink, store } = fixture;
  const registration = {
    hostname: "web-01",
    version: "1.0",
    os: "Linux",
    address: "10.0.0.5:4000",
    at: 1_000,
  };
  commit.addWrite({ kind: "register", jobId: 7, registration });
  await sink.writesReported(1);
  const agentId = sink.writes[0]!.agentId!;
  assert.ok(agentId > 0);
  commit.addWrite({
    kind: "heartbeat",
    jobId: 8,
    heartbeat: { agentId, uptimeSeconds: 5, lagBytes: 0, at: 2_000 },
  });
  commit.addWrite({ kind: "bye", jobId: 9, agentId, at: 3_000 });
  await sink.writesReported(3);
  assert.deepEqual(sink.writes.map((r) => [r.jobId, r.error]), [
    [7, undefined],
    [8, undefined],
    [9, undefined],
  ]);
  const [agent] = await store.listAgents();
  assert.equal(agent!.lastHeartbeat, 2_000);
  assert.equal(agent!.stoppedAt, 3_000);
  // The registration's security event joined a later group; close() commits it at the latest.
  await commit.close();
  const events = await store.queryEvents({ program: "nms-server", limit: 10 });
  assert.equal(events.length, 1);
  assert.match(events[0]!.message, /web-01/);
});

Deno.test("GroupCommit.close() commits what is pending and stores nothing after", async () => {
  await using fixture = await groupCommit();
  const { commit, sink, store } = fixture;
  commit.addEvents(1, makeBatch([{ message: "pending at close" }]));
  await commit.close();
  assert.deepEqual(sink.groups.flat().map((r) => r.jobId), [1]);
  commit.addEvents(2, makeBatch([{ message: "after close" }]));
  await commit.close();
  assert.deepEqual(
    (await store.queryEvents({ limit: 10 })).map((e) => e.message),
    ["pending at close"],
  );
});

Deno.test("GroupCommit matches NMS's own events against the rules and stores the alerts with them", async () => {
  await using fixture = await groupCommit();
  const { commit, sink, store } = fixture;
  commit.setRules(builtinRuleSet());
  const registration = {
    hostname: "db-02",
    version: "1.0",
    os: "Linux",
    address: "10.0.0.6:4000",
    at: 1_000,
  };
  commit.addWrite({ kind: "register", jobId: 1, registration });
  await sink.writesReported(1);
  await commit.close();
  assert.deepEqual(sink.alertRules, [880003]);
  assert.equal((await store.listAlerts({ limit: 10 })).length, 1);
});

Deno.test("GroupCommit's idle full-text indexing steps stop at TEXT_INDEX_STEP_BYTES of long lines", async () => {
  await using fixture = await groupCommit();
  const { commit, sink, store } = fixture;
  // Rows the idle steps indexed, one entry per step, seen through the store's own method.
  const steps: number[] = [];
  const indexText = store.indexText!.bind(store);
  store.indexText = async (maxRows, maxBytes) => {
    const indexed = await indexText(maxRows, maxBytes);
    if (indexed > 0) steps.push(indexed);
    return indexed;
  };
  const line = "a".repeat(MAX_LINE_BYTES - 1) + "b";
  const lines = Math.ceil((4 * TEXT_INDEX_STEP_BYTES) / line.length);
  commit.addEvents(1, makeBatch(Array.from({ length: lines }, () => ({ message: line }))));
  await sink.groupsReported(1);
  const deadline = Date.now() + 30_000;
  while (await store.textIndexLag!() > 0) {
    assert.ok(Date.now() < deadline, "the index did not catch up");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // A step takes lines until their bytes reach the bound: at most one line beyond it.
  const most = Math.floor(TEXT_INDEX_STEP_BYTES / line.length) + 1;
  assert.ok(steps.length >= 4, `${steps.length} steps: ${steps.join(", ")}`);
  for (const rows of steps) assert.ok(rows <= most, `a step indexed ${rows} lines of 64 KiB`);
  assert.equal(steps.reduce((a, b) => a + b, 0), lines);
});

Deno.test("GroupCommit adds stored events to the deferred indexes after its commits, once DEFERRED_INDEX_STEP_ROWS have gathered", async () => {
  await using fixture = await groupCommit();
  const { commit, sink, store } = fixture;
  // What each step after a commit went past, seen through the store's own method.
  const steps: number[] = [];
  let stepped = () => {};
  const indexDeferred = store.indexDeferred!.bind(store);
  store.indexDeferred = async (minRows) => {
    const indexed = await indexDeferred(minRows);
    steps.push(indexed);
    if (indexed > 0) stepped();
    return indexed;
  };
  const firstStep = new Promise<void>((resolve) => stepped = resolve);
  const batchRows = 10_000;
  const batches = Math.ceil(DEFERRED_INDEX_STEP_ROWS / batchRows) + 1;
  for (let b = 0; b < batches; b++) {
    const events = Array.from({ length: batchRows }, (_, i) => ({ host: `host-${i % 100}` }));
    commit.addEvents(b + 1, makeBatch(events));
    await sink.groupsReported(b + 1);
  }
  await firstStep;
  const indexed = steps.reduce((a, b) => a + b, 0);
  assert.ok(indexed >= DEFERRED_INDEX_STEP_ROWS, `steps after commits: ${steps.join(", ")}`);
  assert.equal(steps[0], 0, "the first commit leaves fewer rows than a step");
  assert.equal(await store.countEvents({ host: "host-7" }), batches * batchRows / 100);
});

function registration(hostname: string, at = 1_000): AgentRegistration {
  return { hostname, version: "1.0", os: "Linux", address: "10.0.0.5:4000", at };
}

Deno.test("GroupCommit commits a storm of REGISTERs and HEARTBEATs in a few transactions, not one each", async () => {
  await using fixture = await groupCommit();
  const { commit, sink, changeCalls } = fixture;
  const nodes = 1_000;
  for (let i = 0; i < nodes; i++) {
    commit.addWrite({ kind: "register", jobId: i + 1, registration: registration(`host-${i}`) });
  }
  await sink.writesReported(nodes);
  assert.ok(sink.writes.every((w) => w.error === undefined && w.agentId! > 0));
  for (let i = 0; i < nodes; i++) {
    commit.addWrite({
      kind: "heartbeat",
      jobId: nodes + i + 1,
      heartbeat: { agentId: sink.writes[i]!.agentId!, uptimeSeconds: 1, lagBytes: null, at: 2_000 },
    });
  }
  await sink.writesReported(2 * nodes);
  assert.equal(changeCalls.reduce((a, b) => a + b, 0), 2 * nodes);
  assert.ok(changeCalls.length <= 4, `${changeCalls.length} transactions for ${2 * nodes} changes`);
  const page = await fixture.store.queryAgents({
    cutoffs: { lateBefore: 0, silentBefore: 0 },
    limit: 1,
  });
  assert.equal(page.total, nodes);
  assert.equal(page.counts.alive, nodes);
});

Deno.test("GroupCommit registers a node about as fast with 100,000 nodes known as with 100", async () => {
  // Relative, with a wide margin: a scan of the known nodes per REGISTER costs 100 times more.
  const medianMs = async (known: number) => {
    await using fixture = await groupCommit({ sync: "normal" });
    const { commit, sink, store } = fixture;
    const chunk = 10_000;
    for (let i = 0; i < known; i += chunk) {
      const n = Math.min(chunk, known - i);
      await store.applyAgentChanges(Array.from({ length: n }, (_, j) => ({
        kind: "register" as const,
        registration: registration(`seed-${i + j}`),
      })));
    }
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const start = performance.now();
      commit.addWrite({ kind: "register", jobId: i + 1, registration: registration(`new-${i}`) });
      await sink.writesReported(i + 1);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  };
  const small = await medianMs(100);
  const large = await medianMs(100_000);
  assert.ok(large <= Math.max(small, 1) * 2, `median ${large} ms at 100,000 vs ${small} ms at 100`);
});
