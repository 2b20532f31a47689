/**
 * Where a process's CPU goes, thread by thread, read from
 * `/proc/<pid>/task/<tid>/stat` (Linux): the fleet benchmark prints it beside
 * the process's total, so a figure over its target shows whose it is. Deno
 * names each Worker's thread `worker-N` in the order the Workers start, and
 * V8's garbage collector helpers `V8 DefaultWorker`.
 *
 * @module
 */

/** Clock ticks per second of `/proc` times: 100 on every Linux we run on (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Share of a core under which a group of threads is not printed. */
const MIN_SHOWN_SHARE = 0.001;

/** One thread's CPU time so far. */
export interface ThreadCpu {
  readonly tid: number;
  /** The thread's name (`comm`), at most 15 characters. */
  readonly name: string;
  readonly userSeconds: number;
  readonly systemSeconds: number;
}

/** A group of threads' share of one core over a window. */
export interface ThreadShare {
  /** `main`, a Worker's thread name, `V8 helpers`, or `other`. */
  readonly label: string;
  /** User and system time over the window, as a fraction of one core. */
  readonly user: number;
  readonly system: number;
}

/**
 * The user and system CPU time in a `/proc` `stat` line, of a process or of
 * one of its threads (the format is the same).
 *
 * @param stat The file's text.
 * @returns The thread's or process's name and its times, in seconds.
 */
export function parseStat(stat: string): Omit<ThreadCpu, "tid"> {
  // The name is in parentheses and may hold spaces or parentheses itself.
  const nameEnd = stat.lastIndexOf(")");
  const fields = stat.slice(nameEnd + 2).split(" ");
  return {
    name: stat.slice(stat.indexOf("(") + 1, nameEnd),
    userSeconds: Number(fields[11]) / CLOCK_TICKS_PER_SECOND,
    systemSeconds: Number(fields[12]) / CLOCK_TICKS_PER_SECOND,
  };
}

/**
 * Reads the CPU time of every thread of a process. Threads that end while
 * they are read are left out.
 *
 * @param pid The process.
 * @returns One entry per thread.
 */
export async function readThreadCpu(pid: number): Promise<ThreadCpu[]> {
  const threads: ThreadCpu[] = [];
  for await (const entry of Deno.readDir(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = await Deno.readTextFile(`/proc/${pid}/task/${entry.name}/stat`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    threads.push({ tid: Number(entry.name), ...parseStat(stat) });
  }
  return threads;
}

function labelOf(thread: ThreadCpu, pid: number): string {
  if (thread.tid === pid) return "main";
  if (/^worker-\d+$/.test(thread.name)) return thread.name;
  if (thread.name.startsWith("V8 ")) return "V8 helpers";
  return "other";
}

/**
 * The CPU each group of threads used between two readings: the main thread,
 * each Worker, V8's helpers together, and every other thread together. A
 * thread that started in between counts from zero; one that ended is missing
 * from `after`, and its time is lost.
 *
 * @param before A reading at the window's start.
 * @param after A reading at its end.
 * @param pid The process (its main thread has the same id).
 * @param seconds Length of the window.
 * @returns The groups, busiest first.
 */
export function threadShares(
  before: readonly ThreadCpu[],
  after: readonly ThreadCpu[],
  pid: number,
  seconds: number,
): ThreadShare[] {
  const start = new Map(before.map((thread) => [thread.tid, thread]));
  const groups = new Map<string, { user: number; system: number }>();
  for (const thread of after) {
    const label = labelOf(thread, pid);
    const group = groups.get(label) ?? { user: 0, system: 0 };
    group.user += thread.userSeconds - (start.get(thread.tid)?.userSeconds ?? 0);
    group.system += thread.systemSeconds - (start.get(thread.tid)?.systemSeconds ?? 0);
    groups.set(label, group);
  }
  return [...groups].map(([label, { user, system }]) => ({
    label,
    user: user / seconds,
    system: system / seconds,
  })).sort((a, b) => b.user + b.system - (a.user + a.system));
}

/**
 * One line of shares, e.g. `main 26.2% (9.4% system), worker-1 8.8% (1.8% system)`;
 * groups other than the main thread are left out under 0.1% of a core.
 *
 * @param shares From {@linkcode threadShares}.
 * @returns The line.
 */
export function formatThreadShares(shares: readonly ThreadShare[]): string {
  const percent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;
  return shares
    .filter((share) => share.label === "main" || share.user + share.system >= MIN_SHOWN_SHARE)
    .map((share) =>
      `${share.label} ${percent(share.user + share.system)} (${percent(share.system)} system)`
    )
    .join(", ");
}
