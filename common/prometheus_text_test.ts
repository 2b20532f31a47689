import assert from "node:assert/strict";
import { escapeHelp, escapeLabelValue, formatValue, PrometheusText } from "./prometheus_text.ts";

Deno.test("escapeLabelValue() escapes backslash, double quote and line feed, and nothing else", () => {
  assert.equal(escapeLabelValue(String.raw`C:\logs`), String.raw`C:\\logs`);
  assert.equal(escapeLabelValue('say "hi"'), String.raw`say \"hi\"`);
  assert.equal(escapeLabelValue("a\nb"), String.raw`a\nb`);
  assert.equal(escapeLabelValue("tab\tand é"), "tab\tand é");
});

Deno.test("escapeHelp() escapes backslash and line feed", () => {
  assert.equal(escapeHelp('a\\b\n"c"'), String.raw`a\\b\n"c"`);
});

Deno.test("PrometheusText writes help, type and samples, one per line, ending with a newline", () => {
  const text = new PrometheusText()
    .metric("nms_up", "gauge", "Whether it runs.", [{ value: 1 }])
    .metric("nms_files", "gauge", "Bytes behind.", [
      { labels: { path: '/var/log/"odd"\nname' }, value: 5 },
      { labels: { path: "/x", kind: "file" }, value: 0 },
    ])
    .toString();
  assert.equal(
    text,
    [
      "# HELP nms_up Whether it runs.",
      "# TYPE nms_up gauge",
      "nms_up 1",
      "# HELP nms_files Bytes behind.",
      "# TYPE nms_files gauge",
      String.raw`nms_files{path="/var/log/\"odd\"\nname"} 5`,
      'nms_files{path="/x",kind="file"} 0',
      "",
    ].join("\n"),
  );
});

Deno.test("PrometheusText writes a histogram's buckets, +Inf, sum and count per series", () => {
  const text = new PrometheusText().histogram("h_seconds", "Latency.", [0.1, 1], [
    { labels: { route: "GET /" }, counts: [1, 2], sum: 1.5, count: 3 },
  ]).toString();
  assert.equal(
    text,
    [
      "# HELP h_seconds Latency.",
      "# TYPE h_seconds histogram",
      'h_seconds_bucket{route="GET /",le="0.1"} 1',
      'h_seconds_bucket{route="GET /",le="1"} 2',
      'h_seconds_bucket{route="GET /",le="+Inf"} 3',
      'h_seconds_sum{route="GET /"} 1.5',
      'h_seconds_count{route="GET /"} 3',
      "",
    ].join("\n"),
  );
  assert.equal(new PrometheusText().toString(), "");
});

Deno.test("PrometheusText refuses _total on a gauge, a counter without it, bad names and repeats", () => {
  assert.throws(
    () => new PrometheusText().metric("nms_bytes_behind_total", "gauge", "x", []),
    /only a counter's name ends with _total/,
  );
  assert.throws(
    () => new PrometheusText().metric("nms_events", "counter", "x", []),
    /a counter's name ends with _total/,
  );
  assert.throws(
    () => new PrometheusText().metric("nms-x", "gauge", "x", []),
    /Invalid metric name/,
  );
  assert.throws(
    () => new PrometheusText().metric("nms_x", "gauge", "x", [{ labels: { "a-b": "" }, value: 1 }]),
    /Invalid metric label name/,
  );
  assert.throws(
    () => new PrometheusText().metric("nms_x", "gauge", "x", []).metric("nms_x", "gauge", "y", []),
    /written twice/,
  );
});

Deno.test("formatValue() spells infinities and NaN as the format does", () => {
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(1.5), "1.5");
  const text = new PrometheusText().metric("nms_x", "gauge", "x", [{ value: Infinity }]).toString();
  assert.match(text, /^nms_x \+Inf$/m);
});
