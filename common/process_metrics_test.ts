import assert from "node:assert/strict";
import { PrometheusText } from "./prometheus_text.ts";
import { readProcessFigures, writeBuildInfo, writeProcessMetrics } from "./process_metrics.ts";

Deno.test("readProcessFigures() reads memory, CPU time and start time without any permission", () => {
  const figures = readProcessFigures();
  assert.ok(figures.residentBytes > 1_000_000);
  assert.ok(figures.cpuSeconds !== null && figures.cpuSeconds > 0, "Deno.cpuUsage() is there");
  const now = Date.now() / 1000;
  assert.ok(figures.startTimeSeconds <= now && figures.startTimeSeconds > now - 3600);
});

Deno.test("writeProcessMetrics() writes the standard names and leaves out what is unknown", () => {
  const text = writeProcessMetrics(new PrometheusText(), {
    residentBytes: 52_428_800,
    cpuSeconds: 1.25,
    startTimeSeconds: 1_700_000_000,
    openFds: null,
    maxFds: null,
  }).toString();
  assert.match(text, /^process_resident_memory_bytes 52428800$/m);
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  assert.match(text, /^process_cpu_seconds_total 1\.25$/m);
  assert.match(text, /^process_start_time_seconds 1700000000$/m);
  assert.doesNotMatch(text, /process_open_fds|process_max_fds/);
});

Deno.test("writeBuildInfo() writes nms_build_info with version, commit and Deno's version", () => {
  const text = writeBuildInfo(new PrometheusText(), { version: "1.2.3", commit: "abc" }).toString();
  assert.match(
    text,
    new RegExp(
      `^nms_build_info\\{version="1\\.2\\.3",commit="abc",deno="${Deno.version.deno}"\\} 1$`,
      "m",
    ),
  );
});
