/**
 * The Prometheus text exposition format (version 0.0.4), written once for the
 * server's and the agent's `/metrics`: `# HELP` and `# TYPE` lines, then one
 * `name{label="value"} number` line per sample. Label values escape
 * backslash, double quote and line feed, and help text backslash and line
 * feed, as the format specifies; a label value may come from a file path or a
 * client, so it can never end its quotes or its line.
 *
 * @module
 */

/** Content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Kinds of metric the format declares in `# TYPE`. */
export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

/** Label names and values of one sample, written in this order. */
export type MetricLabels = Readonly<Record<string, string>>;

/** One sample of a metric. */
export interface MetricSample {
  /**
   * Its labels.
   * @default {{}}
   */
  readonly labels?: MetricLabels;
  /** Its value. */
  readonly value: number;
}

/** One labelled series of a histogram. */
export interface HistogramSeries {
  /** Labels of the series (`le` is added to each bucket). */
  readonly labels: MetricLabels;
  /** Observations at or below each bound, in the order of the bounds (cumulative). */
  readonly counts: readonly number[];
  /** Sum of the observations. */
  readonly sum: number;
  /** Number of observations (the `+Inf` bucket). */
  readonly count: number;
}

/**
 * Escapes a label value: backslash, double quote and line feed.
 *
 * @param value The raw value.
 * @returns The text to put between the quotes.
 * @example
 * ```ts
 * escapeLabelValue('C:\\logs\\"a"\n'); // C:\\\\logs\\\\\\"a\\"\\n
 * ```
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (char) => char === "\n" ? "\\n" : `\\${char}`);
}

/**
 * Escapes help text: backslash and line feed.
 *
 * @param text The raw text.
 * @returns The text for a `# HELP` line.
 */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (char) => char === "\n" ? "\\n" : "\\\\");
}

/** What a metric name may be (the format's `[a-zA-Z_:][a-zA-Z0-9_:]*`). */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** What a label name may be; names starting with `__` are reserved by Prometheus. */
const LABEL_NAME = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Writes a sample value or a bucket bound as the format spells numbers:
 * `+Inf`, `-Inf` and `NaN` for the special values.
 *
 * @param value The number.
 * @returns Its text.
 * @example
 * ```ts
 * formatValue(Infinity); // "+Inf"
 * formatValue(0.25); // "0.25"
 * ```
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function formatLabels(labels: MetricLabels | undefined): string {
  if (labels === undefined) return "";
  const pairs = Object.entries(labels).map(([name, value]) => {
    if (!LABEL_NAME.test(name)) throw new TypeError(`Invalid metric label name ${name}`);
    return `${name}="${escapeLabelValue(value)}"`;
  });
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/**
 * Checks a metric's name against the format and the naming conventions that
 * `promtool check metrics` enforces: a counter ends with `_total`, nothing
 * else does, and a name is used once per exposition.
 */
function checkName(name: string, type: MetricType, seen: Set<string>): void {
  if (!METRIC_NAME.test(name)) throw new TypeError(`Invalid metric name ${name}`);
  if ((type === "counter") !== name.endsWith("_total")) {
    throw new TypeError(
      type === "counter"
        ? `Invalid counter name ${name}: a counter's name ends with _total`
        : `Invalid ${type} name ${name}: only a counter's name ends with _total`,
    );
  }
  if (seen.has(name)) throw new TypeError(`Metric ${name} is written twice`);
  seen.add(name);
}

/**
 * Builds one exposition, metric by metric.
 *
 * @example
 * ```ts
 * const text = new PrometheusText()
 *   .metric("nms_connections", "gauge", "Open agent connections.", [{ value: 3 }])
 *   .metric("nms_agents", "gauge", "Nodes by status.", [{ labels: { status: "alive" }, value: 2 }])
 *   .toString();
 * ```
 */
export class PrometheusText {
  readonly #lines: string[] = [];
  readonly #names = new Set<string>();

  /**
   * Adds a metric: its help and type, then its samples.
   *
   * @param name Metric name, e.g. `nms_events_received_total`.
   * @param type Its kind.
   * @param help What it counts.
   * @param samples Its samples (none: only the help and type lines).
   * @returns This builder.
   * @throws {TypeError} When the name breaks the format or its conventions (a
   *   counter's name ends with `_total` and no other does), or was used before.
   */
  metric(name: string, type: MetricType, help: string, samples: readonly MetricSample[]): this {
    checkName(name, type, this.#names);
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const sample of samples) {
      this.#lines.push(`${name}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
    return this;
  }

  /**
   * Adds a histogram: per series, a `_bucket` line per bound and `+Inf`, then
   * `_sum` and `_count`.
   *
   * @param name Metric name without suffix, e.g. `nms_http_request_duration_seconds`.
   * @param help What it measures.
   * @param bounds Upper bounds of the buckets, ascending.
   * @param series The labelled series.
   * @returns This builder.
   * @throws {TypeError} When the name breaks the format or was used before.
   */
  histogram(
    name: string,
    help: string,
    bounds: readonly number[],
    series: Iterable<HistogramSeries>,
  ): this {
    checkName(name, "histogram", this.#names);
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} histogram`);
    for (const { labels, counts, sum, count } of series) {
      bounds.forEach((bound, i) => {
        const le = formatLabels({ ...labels, le: formatValue(bound) });
        this.#lines.push(`${name}_bucket${le} ${counts[i] ?? 0}`);
      });
      this.#lines.push(
        `${name}_bucket${formatLabels({ ...labels, le: "+Inf" })} ${count}`,
        `${name}_sum${formatLabels(labels)} ${formatValue(sum)}`,
        `${name}_count${formatLabels(labels)} ${count}`,
      );
    }
    return this;
  }

  /**
   * The exposition so far.
   *
   * @returns Its lines, each ending with a newline; empty when no metric was added.
   */
  toString(): string {
    return this.#lines.length === 0 ? "" : this.#lines.join("\n") + "\n";
  }
}
