import assert from "node:assert/strict";
import { readIsoTimestamp } from "./_iso_timestamp.ts";
import { createTimestampScan } from "./_timestamp_scan.ts";

/**
 * Reads a whole string as a timestamp.
 *
 * @param text The timestamp.
 * @param requireOffset Whether an offset is required.
 * @returns Ms since the epoch, or null when it is not a valid timestamp of that length.
 */
function read(text: string, requireOffset = false): number | null {
  const scan = createTimestampScan();
  return readIsoTimestamp(text, 0, requireOffset, scan) && scan.next === text.length
    ? scan.ms
    : null;
}

Deno.test("readIsoTimestamp() scales 1 to 9 fraction digits to whole milliseconds", () => {
  const base = Date.UTC(2026, 10, 23, 19, 43, 33);
  assert.equal(read("2026-11-23T19:43:33.1Z"), base + 100);
  assert.equal(read("2026-11-23T19:43:33.12Z"), base + 120);
  assert.equal(read("2026-11-23T19:43:33.123Z"), base + 123);
  assert.equal(read("2026-11-23T19:43:33.123456Z"), base + 123);
  assert.equal(read("2026-11-23T19:43:33.123456789Z"), base + 123);
  assert.equal(read("2026-11-23T19:43:33.1234567890Z"), null);
});

Deno.test("readIsoTimestamp() applies Z, ±hh:mm and ±hhmm offsets", () => {
  const utc = Date.UTC(2026, 10, 23, 19, 43, 33);
  assert.equal(read("2026-11-23T19:43:33Z"), utc);
  assert.equal(read("2026-11-23T21:13:33+01:30"), utc);
  assert.equal(read("2026-11-23T14:43:33-0500"), utc);
  assert.equal(read("2026-11-24T09:43:33+14:00"), utc);
  assert.equal(read("2026-11-23T19:43:33", true), null);
  assert.equal(read("2026-11-23T19:43:33+01"), null);
  assert.equal(read("2026-11-23T19:43:33+01:60"), null);
});

Deno.test("readIsoTimestamp() rejects impossible dates and accepts a leap second", () => {
  assert.equal(read("2026-02-29T00:00:00Z"), null);
  assert.equal(read("2028-02-29T00:00:00Z"), Date.UTC(2028, 1, 29));
  assert.equal(read("2026-04-31T00:00:00Z"), null);
  assert.equal(read("2026-00-10T00:00:00Z"), null);
  assert.equal(read("2026-13-10T00:00:00Z"), null);
  assert.equal(read("2026-11-00T00:00:00Z"), null);
  assert.equal(read("2026-11-23T24:00:00Z"), null);
  assert.equal(read("2026-11-23T23:60:00Z"), null);
  assert.equal(
    read("2016-12-31T23:59:60Z"),
    Date.UTC(2017, 0, 1),
    "leap second rolls over as in POSIX",
  );
});

Deno.test("readIsoTimestamp() reads two-digit-century years literally", () => {
  assert.equal(read("0005-03-01T00:00:00Z"), new Date("0005-03-01T00:00:00Z").getTime());
  assert.equal(read("1970-01-01T00:00:00Z"), 0);
});
