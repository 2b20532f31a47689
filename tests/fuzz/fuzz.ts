/**
 * The hostile-input fuzz: tens of thousands of random, mutated and oversized
 * protocol lines, binary garbage, half-open connections and abrupt resets
 * against a running server, together with a pre-login flood (refused LOGINs
 * with 60 KB user names and idle sockets from many loopback addresses), while
 * a legitimate agent keeps sending. Afterwards the server must be up, every
 * legitimate event stored exactly once, nothing else stored as a client
 * event, and the server's RSS, the security events it stored and its log
 * lines below stated bounds.
 *
 * The server runs user rules whose regexes backtrack catastrophically on a
 * backtracking engine ({@linkcode HOSTILE_REGEX_RULES}), and every tenth
 * legitimate event is a line built to trigger them: the legitimate agent must
 * still get every ACK, so no regex may stall ingest.
 *
 * `deno task fuzz` runs it against a real `nms-server serve` subprocess (RSS
 * read from /proc); `fuzz_test.ts` runs a short form in-process in
 * `deno task test`. Flags of the task: `--lines N` (default 50,000),
 * `--seed N`, `--max-rss-mib N` (default 512).
 *
 * @module
 */

import { join } from "node:path";
import { formatAck, LineSplitter, OK, WELCOME_LINE } from "../../protocol/mod.ts";
import { hashPassword } from "../../server/auth/password.ts";
import { generateToken } from "../../server/auth/tokens.ts";
import { EVENT_FLAGS, openSqliteStore, type Store } from "../../server/mod.ts";
import { SourceClient } from "../_harness/source_client.ts";
import { prng } from "../_harness/prng.ts";
import { writeAll } from "../_harness/write_all.ts";

const encoder = new TextEncoder();

/** Bound of the server's resident memory during the fuzz, in MiB (measured: about 195). */
export const MAX_SERVER_RSS_MIB = 512;
/**
 * Bound of the text of the security events (failed and refused logins, their
 * summaries) stored during the fuzz, in bytes: what the attack, most of it
 * unauthenticated, may add to the database (about 180 KB a minute at most).
 */
export const MAX_SECURITY_EVENT_BYTES = 512 * 1024;
/** Bound of the server's log lines during the fuzz: throttled, one per kind and minute. */
export const MAX_LOG_LINES = 80;

/** `serve` flags of the server under test: a short line timeout ends half-open connections fast. */
export const FUZZ_SERVER_ARGS = ["--workers", "2", "--line-timeout", "2", "--http-port", "0"];

/**
 * Rules whose regexes take exponential time on a backtracking engine; the
 * fuzz's server loads them with `--rules` (linear_regex.ts must bound them).
 */
export const HOSTILE_REGEX_RULES = ["(a|a)+$", "(a+)+$", "(x+x+)+y", "^(\\w+\\s?)+$"]
  .map((regex, i) =>
    `- id: ${
      100_900 + i
    }\n  level: 3\n  description: "fuzz: hostile regex ${i}"\n  match: { regex: '${regex}' }\n`
  ).join("");

/**
 * Writes {@linkcode HOSTILE_REGEX_RULES} into `dir`.
 *
 * @param dir A directory of the run.
 * @returns The `serve` flags that load it.
 */
export async function hostileRulesArgs(dir: string): Promise<string[]> {
  const file = join(dir, "hostile-rules.yaml");
  await Deno.writeTextFile(file, HOSTILE_REGEX_RULES);
  return ["--rules", file];
}

/** A line built to trigger {@linkcode HOSTILE_REGEX_RULES}: 30 to 8,000 a's or x's and a b. */
function hostileRegexText(position: number): string {
  const length = 30 + (position * 7919) % 8000;
  return (position % 20 === 0 ? "x" : "a").repeat(length) + "!b";
}

/** The legitimate agent's stream id: the only stream the server may store. */
export const LEGIT_STREAM = "fuzzlegit0000000000001";
/** The legitimate agent's hostname. */
export const LEGIT_HOST = "fuzz-legit";
/** A viewer account the fuzzer knows: it may log in but never store anything. */
export const FUZZ_VIEWER = { username: "fuzzviewer", password: "fuzz viewer password" };

