/**
 * Progress of long work (a backup, an import, the full-text index catching
 * up), shown as operators expect from `rsync` or `pg_dump --verbose`: on a
 * terminal, one line redrawn in place with what is done, the rate and the
 * time left; in a log, a line now and then; in a file or a pipe, only one
 * line at the end with the size and the time it took.
 *
 * @module
 */

/** How progress is shown. */
export type ProgressMode =
  /** A terminal: one line redrawn in place (`\r`, erase line), ended with a newline. */
  | "redraw"
  /** A log read by a person: a progress line every interval, then the summary. */
  | "lines"
  /** Not a terminal: only the summary when the work is done. */
  | "summary";

/** Options of {@linkcode Progress}. */
export interface ProgressOptions {
  /** What is being done, e.g. `Backing up data/nms.db`. */
  readonly label: string;
  /**
   * What is counted: `bytes` (shown as kB, MB, GB) or the plural noun of
   * items, e.g. `users` or `events`.
   */
  readonly unit: string;
  /** How much there is in all, when known: adds the percentage and the time left. */
  readonly total?: number | undefined;
  /** How to show it; choose with {@linkcode progressMode}. */
  readonly mode: ProgressMode;
  /**
   * Receives the output: in `redraw` mode raw text (with `\r` and the final
   * newline), otherwise one line at a time without its newline.
   */
  readonly write: (text: string) => void;
  /**
   * Least time between two progress lines, in ms.
   * @default {PROGRESS_REDRAW_MS in redraw mode, PROGRESS_LINE_MS in lines mode}
   */
  readonly intervalMs?: number;
  /**
   * The clock, in ms.
   * @default {performance.now}
   */
  readonly now?: () => number;
}

/** Least time between two redraws of a terminal line, in ms: faster is only flicker. */
export const PROGRESS_REDRAW_MS = 200;

/** Least time between two progress lines in a log, in ms: more would flood it. */
export const PROGRESS_LINE_MS = 5_000;

/** Erases the terminal line the cursor is on and returns to its start. */
const ERASE_LINE = "\r\x1b[K";

/**
 * The mode for a stream.
 *
 * @param isTerminal Whether the output is a terminal (`Deno.stderr.isTerminal()`).
 * @param log Whether the output is a log with other lines in it, where a
 *   redrawn line would be overwritten: progress lines instead.
 * @returns `redraw` or `lines` on a terminal, `summary` otherwise.
 * @example
 * ```ts
 * progressMode(Deno.stderr.isTerminal()); // "redraw" in a shell, "summary" under systemd
 * ```
 */
export function progressMode(isTerminal: boolean, log = false): ProgressMode {
  if (!isTerminal) return "summary";
  return log ? "lines" : "redraw";
}

/**
 * Formats an amount of the unit: bytes with a decimal unit, items with their noun.
 *
 * @param amount How much.
 * @param unit `bytes` or a plural noun.
 * @returns E.g. `1.5 GB` or `1,200 events`.
 * @example
 * ```ts
 * formatAmount(1_500_000_000, "bytes"); // "1.5 GB"
 * formatAmount(1200, "events"); // "1,200 events"
 * ```
 */
export function formatAmount(amount: number, unit: string): string {
  if (unit !== "bytes") return `${Math.round(amount).toLocaleString("en-US")} ${unit}`;
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = amount;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Math.round(value * 10) / 10} ${units[i]}`;
}

/**
 * Formats a duration for people.
 *
 * @param seconds The duration.
 * @returns E.g. `0.4 s`, `42 s`, `3 min 5 s`, `2 h 10 min`.
 * @example
 * ```ts
 * formatDuration(185); // "3 min 5 s"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/**
 * Progress of one piece of work.
 *
 * @example
 * ```ts
 * const progress = new Progress({
 *   label: "Backing up nms.db",
 *   unit: "bytes",
 *   total: 2_000_000_000,
 *   mode: progressMode(Deno.stderr.isTerminal()),
 *   write: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
 * });
 * progress.update(500_000_000); // "Backing up nms.db: 25% (500 MB of 2 GB), 250 MB/s, 6 s left"
 * progress.finish(2_000_000_000); // "Backing up nms.db: 2 GB in 8.1 s"
 * ```
 */
