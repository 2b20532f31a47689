import assert from "node:assert/strict";
import type { Clock } from "../clock.ts";
import { Sweep, SWEEP_CHECKS_PER_SECOND } from "./sweep.ts";

/** A clock whose time moves only when the test says so. */
class ManualClock implements Clock {
  #now = 0;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #next = 1;
  now(): number {
    return this.#now;
  }
  setTimeout(callback: () => void, delayMs: number): number {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + delayMs, callback });
    return id;
  }
  clearTimeout(id: unknown): void {
    this.#timers.delete(id as number);
  }
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) =>
        t.at <= end
      ).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].callback();
    }
    this.#now = end;
  }
}

function sweepOf(entries: number, clock: ManualClock): { sweep: Sweep; counts: number[] } {
  const sweep = new Sweep({ minIntervalMs: 1_000, clock });
  const counts = new Array<number>(entries).fill(0);
  for (let i = 0; i < entries; i++) sweep.add({ check: () => counts[i]!++ });
  return { sweep, counts };
}

Deno.test("Sweep checks a few entries once per interval each", () => {
  const clock = new ManualClock();
  const { sweep, counts } = sweepOf(3, clock);
  clock.advance(10_000);
  sweep.close();
  for (const count of counts) assert.ok(count >= 9 && count <= 10, `${count} checks in 10 s`);
});

Deno.test("Sweep checks at most SWEEP_CHECKS_PER_SECOND entries a second, however many there are", () => {
  for (const entries of [1_000, 10_000]) {
    const clock = new ManualClock();
    const { sweep, counts } = sweepOf(entries, clock);
    clock.advance(10_000);
    const total = counts.reduce((a, b) => a + b, 0);
    assert.ok(
      total <= SWEEP_CHECKS_PER_SECOND * 10,
      `${total} checks of ${entries} entries in 10 s`,
    );
    assert.ok(total >= SWEEP_CHECKS_PER_SECOND * 10 - 2 * SWEEP_CHECKS_PER_SECOND);
    // Spread evenly: every entry comes before any comes twice.
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1);
    clock.advance(entries * 1000 / SWEEP_CHECKS_PER_SECOND);
    assert.ok(counts.every((n) => n >= 1), "each entry checked within one sweep period");
    sweep.close();
  }
});

Deno.test("Sweep takes in entries added and removed while it runs", () => {
  const clock = new ManualClock();
  const sweep = new Sweep({ minIntervalMs: 1_000, clock });
  let a = 0;
  let b = 0;
  const removeA = sweep.add({ check: () => a++ });
  clock.advance(2_000);
  const removeB = sweep.add({ check: () => b++ });
  removeA();
  const before = a;
  clock.advance(3_000);
  assert.equal(a, before);
  assert.ok(b >= 2);
  removeB();
  assert.equal(sweep.size, 0);
  sweep.close();
});