/** Options of {@linkcode runFuzz}. */
export interface FuzzOptions {
  /** Agent port of the server under test (127.0.0.1). */
  readonly port: number;
  /** The server's store, to prepare credentials and check the result. */
  readonly store: Store;
  /** Hostile lines to send in total (about). */
  readonly lines: number;
  /** Concurrent hostile connections. */
  readonly attackers: number;
  /** Events the legitimate agent sends meanwhile. */
  readonly legitEvents: number;
  /** PRNG seed, for reproducible runs. */
  readonly seed: number;
  /** The server's resident memory now, in bytes. */
  readonly rss: () => Promise<number> | number;
  /** The pre-login flood sent meanwhile; none when absent. */
  readonly loginFlood?: LoginFloodOptions;
  /** Lines the server has logged so far; not checked when absent. */
  readonly logLines?: () => number;
  /** The server's database file, whose growth (with its `-wal`) is measured; none when absent. */
  readonly dbPath?: string;
  /** CPU seconds the server has used so far; not measured when absent. */
  readonly cpuSeconds?: () => Promise<number>;
  /**
   * Give up after this long, in ms.
   * @default {120000}
   */
  readonly timeoutMs?: number;
}

/** The pre-login flood of a fuzz run. */
export interface LoginFloodOptions {
  /** Refused LOGINs, each with a 60 KB user name, answered in total. */
  readonly logins: number;
  /** Distinct source addresses, 127.0.8.1 and up. */
  readonly addresses: number;
  /** Sockets that connect and never log in, held open during the attack. */
  readonly idleSockets: number;
}

/** What a fuzz run saw. */
export interface FuzzReport {
  readonly hostileLines: number;
  readonly hostileBytes: number;
  readonly connections: number;
  readonly legitAcked: number;
  readonly legitStored: number;
  /** Client events stored that the legitimate agent did not send (must be 0). */
  readonly foreignStored: number;
  /** Registered agents other than the legitimate one (must be 0). */
  readonly foreignAgents: number;
  readonly serverUp: boolean;
  readonly maxRssBytes: number;
  /** Refused LOGINs of the pre-login flood that were answered. */
  readonly floodLogins: number;
  /** Lines the server logged during the run, or null when not measured. */
  readonly logLines: number | null;
  /** Growth of the database and its write-ahead log, in bytes, or null when not measured. */
  readonly dbGrowthBytes: number | null;
  /** CPU seconds the server used during the run, or null when not measured. */
  readonly cpuSeconds: number | null;
  /** Security events stored during the run. */
  readonly securityEvents: number;
  /** Characters of their lines and messages. */
  readonly securityEventBytes: number;
  readonly elapsedMs: number;
  readonly seed: number;
}

/** Valid-looking lines that mutations start from. */
const CORPUS = [
  "LOGIN admin hunter2",
  "LOGIN admin wrong password",
  `LOGIN ${FUZZ_VIEWER.username} ${FUZZ_VIEWER.password}`,
  "LOGIN @token nms_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  "REGISTER 0.1.0 evil-host Linux",
  "REGISTER 0.1.0 '; DROP TABLE logs; -- Linux",
  "HEARTBEAT 3600 lag=0",
  "HEARTBEAT -1 lag=99999999999999999999",
  "BATCH_EVENT Nov 23 19:43:33 web-01 sshd[812]: Failed password for root from 10.0.0.9",
  'EVENT fuzzstream 1 <14>1 2026-11-23T19:43:33Z host app 1 ID47 [x@1 a="b"] msg',
  "EVENT fuzzstream 9007199254740993 overflowing position",
  "BATCH_EVENT <script>alert(1)</script> %s%n%x ${jndi:ldap://x}",
  "BYE",
  "",
];

/** One hostile payload: bytes to send, and how to treat the connection. */
interface Attack {
  readonly bytes: Uint8Array;
  readonly lines: number;
  /** Log in as the viewer first (authenticated garbage must still not be stored). */
  readonly asViewer: boolean;
  /** Close right after writing, without reading (abrupt reset). */
  readonly abrupt: boolean;
  /** Keep the connection open with an unfinished line until the server closes it. */
  readonly halfOpen: boolean;
}

