/**
 * The read-only commands of nms-server: `agents`, `sources`, `alerts` and
 * `logs` (with `--follow`). Each opens its own connection to the store and
 * prints a table, JSON, or one line per event through `formatEvent()`, which
 * escapes control characters so log text cannot drive the terminal.
 *
 * @module
 */

import { type Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import {
  DEFAULT_HEARTBEAT_SECONDS,
  GAP_EVENT_PREFIX,
  SEVERITY_KEYWORDS,
  severityByName,
} from "../../protocol/mod.ts";
import { statusCutoffs } from "../liveness/mod.ts";
import { decimalArg, integerArg } from "../config.ts";
import {
  AGENT_CURSOR_PATTERN,
  AGENT_SORTS,
  AGENT_STATUSES,
  type AgentRow,
  EVENT_FLAGS,
  type EventRecord,
  MAX_AGENT_CURSOR_CHARS,
  MAX_AGENT_FILTER_CHARS,
  MAX_AGENT_OFFSET,
  MAX_AGENT_PAGE,
  StoreError,
} from "../store/mod.ts";
import { DEFAULT_SOURCE_SILENT_AFTER_SECONDS, sourceStatus } from "../syslog/mod.ts";
import { alertsTable } from "./alerts_table.ts";
import {
  type CliContext,
  dbOption,
  storeOf,
  storeOption,
  UsageError,
  withStore,
} from "./context.ts";
import { formatEvent, parseSince, table } from "./format.ts";

/** Poll interval of `logs --follow`, in ms. */
const FOLLOW_POLL_MS = 250;

/** Events `logs --follow` reads per poll; a full read polls again at once. */
const FOLLOW_READ_LIMIT = 1000;

/** The value of `--since` or `--until`, or a usage error naming what it takes. */
function since(value: string | undefined, flag = "--since"): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseSince(value, Date.now());
  if (ms === undefined) {
    throw new UsageError(
      `Invalid ${flag} ${JSON.stringify(value)}: use 30s, 15m, 2h, 7d or an ISO date`,
    );
  }
  return ms;
}

/** The text of a node filter: at most the store's length, matched literally. */
function filterArg(value: string): string {
  if (value.length > MAX_AGENT_FILTER_CHARS) {
    throw new InvalidArgumentError(`expected at most ${MAX_AGENT_FILTER_CHARS} characters`);
  }
  return value;
}

/** The value of `--after`: a cursor's size and alphabet (the store checks what it names). */
function cursorArg(value: string): string {
  if (value.length > MAX_AGENT_CURSOR_CHARS || !AGENT_CURSOR_PATTERN.test(value)) {
    throw new InvalidArgumentError("expected the next-page cursor a previous page printed");
  }
  return value;
}

/** The value of `--severity`: that severity or worse, by name or number, as the API takes it. */
function severityArg(value: string): number {
  const text = value.trim().toLowerCase();
  const n = /^[0-7]$/.test(text) ? Number(text) : severityByName(text);
  if (n === undefined) {
    throw new InvalidArgumentError(`expected 0-7 or one of ${SEVERITY_KEYWORDS.join(", ")}`);
  }
  return n;
}

/** How `logs` prints events: one line each for people, or one JSON object each (NDJSON). */
const LOG_OUTPUTS = ["text", "ndjson"] as const;

/**
 * Adds `agents`, `sources`, `alerts` and `logs` to the program.
 *
 * @param program The nms-server program.
 * @param context Output.
 * @example
 * ```ts
 * addQueryCommands(program, context);
 * ```
 */
