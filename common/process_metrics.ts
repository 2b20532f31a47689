/**
 * The standard process metrics of a Prometheus exporter, written the same way
 * by the server's and the agent's `/metrics`: `process_resident_memory_bytes`,
 * `process_cpu_seconds_total`, `process_start_time_seconds`, and, where the
 * process may read `/proc/self`, `process_open_fds` and `process_max_fds`.
 *
 * Deno lets a program read `/proc/self` only with every permission
 * (`--allow-all`): the compiled binaries, which run with narrower ones
 * (docs/SECURITY.md), leave the two descriptor metrics out rather than fail.
 *
 * @module
 */

import type { PrometheusText } from "./prometheus_text.ts";

/** What the process metrics are made of; every figure may be missing. */
export interface ProcessFigures {
  /** Resident set size, in bytes. */
  readonly residentBytes: number;
  /** User and system CPU time, in seconds; null when the runtime cannot tell. */
  readonly cpuSeconds: number | null;
  /** When the process started, seconds since the epoch. */
  readonly startTimeSeconds: number;
  /** Open file descriptors; null when `/proc/self/fd` cannot be read. */
  readonly openFds: number | null;
  /** The soft limit of open file descriptors; null when unknown. */
  readonly maxFds: number | null;
}

/** `Deno.cpuUsage()`: present in Deno 2 (node:process's `cpuUsage()` is built on it), untyped. */
type CpuUsage = () => { user: number; system: number };

/** Whether `/proc/self` was refused once: then it is not tried again. */
let procRefused = false;

function readProc<T>(read: () => T): T | null {
  if (procRefused || Deno.build.os !== "linux") return null;
  try {
    return read();
  } catch (error) {
    // NotCapable or PermissionDenied without --allow-all; anything else (no /proc) as well.
    if (!(error instanceof Deno.errors.NotFound)) procRefused = true;
    return null;
  }
}

/**
 * Reads the process figures now.
 *
 * @returns The figures; descriptor counts are null unless `/proc/self` is readable.
 * @example
 * ```ts
 * readProcessFigures().residentBytes; // e.g. 52_428_800
 * ```
 */
export function readProcessFigures(): ProcessFigures {
  const cpuUsage = (Deno as unknown as { cpuUsage?: CpuUsage }).cpuUsage;
  const cpu = typeof cpuUsage === "function" ? cpuUsage() : null;
  const openFds = readProc(() => {
    let count = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
    return count;
  });
  const maxFds = openFds === null ? null : readProc(() => {
    const line = Deno.readTextFileSync("/proc/self/limits").split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    return soft === undefined || !/^\d+$/.test(soft) ? null : Number(soft);
  });
  return {
    residentBytes: Deno.memoryUsage().rss,
    cpuSeconds: cpu === null ? null : (cpu.user + cpu.system) / 1e6,
    startTimeSeconds: Math.floor(performance.timeOrigin / 1000),
    openFds,
    maxFds,
  };
}

/**
 * Adds the process metrics to an exposition.
 *
 * @param text The exposition being written.
 * @param figures The figures to write.
 * @returns The same exposition; a figure that is null is left out.
 * @example
 * ```ts
 * writeProcessMetrics(new PrometheusText(), readProcessFigures()).toString();
 * ```
 */
export function writeProcessMetrics(
  text: PrometheusText,
  figures: ProcessFigures = readProcessFigures(),
): PrometheusText {
  const gauge = (name: string, help: string, value: number | null) => {
    if (value !== null) text.metric(name, "gauge", help, [{ value }]);
  };
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", figures.residentBytes);
  if (figures.cpuSeconds !== null) {
    text.metric(
      "process_cpu_seconds_total",
      "counter",
      "Total user and system CPU time spent in seconds.",
      [{ value: figures.cpuSeconds }],
    );
  }
  gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    figures.startTimeSeconds,
  );
  gauge("process_open_fds", "Number of open file descriptors.", figures.openFds);
  gauge("process_max_fds", "Maximum number of open file descriptors.", figures.maxFds);
  return text;
}

/** What a binary was built from, for {@linkcode writeBuildInfo}. */
export interface BuildLabels {
  /** Version of NMS (deno.json `version`). */
  readonly version: string;
  /** Short commit hash of the build, or `dev` when run from source. */
  readonly commit: string;
}

/**
 * Adds `nms_build_info{version,commit,deno} 1`: the build a process runs, as
 * the `*_build_info` convention of Prometheus exporters has it.
 *
 * @param text The exposition being written.
 * @param build Version and commit of the binary.
 * @returns The same exposition.
 * @example
 * ```ts
 * writeBuildInfo(new PrometheusText(), { version: "0.1.0", commit: "1a2b3c4" });
 * // nms_build_info{version="0.1.0",commit="1a2b3c4",deno="2.9.6"} 1
 * ```
 */
export function writeBuildInfo(text: PrometheusText, build: BuildLabels): PrometheusText {
  return text.metric(
    "nms_build_info",
    "gauge",
    "Always 1; its labels name the version, commit and Deno runtime of this binary.",
    [{
      labels: { version: build.version, commit: build.commit, deno: Deno.version.deno },
      value: 1,
    }],
  );
}
