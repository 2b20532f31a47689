import assert from "node:assert/strict";
import type { EventRecord } from "../store/store.ts";
import { SEVERITY_KEYWORDS } from "../../protocol/mod.ts";
import { liveMatcher, parseIntParam, parseLogFilter, toEventQuery } from "./log_filter.ts";

const parse = (query: string) => parseLogFilter(new URLSearchParams(query));

Deno.test("parseLogFilter() reads host, program, severity names and numbers, keyword and times", () => {
  assert.deepEqual(
    parse(
      "host=web-01&program=sshd&severity=warning&q=%20timeout%20&from=1000&to=2025-12-11T16:00:00Z",
    ),
    {
      ok: true,
      value: {
        host: "web-01",
        program: "sshd",
        maxSeverity: 4,
        keyword: "timeout",
        sinceMs: 1000,
        untilMs: Date.UTC(2025, 11, 11, 16),
      },
    },
  );
  assert.deepEqual(parse("severity=3&host="), { ok: true, value: { maxSeverity: 3 } });
});

Deno.test("parseLogFilter() rejects invalid values with a reason instead of throwing", () => {
  for (
    const query of [
      "severity=8",
      "severity=loud",
      "from=yesterday",
      "to=2025-13-45",
      `q=${"x".repeat(600)}`,
      `host=${"h".repeat(300)}`,
    ]
  ) {
    const result = parse(query);
    assert.equal(result.ok, false, query);
  }
});

Deno.test("parseIntParam() applies bounds and the fallback", () => {
  const params = new URLSearchParams("limit=50&bad=5x&big=99999999999999999999");
  const bounds = { min: 1, max: 100, fallback: 10 };
  assert.deepEqual(parseIntParam(params, "limit", bounds), { ok: true, value: 50 });
  assert.deepEqual(parseIntParam(params, "missing", bounds), { ok: true, value: 10 });
  assert.equal(parseIntParam(params, "bad", bounds).ok, false);
  assert.equal(parseIntParam(params, "big", bounds).ok, false);
});

Deno.test("toEventQuery() sends the keyword to full-text search and keeps exact names", () => {
  const filter = parse("host=web-01&q=disk full&severity=err");
  assert.ok(filter.ok);
  assert.deepEqual(toEventQuery(filter.value), {
    host: "web-01",
    maxSeverity: 3,
    text: "disk full",
  });
});

Deno.test("liveMatcher() matches case-insensitive substrings as the operator types", () => {
  const event = {
    id: 1,
    ts: 5,
    host: "Web-01",
    program: "sshd",
    severity: 3,
    message: "Failed password for root",
  } as EventRecord;
  const matches = (query: string) => {
    const filter = parse(query);
    assert.ok(filter.ok);
    return liveMatcher(filter.value)(event);
  };
  assert.equal(matches(""), true);
  assert.equal(matches("host=web&program=SSH&q=failed PASS"), true);
  assert.equal(matches("severity=err"), true);
  assert.equal(matches("severity=crit"), false);
  assert.equal(matches("host=db"), false);
  assert.equal(matches("from=6"), false);
});

Deno.test("the console's browser script names severities as the server does (it cannot import protocol/)", async () => {
  const { SEVERITY_NAMES } = await import("./static/format.js");
  assert.deepEqual(SEVERITY_NAMES, [...SEVERITY_KEYWORDS]);
  // The filter accepts exactly those names.
  for (const name of SEVERITY_NAMES as string[]) {
    const parsed = parseLogFilter(new URLSearchParams({ severity: name }));
    assert.equal(parsed.ok, true, name);
  }
});