function mutate(line: string, random: () => number): string {
  const chars = [...line];
  const kind = Math.floor(random() * 8);
  const at = Math.floor(random() * (chars.length + 1));
  switch (kind) {
    case 0: // flip a character
      if (chars.length > 0) {
        chars[at % chars.length] = String.fromCharCode(Math.floor(random() * 0x3000));
      }
      break;
    case 1: // insert control characters
      chars.splice(
        at,
        0,
        ["\0", "\r", "\t", "\x1b[2J", "\u2028", "\uFEFF"][Math.floor(random() * 6)]!,
      );
      break;
    case 2: // truncate
      chars.length = at;
      break;
    case 3: // repeat a part
      chars.splice(at, 0, chars.slice(0, at).join("").repeat(1 + Math.floor(random() * 20)));
      break;
    case 4: // change the verb's case or spacing
      return line.replace(/^\S+/, (verb) => (random() < 0.5 ? verb.toLowerCase() : verb + "  "));
    case 5: // numbers at their limits
      return line.replace(
        /\d+/,
        ["-0", "1e309", "NaN", "99999999999999999999", "0x10"][Math.floor(random() * 5)]!,
      );
    case 6: // injection-looking text
      chars.splice(
        at,
        0,
        ["' OR 1=1 --", '"; DROP TABLE users; --', "%_*", "NEAR(", "\\"][Math.floor(random() * 5)]!,
      );
      break;
    default: // leading space or tab
      return (random() < 0.5 ? " " : "\t") + line;
  }
  return chars.join("");
}

function makeAttack(random: () => number): Attack {
  const kind = random();
  const asViewer = random() < 0.2;
  const abrupt = random() < 0.15;
  if (kind < 0.15) {
    // Binary garbage, newlines and NULs included.
    const size = 1 + Math.floor(random() * 4096);
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = Math.floor(random() * 256);
    let lines = 0;
    for (const byte of bytes) if (byte === 10) lines++;
    return { bytes, lines: lines + 1, asViewer, abrupt, halfOpen: false };
  }
  if (kind < 0.22) {
    // Oversized: beyond MAX_LINE_BYTES, up to 512 KiB.
    const size = 65_537 + Math.floor(random() * 450_000);
    const text = "BATCH_EVENT " + "A".repeat(size) + "\n";
    return { bytes: encoder.encode(text), lines: 1, asViewer, abrupt, halfOpen: false };
  }
  if (kind < 0.25) {
    // Half-open: a line that never ends (slow-loris); the server must close it.
    return {
      bytes: encoder.encode("BATCH_EVENT this line never ends"),
      lines: 1,
      asViewer,
      abrupt: false,
      halfOpen: true,
    };
  }
  // Mutated protocol lines, many per connection, some CRLF.
  const count = 1 + Math.floor(random() * 60);
  let text = "";
  for (let i = 0; i < count; i++) {
    let line = CORPUS[Math.floor(random() * CORPUS.length)]!;
    const rounds = Math.floor(random() * 3);
    for (let r = 0; r < rounds; r++) line = mutate(line, random);
    text += line + (random() < 0.1 ? "\r\n" : "\n");
  }
  return { bytes: encoder.encode(text), lines: count, asViewer, abrupt, halfOpen: false };
}

/** Characters of each user name of the pre-login flood. */
const FLOOD_NAME_CHARS = 60_000;

/** One address's share of the flood: refused LOGINs until `count` were answered. */
async function floodFrom(port: number, address: string, count: number, deadline: number) {
  const padding = "x".repeat(FLOOD_NAME_CHARS);
  let answered = 0;
  while (answered < count && Date.now() < deadline) {
    let client: SourceClient;
    try {
      client = await SourceClient.connect(port, address);
    } catch {
      continue;
    }
    try {
      if (await client.readLine() !== WELCOME_LINE) continue; // refused by a limit
      while (answered < count) {
        if (!await client.send(`LOGIN ${address}-${answered}-${padding} wrong`)) break;
        const answer = await client.readLine();
        if (answer === null) break;
        if (answer.startsWith("ACK FAIL")) answered++;
      }
    } finally {
      client.close();
    }
  }
  return answered;
}