export function addQueryCommands(program: Command, context: CliContext): void {
  const { out, writeErr } = context;
  program.command("agents")
    .description("List registered nodes and their status, filtered and paged by the store")
    .addOption(dbOption())
    .addOption(storeOption())
    .addOption(
      new Option("--heartbeat <seconds>", "heartbeat interval the agents use").env("NMS_HEARTBEAT")
        .argParser(decimalArg(1, 86400)).default(DEFAULT_HEARTBEAT_SECONDS),
    )
    .addOption(
      new Option("--status <status>", "only nodes with this status").choices(AGENT_STATUSES),
    )
    .addOption(
      new Option("--name <text>", "only hostnames containing this text").argParser(filterArg),
    )
    .addOption(new Option("--os <text>", "only OS names containing this text").argParser(filterArg))
    .addOption(
      new Option("--agent-version <text>", "only agent versions containing this text")
        .argParser(filterArg),
    )
    .addOption(
      new Option("--address <text>", "only addresses (ip:port) containing this text")
        .argParser(filterArg),
    )
    .option("--prefix", "match the texts at the start of the values (an index range), not anywhere")
    .addOption(new Option("--sort <order>", "order of the list").choices(AGENT_SORTS))
    .option("--desc", "reverse the order")
    .addOption(
      new Option("--limit <n>", `print at most n nodes (at most ${MAX_AGENT_PAGE}; default: all)`)
        .argParser(integerArg(1, MAX_AGENT_PAGE)),
    )
    .addOption(
      new Option("--offset <n>", "skip the first n matching nodes").argParser(
        integerArg(0, MAX_AGENT_OFFSET),
      )
        .conflicts("after"),
    )
    .addOption(
      new Option("--after <cursor>", "start after the node of this cursor (printed after a page)")
        .argParser(cursorArg),
    )
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      await withStore(storeOf(options), async (store) => {
        const query = {
          cutoffs: statusCutoffs(Date.now(), options.heartbeat),
          ...(options.status ? { status: options.status } : {}),
          ...(options.name ? { name: options.name } : {}),
          ...(options.os ? { os: options.os } : {}),
          ...(options.agentVersion ? { version: options.agentVersion } : {}),
          ...(options.address ? { address: options.address } : {}),
          ...(options.sort ? { sort: options.sort } : {}),
          ...(options.prefix ? { match: "prefix" as const } : {}),
          descending: options.desc === true,
        };
        // One page when asked for one; else every match, a page at a time by cursor.
        const agents: AgentRow[] = [];
        let start: { offset?: number; after?: string } = options.after !== undefined
          ? { after: options.after }
          : { offset: options.offset ?? 0 };
        let next: string | null = null;
        for (;;) {
          const limit = options.limit ?? MAX_AGENT_PAGE;
          let page;
          try {
            page = await store.queryAgents({ ...query, ...start, limit });
          } catch (error) {
            if (error instanceof StoreError && error.code === "invalid") {
              throw new UsageError(`--after: ${error.message}`);
            }
            throw error;
          }
          agents.push(...page.agents);
          next = page.next;
          if (options.limit !== undefined || next === null) break;
          start = { after: next };
        }
        // The next page's cursor goes to stderr, so stdout stays the list.
        if (options.limit !== undefined && next !== null) writeErr(`next page: --after ${next}\n`);
        if (options.json) return out(JSON.stringify(agents, null, 2));
        const time = (t: number | null) => (t === null ? "-" : new Date(t).toISOString());
        out(table(
          ["HOSTNAME", "STATUS", "LAST HEARTBEAT", "UPTIME", "VERSION", "ADDRESS", "OS"],
          agents.map((a) => [
            a.hostname,
            a.status,
            time(a.lastHeartbeat),
            a.uptimeSeconds === null ? "-" : `${a.uptimeSeconds}s`,
            a.version,
            a.address,
            a.os,
          ]),
        ));
      });
    });

  program.command("sources")
    .description("List syslog senders (devices and relays) and their status")
    .addOption(dbOption())
    .addOption(storeOption())
    .addOption(
      new Option("--silent-after <seconds>", "seconds without a message before a source is silent")
        .argParser(integerArg(1, 366 * 86400)).default(DEFAULT_SOURCE_SILENT_AFTER_SECONDS),
    )
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      await withStore(storeOf(options), async (store) => {
        const now = Date.now();
        const sources = (await store.listSources()).map((s) => ({
          ...s,
          status: sourceStatus(s, now, options.silentAfter),
        }));
        if (options.json) return out(JSON.stringify(sources, null, 2));
        const time = (t: number) => new Date(t).toISOString();
        out(table(
          ["ADDRESS", "HOSTNAME", "STATUS", "LAST MESSAGE", "EVENTS", "UNPARSED", "VIA", "SINCE"],
          sources.map((s) => [
            s.address,
            s.hostname ?? "-",
            s.status,
            time(s.lastSeen),
            String(s.events),
            String(s.unparsed),
            s.transport,
            time(s.firstSeen),
          ]),
        ));
      });
    });

  program.command("alerts")
    .description("List alerts raised by the detection rules, most recently updated first")
    .addOption(dbOption())
    .addOption(storeOption())
    .option(
      "--since <when>",
      "only alerts raised or updated since: 30s, 15m, 2h, 7d or an ISO date",
    )
    .addOption(
      new Option("--level <n>", "only alerts of at least this level (0-15)").argParser(
        integerArg(0, 15),
      ),
    )
    .addOption(
      new Option("-n, --limit <n>", "most alerts printed").argParser(integerArg(1, 1000)).default(
        50,
      ),
    )
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      const sinceMs = since(options.since);
      await withStore(storeOf(options), async (store) => {
        const alerts = await store.listAlerts({
          limit: options.limit,
          ...(sinceMs === undefined ? {} : { sinceMs }),
          ...(options.level === undefined ? {} : { minLevel: options.level }),
        });
        out(options.json ? JSON.stringify(alerts, null, 2) : alertsTable(alerts));
      });
    });

  program.command("logs")
    .description("Print stored logs, newest last")
    .addOption(dbOption())
    .addOption(storeOption())
    .option("--host <host>", "only this host")
    .option("--program <name>", "only this program")
    .option("--grep <text>", "only messages containing this text (literally)")
    .option("--since <when>", "only events from this time: 30s, 15m, 2h, 7d or an ISO date")
    .option("--until <when>", "only events before this time: 30s, 15m, 2h, 7d or an ISO date")
    .addOption(
      new Option(
        "--severity <level>",
        `only events this severe or worse: 0-7 or ${SEVERITY_KEYWORDS.join(", ")}`,
      ).argParser(severityArg),
    )
    .addOption(
      new Option("-n, --limit <n>", "most events printed").argParser(integerArg(1, 10_000))
        .default(50),
    )
    .option("-f, --follow", "keep printing new events until interrupted")
    .option("--gaps", "only gap events: lines agents could not deliver (docs/DELIVERY.md)")
    .addOption(
      new Option("-o, --output <format>", "text: one line per event; ndjson: one JSON object each")
        .choices(LOG_OUTPUTS).default("text" as const),
    )
    .addOption(new Option("--json", "the same as --output ndjson").implies({ output: "ndjson" }))
    .action(async (options) => {
      const sinceMs = since(options.since);
      const untilMs = since(options.until, "--until");
      if (untilMs !== undefined && options.follow) {
        throw new UsageError("--until and --follow do not go together");
      }
      const print = options.output === "ndjson"
        ? (e: EventRecord) => out(JSON.stringify(e))
        : (e: EventRecord) => out(formatEvent(e));
      const filter = {
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(options.program === undefined ? {} : { program: options.program }),
        ...(options.grep === undefined ? {} : { contains: options.grep }),
        ...(sinceMs === undefined ? {} : { sinceMs }),
        ...(untilMs === undefined ? {} : { untilMs }),
        ...(options.severity === undefined ? {} : { maxSeverity: options.severity }),
        // --gaps: gap events carry this text; the flag check below drops look-alikes.
        ...(options.gaps && options.grep === undefined ? { contains: GAP_EVENT_PREFIX } : {}),
      };
      // --gaps also keeps only events flagged as gaps.
      const shown = (e: EventRecord) => !options.gaps || (e.flags & EVENT_FLAGS.gap) !== 0;
      await withStore(storeOf(options), async (store) => {
        const events = (await store.queryEvents({ ...filter, limit: options.limit })).filter(shown);
        events.reverse().forEach(print);
        if (!options.follow) return;
        let last = events.at(-1)?.id ?? (await store.queryEvents({ limit: 1 }))[0]?.id ?? 0;
        let running = true;
        const stop = () => running = false;
        Deno.addSignalListener("SIGINT", stop);
        Deno.addSignalListener("SIGTERM", stop);
        while (running) {
          const fresh = await store.queryEvents({
            ...filter,
            afterId: last,
            limit: FOLLOW_READ_LIMIT,
          });
          for (const e of fresh) if (shown(e)) print(e);
          last = fresh.at(-1)?.id ?? last;
          if (fresh.length < FOLLOW_READ_LIMIT) {
            await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
          }
        }
      });
    });
}