export class Progress {
  readonly #options: ProgressOptions;
  readonly #now: () => number;
  readonly #interval: number;
  readonly #started: number;
  #shownAt = -Infinity;
  #done = 0;
  #drawn = false;
  #finished = false;

  /**
   * Starts the clock of a piece of work; in a log, says at once that it began.
   *
   * @param options What is done, how much, and where progress goes.
   */
  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#interval = options.intervalMs ??
      (options.mode === "lines" ? PROGRESS_LINE_MS : PROGRESS_REDRAW_MS);
    this.#started = this.#now();
    // A log line right away: long work that seems stuck is explained at once.
    if (options.mode === "lines") this.#show(0);
  }

  /** Seconds since the work started. */
  get elapsedSeconds(): number {
    return (this.#now() - this.#started) / 1000;
  }

  /**
   * Notes how much is done; shows it when the interval has passed.
   *
   * @param done How much is done so far (not an increment).
   */
  update(done: number): void {
    if (this.#finished) return;
    this.#done = done;
    if (this.#options.mode === "summary") return;
    if (this.#now() - this.#shownAt < this.#interval) return;
    this.#show(done);
  }

  /**
   * The line describing the work so far.
   *
   * @returns E.g. `Label: 25% (500 MB of 2 GB), 250 MB/s, 6 s left`.
   */
  describe(): string {
    const { label, unit, total } = this.#options;
    const done = this.#done;
    const seconds = this.elapsedSeconds;
    const rate = seconds > 0 ? done / seconds : 0;
    const rateText = unit === "bytes"
      ? `${formatAmount(rate, "bytes")}/s`
      : `${formatAmount(rate, unit)}/s`;
    if (total === undefined || total <= 0) {
      return `${label}: ${formatAmount(done, unit)}, ${rateText}`;
    }
    const percent = Math.min(100, Math.floor((done / total) * 100));
    const amounts = unit === "bytes"
      ? `${formatAmount(done, unit)} of ${formatAmount(total, unit)}`
      : `${Math.round(done).toLocaleString("en-US")} of ${formatAmount(total, unit)}`;
    const left = rate > 0 && done < total ? `, ${formatDuration((total - done) / rate)} left` : "";
    return `${label}: ${percent}% (${amounts}), ${rateText}${left}`;
  }

  /**
   * Ends the work and shows the summary: how much and how long.
   *
   * @param done How much was done in all.
   * @returns The summary line, e.g. `Backing up nms.db: 2 GB in 8.1 s`.
   */
  finish(done: number = this.#done): string {
    this.#done = done;
    const summary = `${this.#options.label}: ${formatAmount(done, this.#options.unit)} in ${
      formatDuration(this.elapsedSeconds)
    }`;
    if (!this.#finished) {
      this.#finished = true;
      if (this.#options.mode === "redraw") this.#options.write(`${ERASE_LINE}${summary}\n`);
      else this.#options.write(summary);
    }
    return summary;
  }

  /** Ends the work without a summary (it failed): a redrawn line is erased. Idempotent. */
  abandon(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#options.mode === "redraw" && this.#drawn) this.#options.write(ERASE_LINE);
  }

  #show(done: number): void {
    this.#done = done;
    this.#shownAt = this.#now();
    const line = this.describe();
    if (this.#options.mode === "redraw") {
      this.#drawn = true;
      this.#options.write(`${ERASE_LINE}${line}`);
    } else {
      this.#options.write(line);
    }
  }
}

/**
 * Starts the progress of a piece of work, with the mode and output chosen by
 * whoever runs it (the CLI for its terminal, the server for its log).
 *
 * @param label What is being done.
 * @param unit `bytes` or the plural noun of what is counted.
 * @param total How much there is in all, when known.
 * @returns The progress to update and finish.
 */
export type StartProgress = (label: string, unit: string, total?: number) => Progress;
