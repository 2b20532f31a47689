import assert from "node:assert/strict";
import { utcMillis } from "./_civil_time.ts";

Deno.test("utcMillis() agrees with Date.UTC on days across four centuries, cached or not", () => {
  let state = 12345;
  const random = (n: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % n;
  };
  for (let k = 0; k < 20_000; k++) {
    const year = 1900 + random(400);
    const month = 1 + random(12);
    const day = 1 + random(28);
    const [h, mi, s, ms] = [random(24), random(60), random(60), random(1000)];
    assert.equal(
      utcMillis(year, month, day, h, mi, s, ms),
      Date.UTC(year, month - 1, day, h, mi, s, ms),
    );
    // Same day again: served from the cache.
    assert.equal(utcMillis(year, month, day, 0, 0, 0, 0), Date.UTC(year, month - 1, day));
  }
});

Deno.test("utcMillis() returns NaN for dates that do not exist", () => {
  const impossible: [number, number, number, number, number, number, number][] = [
    [2026, 2, 29, 0, 0, 0, 0],
    [2100, 2, 29, 0, 0, 0, 0],
    [2026, 4, 31, 0, 0, 0, 0],
    [2026, 0, 1, 0, 0, 0, 0],
    [2026, 13, 1, 0, 0, 0, 0],
    [2026, 1, 0, 0, 0, 0, 0],
    [2026, 1, 1, 24, 0, 0, 0],
    [2026, 1, 1, 0, 60, 0, 0],
    [2026, 1, 1, 0, 0, 61, 0],
    [10_000, 1, 1, 0, 0, 0, 0],
    [-1, 1, 1, 0, 0, 0, 0],
    [NaN, 1, 1, 0, 0, 0, 0],
  ];
  for (const fields of impossible) {
    assert.ok(Number.isNaN(utcMillis(...fields)), fields.join(","));
  }
  assert.equal(utcMillis(2000, 2, 29, 0, 0, 0, 0), Date.UTC(2000, 1, 29));
});

Deno.test("utcMillis() reads years below 100 literally, not as 19xx", () => {
  assert.equal(utcMillis(5, 3, 1, 0, 0, 0, 0), new Date("0005-03-01T00:00:00Z").getTime());
  assert.equal(utcMillis(0, 2, 29, 0, 0, 0, 0), new Date("0000-02-29T00:00:00Z").getTime());
});