/** The pre-login flood: refused LOGINs from many addresses, and idle sockets held open. */
async function loginFlood(
  port: number,
  flood: LoginFloodOptions,
  deadline: number,
): Promise<{ answered: number; idle: SourceClient[] }> {
  const idle: SourceClient[] = [];
  for (let i = 0; i < flood.idleSockets; i++) {
    try {
      idle.push(await SourceClient.connect(port, `127.0.9.${(i % flood.addresses) + 1}`));
    } catch {
      // refused under load: fine
    }
  }
  const share = Math.ceil(flood.logins / flood.addresses);
  const answered = await Promise.all(
    Array.from(
      { length: flood.addresses },
      (_, i) => floodFrom(port, `127.0.8.${i + 1}`, share, deadline),
    ),
  );
  return { answered: answered.reduce((a, b) => a + b, 0), idle };
}

async function fileBytes(path: string): Promise<number> {
  return (await Deno.stat(path).catch(() => null))?.size ?? 0;
}

/** Reads and discards until EOF or the deadline. */
async function drain(conn: Deno.Conn, deadlineMs: number): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) =>
    timer = setTimeout(() => resolve(null), deadlineMs)
  );
  try {
    for (;;) {
      const n = await Promise.race([conn.read(buffer).catch(() => null), timeout]);
      if (n === null) return;
    }
  } finally {
    clearTimeout(timer);
  }
}

