import assert from "node:assert/strict";
import { LineFilter } from "./line_filter.ts";
import { lineSeverity, parseSeverityName, readPri } from "./severity.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("LineFilter keeps only lines matching one of the --include patterns", () => {
  const filter = new LineFilter({ include: [/sshd/, /sudo/] });
  assert.ok(filter.active);
  assert.ok(filter.accepts(bytes("Nov 23 19:43:33 web-01 sshd[812]: Accepted publickey")));
  assert.ok(filter.accepts(bytes("Nov 23 19:43:34 web-01 sudo: deploy : COMMAND=/bin/true")));
  assert.ok(!filter.accepts(bytes("Nov 23 19:43:35 web-01 CRON[9921]: (root) CMD (true)")));
});

Deno.test("LineFilter drops lines matching an --exclude-line pattern, after the includes", () => {
  const filter = new LineFilter({ include: [/nginx/], exclude: [/GET \/healthz/] });
  assert.ok(filter.accepts(bytes("nginx: GET /index.html 200")));
  assert.ok(!filter.accepts(bytes("nginx: GET /healthz 200")));
  assert.ok(!filter.accepts(bytes("postgres: checkpoint complete")));
});

Deno.test("LineFilter --min-severity reads the PRI, else infers from keywords", () => {
  const filter = new LineFilter({ minSeverity: 4 });
  assert.ok(filter.accepts(bytes("<11>Nov 23 19:43:33 web-01 app: all fine")), "PRI 11 is err");
  assert.ok(!filter.accepts(bytes("<14>Nov 23 19:43:33 web-01 app: error in text")), "PRI wins");
  assert.ok(filter.accepts(bytes("2026-11-23T19:43:33Z web-01 app: WARNING: disk 91% full")));
  assert.ok(filter.accepts(bytes("Nov 23 19:43:33 web-01 sshd[1]: Failed password for root")));
  assert.ok(!filter.accepts(bytes("Nov 23 19:43:33 web-01 sshd[1]: Accepted publickey")));
  assert.ok(!filter.accepts(bytes("DEBUG cache hit")));
  assert.ok(filter.accepts(bytes("<0>kernel: panic")));
});

Deno.test("LineFilter is inactive without patterns or with debug as the least severity", () => {
  assert.ok(!new LineFilter({}).active);
  assert.ok(!new LineFilter({ minSeverity: 7 }).active);
  assert.ok(new LineFilter({}).accepts(bytes("anything")));
  assert.throws(() => new LineFilter({ minSeverity: 8 }), RangeError);
});

Deno.test("LineFilter copes with global patterns and invalid UTF-8", () => {
  const filter = new LineFilter({ include: [/x/g] });
  for (let i = 0; i < 3; i++) assert.ok(filter.accepts(bytes("x")), "no lastIndex state");
  assert.ok(!new LineFilter({ include: [/^abc$/] }).accepts(new Uint8Array([0x61, 0xff, 0x63])));
});

Deno.test("readPri() and lineSeverity() accept only a valid leading <N>", () => {
  assert.equal(readPri("<34>x"), 34);
  assert.equal(readPri("<191>x"), 191);
  assert.equal(readPri("<192>x"), -1);
  assert.equal(readPri("<>x"), -1);
  assert.equal(readPri("<1234>x"), -1);
  assert.equal(readPri("<13x"), -1);
  assert.equal(lineSeverity("<165>1 2026-11-23T19:43:33Z host app - - - hi"), 5);
  assert.equal(lineSeverity("plain text"), 6);
});

Deno.test("parseSeverityName() accepts syslog names, common spellings and 0-7", () => {
  assert.equal(parseSeverityName("err"), 3);
  assert.equal(parseSeverityName("ERROR"), 3);
  assert.equal(parseSeverityName("warning"), 4);
  assert.equal(parseSeverityName("warn"), 4);
  assert.equal(parseSeverityName("notice"), 5);
  assert.equal(parseSeverityName("info"), 6);
  assert.equal(parseSeverityName("debug"), 7);
  assert.equal(parseSeverityName("emerg"), 0);
  assert.equal(parseSeverityName("2"), 2);
  assert.equal(parseSeverityName("8"), undefined);
  assert.equal(parseSeverityName("loud"), undefined);
  assert.equal(parseSeverityName("constructor"), undefined);
});