async function attack(port: number, item: Attack): Promise<void> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return; // refused under load: nothing to do
  }
  try {
    if (item.asViewer) {
      await writeAll(
        conn,
        encoder.encode(`LOGIN ${FUZZ_VIEWER.username} ${FUZZ_VIEWER.password}\n`),
      );
    }
    const reading = item.abrupt ? Promise.resolve() : drain(conn, item.halfOpen ? 60_000 : 5_000);
    await writeAll(conn, item.bytes);
    if (!item.abrupt && !item.halfOpen) await conn.closeWrite().catch(() => {});
    await reading;
  } catch {
    // reset by the server (too many bad lines, limits): expected
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * The legitimate agent: a token login and REGISTER (before the attack starts,
 * so that the attackers' failed logins cannot lock its address out first),
 * then, in `run`, paced EVENT lines with read ACKs.
 */
async function legitimateAgent(
  port: number,
  token: string,
): Promise<
  { run(events: number, stop: () => boolean): Promise<{ acked: number; heartbeatOk: boolean }> }
> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const splitter = new LineSplitter();
  const lines: string[] = [];
  const buffer = new Uint8Array(64 * 1024);
  const next = async (): Promise<string> => {
    while (lines.length === 0) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("The legitimate agent's connection was closed");
      splitter.push(buffer.subarray(0, n), {
        line: (text) => lines.push(text),
        overflow: () => lines.push("<overflow>"),
      });
    }
    return lines.shift()!;
  };
  const close = () => {
    try {
      conn.close();
    } catch {
      // closed by BYE
    }
  };
  try {
    if (await next() !== WELCOME_LINE) throw new Error("No welcome line");
    await writeAll(
      conn,
      encoder.encode(`LOGIN @token ${token}\nREGISTER 0.1.0 ${LEGIT_HOST} Linux\n`),
    );
    const loginAck = await next();
    if (loginAck !== formatAck(true, OK.login)) {
      throw new Error(`Legitimate login refused: ${loginAck}`);
    }
    if (await next() !== formatAck(true, OK.register)) {
      throw new Error("Legitimate REGISTER refused");
    }
  } catch (error) {
    close();
    throw error;
  }
  return { run: (events, stop) => sendEvents(events, stop).finally(close) };

  async function sendEvents(
    events: number,
    stop: () => boolean,
  ): Promise<{ acked: number; heartbeatOk: boolean }> {
    let acked = 0;
    const batch = 50;
    for (let sent = 0; sent < events;) {
      const n = Math.min(batch, events - sent);
      let text = "";
      for (let i = 0; i < n; i++) {
        const position = sent + i + 1;
        // Every tenth line is hostile to the fuzz's rule regexes.
        const body = position % 10 === 0 ? hostileRegexText(position) : "";
        text +=
          `EVENT ${LEGIT_STREAM} ${position} Nov 23 19:43:33 ${LEGIT_HOST} app[7]: legit ${position} ${body}\n`;
      }
      await writeAll(conn, encoder.encode(text));
      for (let i = 0; i < n; i++) {
        const ack = await next();
        if (ack !== formatAck(true, OK.event)) throw new Error(`Legitimate event refused: ${ack}`);
        acked++;
      }
      sent += n;
      // Pace the agent so that it sends during the whole attack.
      if (!stop()) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Heartbeats: keep the connection alive until the attack is over.
    while (!stop()) {
      await writeAll(conn, encoder.encode("HEARTBEAT 1\n"));
      if (await next() !== formatAck(true, OK.heartbeat)) throw new Error("Heartbeat refused");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await writeAll(conn, encoder.encode("HEARTBEAT 2\n"));
    const heartbeatOk = await next() === formatAck(true, OK.heartbeat);
    await writeAll(conn, encoder.encode("BYE\n"));
    await next();
    return { acked, heartbeatOk };
  }
}

/**
 * Runs the fuzz against a server and reports what happened. Creates the
 * legitimate agent's token and the viewer account in the store first.
 *
 * @param options Target, sizes, seed and how to read the server's RSS.
 * @returns The report; check it with {@linkcode fuzzFailures}.
 * @example
 * ```ts
 * const report = await runFuzz({ port, store, lines: 5_000, attackers: 8, legitEvents: 500, seed: 1, rss: () => Deno.memoryUsage().rss });
 * ```
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const random = prng(options.seed);
  const { token, record } = await generateToken("fuzz-legit", { createdBy: "fuzz" });
  await options.store.security.createToken(record);
  await options.store.createUser(
    FUZZ_VIEWER.username,
    await hashPassword(FUZZ_VIEWER.password, { logN: 10 }),
    "viewer",
  );
  let maxRss = await options.rss();
  const logBefore = options.logLines?.() ?? 0;
  const lastIdBefore = (await options.store.queryEvents({ limit: 1 }))[0]?.id ?? 0;
  const cpuBefore = await options.cpuSeconds?.() ?? 0;
  const dbBefore = options.dbPath
    ? await fileBytes(options.dbPath) + await fileBytes(`${options.dbPath}-wal`)
    : 0;
  let attackDone = false;
  const sampler = setInterval(async () => {
    maxRss = Math.max(maxRss, await options.rss());
  }, 100);
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  try {
    const agent = await legitimateAgent(options.port, token);
    const legit = agent.run(options.legitEvents, () => attackDone);
    // A failure of the agent ends the attack at once (and is reported below).
    legit.catch(() => attackDone = true);
    let hostileLines = 0;
    let hostileBytes = 0;
    let connections = 0;
    const halfOpen: Promise<void>[] = [];
    const worker = async () => {
      while (hostileLines < options.lines && Date.now() < deadline && !attackDone) {
        const item = makeAttack(random);
        hostileLines += item.lines;
        hostileBytes += item.bytes.length;
        connections++;
        // Half-open connections are left waiting for the server's line timeout.
        if (item.halfOpen) halfOpen.push(attack(options.port, item));
        else await attack(options.port, item);
      }
    };
    const flooding = options.loginFlood
      ? loginFlood(options.port, options.loginFlood, deadline)
      : Promise.resolve({ answered: 0, idle: [] });
    await Promise.all(Array.from({ length: options.attackers }, worker));
    const flood = await flooding;
    for (const client of flood.idle) client.close();
    await Promise.all(halfOpen);
    attackDone = true;
    const { acked, heartbeatOk } = await legit;
    maxRss = Math.max(maxRss, await options.rss());

    // Is the server up for a newcomer?
    let serverUp = false;
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: options.port });
      const buffer = new Uint8Array(1024);
      const n = await conn.read(buffer);
      serverUp = n !== null &&
        new TextDecoder().decode(buffer.subarray(0, n)).startsWith(WELCOME_LINE);
      conn.close();
    } catch {
      serverUp = false;
    }

    const stored = await clientEventsOf(options.store);
    const security = await securityEventsAfter(options.store, lastIdBefore);
    const legitStored = stored.filter((e) => e.raw.includes(`${LEGIT_HOST} app[7]: legit `)).length;
    const agents = await options.store.listAgents();
    return {
      hostileLines,
      hostileBytes,
      connections,
      legitAcked: acked,
      legitStored,
      foreignStored: stored.length - legitStored,
      foreignAgents: agents.filter((a) => a.hostname !== LEGIT_HOST).length,
      serverUp: serverUp && heartbeatOk,
      maxRssBytes: maxRss,
      floodLogins: flood.answered,
      logLines: options.logLines ? options.logLines() - logBefore : null,
      dbGrowthBytes: options.dbPath
        ? await fileBytes(options.dbPath) + await fileBytes(`${options.dbPath}-wal`) - dbBefore
        : null,
      cpuSeconds: options.cpuSeconds ? await options.cpuSeconds() - cpuBefore : null,
      securityEvents: security.length,
      securityEventBytes: security.reduce((n, e) => n + e.raw.length + e.message.length, 0),
      elapsedMs: performance.now() - started,
      seed: options.seed,
    };
  } finally {
    clearInterval(sampler);
  }
}

async function securityEventsAfter(
  store: Store,
  lastId: number,
): Promise<{ raw: string; message: string }[]> {
  const found: { raw: string; message: string }[] = [];
  let afterId = lastId;
  for (;;) {
    const page = await store.queryEvents({ afterId, limit: 10_000 });
    for (const event of page) if (event.flags & EVENT_FLAGS.internal) found.push(event);
    if (page.length < 10_000) return found;
    afterId = page.at(-1)!.id;
  }
}

async function clientEventsOf(store: Store): Promise<{ raw: string }[]> {
  const all: { raw: string }[] = [];
  let afterId = 0;
  for (;;) {
    const page = await store.queryEvents({ afterId, limit: 10_000 });
    for (const event of page) if (!(event.flags & EVENT_FLAGS.internal)) all.push(event);
    if (page.length < 10_000) return all;
    afterId = page.at(-1)!.id;
  }
}

/** The bounds {@linkcode fuzzFailures} checks a report against. */
export interface FuzzBounds {
  /** Events the legitimate agent sent: all must be acknowledged and stored. */
  readonly legitEvents: number;
  /** Most resident memory of the server, in bytes. */
  readonly maxRssBytes: number;
  /**
   * Most log lines during the run (when measured).
   * @default {MAX_LOG_LINES}
   */
  readonly maxLogLines?: number;
  /**
   * Most characters of security events stored during the run.
   * @default {MAX_SECURITY_EVENT_BYTES}
   */
  readonly maxSecurityEventBytes?: number;
}

/**
 * What is wrong with a report, if anything.
 *
 * @param report A fuzz report.
 * @param bounds What the run must stay within.
 * @returns One sentence per failed check; empty when the run passed.
 * @example
 * ```ts
 * assert.deepEqual(fuzzFailures(report, { legitEvents: 500, maxRssBytes: 512 * 2 ** 20 }), []);
 * ```
 */
export function fuzzFailures(report: FuzzReport, bounds: FuzzBounds): string[] {
  const expectedLegit = bounds.legitEvents;
  const maxRssBytes = bounds.maxRssBytes;
  const failures: string[] = [];
  if (!report.serverUp) failures.push("the server is not up (or the legitimate agent lost it)");
  if (report.legitAcked !== expectedLegit) {
    failures.push(`${report.legitAcked} of ${expectedLegit} legitimate events acknowledged`);
  }
  if (report.legitStored !== expectedLegit) {
    failures.push(`${report.legitStored} of ${expectedLegit} legitimate events stored`);
  }
  if (report.foreignStored !== 0) failures.push(`${report.foreignStored} hostile events stored`);
  if (report.foreignAgents !== 0) {
    failures.push(`${report.foreignAgents} hostile agents registered`);
  }
  if (report.maxRssBytes > maxRssBytes) {
    failures.push(`RSS reached ${mib(report.maxRssBytes)} MiB (bound ${mib(maxRssBytes)} MiB)`);
  }
  const maxLines = bounds.maxLogLines ?? MAX_LOG_LINES;
  if (report.logLines !== null && report.logLines > maxLines) {
    failures.push(`${report.logLines} log lines (bound ${maxLines})`);
  }
  const maxSecurity = bounds.maxSecurityEventBytes ?? MAX_SECURITY_EVENT_BYTES;
  if (report.securityEventBytes > maxSecurity) {
    failures.push(
      `${report.securityEvents} security events of ${report.securityEventBytes} characters stored (bound ${maxSecurity})`,
    );
  }
  return failures;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

/**
 * Resident memory of another process (all its threads, so the server's
 * workers too), from /proc.
 *
 * @param pid Process id.
 * @returns Bytes, or 0 when the process is gone.
 * @example
 * ```ts
 * await procRss(server.pid);
 * ```
 */
export async function procRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * CPU time of another process (user and system, all threads), from /proc.
 *
 * @param pid Process id.
 * @returns Seconds, or 0 when the process is gone.
 * @example
 * ```ts
 * await procCpuSeconds(server.pid);
 * ```
 */
export async function procCpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  // The fields after the command name, which is in parentheses: utime and stime are 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_SECOND : 0;
}

/** Linux's clock ticks per second of /proc times (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

function flag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`Invalid ${name} ${args[at + 1]}`);
  }
  return value;
}

if (import.meta.main) {
  const { spawnServerProcess } = await import("../_harness/server_process.ts");
  const lines = flag(Deno.args, "--lines", 50_000);
  const seed = flag(Deno.args, "--seed", Date.now() % 1_000_000);
  const maxRssMib = flag(Deno.args, "--max-rss-mib", MAX_SERVER_RSS_MIB);
  const dir = await Deno.makeTempDir({ prefix: "nms-fuzz-" });
  const dbPath = join(dir, "nms.db");
  let code = 1;
  try {
    await using server = await spawnServerProcess({
      args: ["--db", dbPath, ...FUZZ_SERVER_ARGS, ...await hostileRulesArgs(dir)],
    });
    const store = await openSqliteStore(dbPath);
    try {
      const legitEvents = Math.max(1_000, Math.floor(lines / 10));
      const report = await runFuzz({
        port: server.port,
        store,
        lines,
        attackers: 16,
        legitEvents,
        seed,
        rss: () => procRss(server.pid),
        loginFlood: { logins: Math.max(10_000, lines / 5), addresses: 100, idleSockets: 2_000 },
        logLines: () => server.stderr().split("\n").length - 1,
        dbPath,
        cpuSeconds: () => procCpuSeconds(server.pid),
      });
      const failures = fuzzFailures(report, { legitEvents, maxRssBytes: maxRssMib * 2 ** 20 });
      const out = (text: string) => Deno.stdout.writeSync(encoder.encode(text + "\n"));
      out(
        `fuzz: seed ${seed}: ${report.hostileLines} hostile lines (${
          mib(report.hostileBytes)
        } MiB) ` +
          `on ${report.connections} connections in ${(report.elapsedMs / 1000).toFixed(1)} s; ` +
          `legitimate events stored ${report.legitStored}/${legitEvents}; hostile stored ${report.foreignStored}; ` +
          `server RSS max ${mib(report.maxRssBytes)} MiB (bound ${maxRssMib} MiB), ` +
          `CPU ${report.cpuSeconds?.toFixed(1)} s; ` +
          `pre-login flood: ${report.floodLogins} refused LOGINs of 60 KB; ` +
          `${report.securityEvents} security events stored (${report.securityEventBytes} characters); ` +
          `database +${report.dbGrowthBytes} bytes with the legitimate events; ${report.logLines} log lines`,
      );
      for (const failure of failures) out(`fuzz: FAILED: ${failure}`);
      out(failures.length === 0 ? "1 passed, 0 failed" : "0 passed, 1 failed");
      code = failures.length === 0 ? 0 : 1;
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  Deno.exit(code);
}
