// deno-lint-ignore-file no-console -- a benchmark's output is its result, printed for the person running it
/**
 * A fleet on one collector: simulated agents speaking the real protocol from
 * many loopback addresses with one enrollment token (`LOGIN @token …`,
 * `REGISTER 1.0 host-N Linux`, a `HEARTBEAT` every interval and a
 * `BATCH_EVENT` every second each), and a few real `nms-agent` processes
 * beside them. Each figure is printed beside its target:
 *
 * 0. floor: the same fleet on a bare Deno server that only answers each line
 *    with its ACK (`_fleet_floor.ts`), for the same window: what the sockets
 *    alone cost any Deno server, the baseline of the steady state's figures;
 * 1. steady: connect, log in and register every agent (at most `--window` in
 *    flight), then the server's RSS and CPU, in all and by thread
 *    (`_thread_cpu.ts`), while they heartbeat and send, and whether every
 *    one is shown alive;
 * 2. restart: `kill -9` the server and start it again on the same data; the
 *    agents reconnect with the agent's backoff and full jitter; time until
 *    all are registered again, and the registrations per second after the
 *    kill; then `--password-agents` more log in with a shared password account
 *    (one full-cost hash each) and take a resumption ticket, and a second
 *    kill times their return with the tickets beside the token fleet's;
 * 3. vanish: every simulated socket closed at once; time until each node is
 *    shown disconnected or late, and the console API's latency meanwhile;
 * 4. real agents: registered, alive, their lines stored, before and after the restart.
 *
 * Usage: deno run -A tests/bench/fleet.ts [--agents 10000] [--real-agents 24]
 *          [--steady-seconds 120] [--heartbeat 30] [--window 256] [--password-seconds 120]
 *          [--password-agents 500] [--phases floor,steady,restart,password,vanish]
 *          [--event-seconds 1] [--origins] [--server-deno-flags="--cpu-prof --cpu-prof-dir=DIR"]
 *
 * `--origins` sends each event as `EVENT <stream> <position>`, as `nms-agent`
 * does, so that the exactly-once key is written too.
 *
 * @module
 */

import { join } from "node:path";
import { benchArgs, choiceOption, numberOption } from "./_args.ts";
import { SimFleet, type SimFleetOptions, sourceAddress } from "./_fleet_agents.ts";
import { startFloorServer } from "./_fleet_floor.ts";
import { type RealAgents, startRealAgents } from "./_fleet_real_agents.ts";
import { formatThreadShares, type ThreadShare, threadShares } from "./_thread_cpu.ts";
import {
  type ConsoleApi,
  type FleetServer,
  type ProcessStats,
  serverCli,
  signInConsole,
  startFleetServer,
  type StatusCounts,
} from "./_fleet_server.ts";

/**
 * The phases in the order they run: the floor before the collector starts,
 * the others once the fleet has connected to it.
 */
const PHASES = ["floor", "steady", "restart", "password", "vanish"] as const;
/** Longest wait for the fleet to be back before the vanish phase, in milliseconds. */
const BACK_BEFORE_VANISH_MS = 120_000;
/**
 * The collector runs with its defaults: the connection limit follows the
 * descriptor limit, and the simulated agents share each address below the
 * per-address limit.
 */
const SERVER_ARGS: string[] = [];
/**
 * Length of the steady-state window, in seconds: long enough that memory
 * which grows with time, not with the fleet, shows in its figures.
 */
const STEADY_SECONDS = 120;
/** Time the fleet is left alone before the steady-state window, in milliseconds. */
const SETTLE_MS = 10_000;
/** The targets of a restart: every token agent back within 30 s, every password agent within 60 s. */
const TOKEN_RESTART_BOUND_MS = 30_000;
const PASSWORD_RESTART_BOUND_MS = 60_000;
/** The target of the token fleet's registrations per second after a restart. */
const TOKEN_RATE = "≥ 1,000/s";
/** Time the server is left alone before its idle RSS is read, in milliseconds. */
const IDLE_SETTLE_MS = 3_000;
/** Agents per second below which a phase is given up: bounds every wait by the fleet's size. */
const SLOWEST_RATE_PER_SECOND = 20;
/** Shortest bound of a phase, in milliseconds. */
const MIN_PHASE_MS = 120_000;
/** Pause between two polls of the console API, in milliseconds. */
const POLL_MS = 500;
/** Pause between two requests of each console poller while the fleet vanishes, in milliseconds. */
const VANISH_POLL_MS = 50;
/** How long real agents' lines may take to be stored, in milliseconds. */
const DELIVERY_TIMEOUT_MS = 30_000;

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const n = (x: number) => Math.round(x).toLocaleString("en-US");
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function row(what: string, figure: string, target: string): void {
  console.log(`fleet     ${what.padEnd(44)} ${figure.padEnd(40)} target ${target}`);
}

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? NaN;
}

function describe(counts: StatusCounts): string {
  return Object.entries(counts).map(([status, count]) => `${n(count)} ${status}`).join(", ") ||
    "none";
}

/**
 * Registrations per second after `from`, one bucket per second, ten to a
 * line; lines of ten empty seconds are left out.
 */
function histogram(times: number[], from: number): void {
  const buckets: number[] = [];
  for (const t of times) {
    if (t < from) continue;
    const second = Math.floor((t - from) / 1000);
    while (buckets.length <= second) buckets.push(0);
    buckets[second]!++;
  }
  for (let i = 0; i < buckets.length; i += 10) {
    const ten = buckets.slice(i, i + 10);
    if (ten.every((count) => count === 0)) continue;
    const line = ten.map((count) => String(count).padStart(6)).join("");
    console.log(`fleet       registrations/s from ${String(i).padStart(3)} s:${line}`);
  }
}

async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  pollMs = POLL_MS,
) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) return false;
    await sleep(pollMs);
  }
  return true;
}

/** Whether every real agent is alive and a fresh line of each is stored. */
async function checkReal(real: RealAgents, api: ConsoleApi, label: string): Promise<void> {
  const shared = real.hostnames.length < real.count;
  const prefix = shared ? real.hostnames[0]! : "real-";
  const expectedAlive = shared ? 1 : real.count;
  const allAlive = await waitFor(
    async () => (await api.statuses(prefix)).alive === expectedAlive,
    DELIVERY_TIMEOUT_MS,
  );
  const marker = `${label.replaceAll(" ", "-")}-${crypto.randomUUID()}`;
  const start = performance.now();
  await real.append(marker);
  const delivered = await waitFor(() => real.stored(marker) >= real.count, DELIVERY_TIMEOUT_MS);
  row(
    `real agents ${label}`,
    `${allAlive ? "all alive" : "NOT all alive"}, ${real.stored(marker)}/${real.count} lines in ${
      seconds(performance.now() - start)
    }`,
    `all alive and stored${shared ? " (one shared hostname)" : ""}`,
  );
  if (!allAlive || !delivered) failures++;
}

/** What the steady window measured on one server. */
interface SteadyFigures {
  cpu: number;
  /** The same CPU by thread: the main thread, each Worker, V8's helpers. */
  threads: ThreadShare[];
  idleRss: number;
  rss: number;
  peakRss: number;
  windowS: number;
  eventsPerSecond: number;
}

/**
 * Samples a server's CPU and RSS over a window while a fleet runs.
 *
 * @param server The server's process.
 * @param fleet The connected fleet.
 * @param idleRss The server's RSS before the fleet connected.
 * @param windowMs Length of the window.
 */
async function measureSteady(
  server: ProcessStats,
  fleet: SimFleet,
  idleRss: number,
  windowMs: number,
): Promise<SteadyFigures> {
  const cpuBefore = await server.cpuSeconds();
  const threadsBefore = await server.threadCpu();
  const acksBefore = fleet.counters.eventsAcked;
  const windowStart = performance.now();
  let peakRss = 0;
  while (performance.now() - windowStart < windowMs) {
    peakRss = Math.max(peakRss, await server.rssBytes());
    await sleep(POLL_MS);
  }
  const windowS = (performance.now() - windowStart) / 1000;
  return {
    cpu: (await server.cpuSeconds() - cpuBefore) / windowS,
    threads: threadShares(threadsBefore, await server.threadCpu(), server.pid, windowS),
    idleRss,
    rss: await server.rssBytes(),
    peakRss,
    windowS,
    eventsPerSecond: (fleet.counters.eventsAcked - acksBefore) / windowS,
  };
}

/**
 * The floor: the same fleet, connected, settled and measured over the same
 * window on a bare Deno server that answers each line with its ACK and does
 * nothing else.
 */
async function measureFloor(
  fleetOptions: Omit<SimFleetOptions, "port" | "login">,
  connect: { window: number; timeoutMs: number; settleMs: number; windowMs: number },
): Promise<SteadyFigures | null> {
  const floor = await startFloorServer();
  const fleet = new SimFleet({ ...fleetOptions, port: floor.port, login: "LOGIN @token floor" });
  try {
    await sleep(IDLE_SETTLE_MS);
    const idleRss = await floor.rssBytes();
    if (!await fleet.connectAll(connect)) return null;
    await sleep(connect.settleMs);
    return await measureSteady(floor, fleet, idleRss, connect.windowMs);
  } finally {
    fleet.close();
    await floor.stop();
  }
}

let failures = 0;

if (import.meta.main) {
  const values = benchArgs(import.meta.url, {
    agents: { type: "string", default: "10000" },
    "real-agents": { type: "string", default: "24" },
    "steady-seconds": { type: "string", default: String(STEADY_SECONDS) },
    heartbeat: { type: "string", default: "30" },
    window: { type: "string", default: "256" },
    "password-seconds": { type: "string", default: "120" },
    "password-agents": { type: "string", default: "500" },
    phases: { type: "string", default: PHASES.join(",") },
    "server-deno-flags": { type: "string", default: "" },
    "event-seconds": { type: "string", default: "1" },
    origins: { type: "boolean", default: false },
  });
  const phases = new Set(
    values.phases.split(",").map((phase) => choiceOption("phases", phase.trim(), PHASES)),
  );
  const agents = numberOption("agents", values.agents, { min: 1 });
  const realCount = numberOption("real-agents", values["real-agents"]);
  const steadySeconds = numberOption("steady-seconds", values["steady-seconds"], { min: 1 });
  const heartbeatSeconds = numberOption("heartbeat", values.heartbeat, { min: 1 });
  // 0: the agents only heartbeat (idle connections).
  const eventSeconds = numberOption("event-seconds", values["event-seconds"]);
  const window = numberOption("window", values.window, { min: 1 });
  const passwordSeconds = numberOption("password-seconds", values["password-seconds"], { min: 1 });
  const passwordAgents = numberOption("password-agents", values["password-agents"], { min: 1 });
  const phaseMs = Math.max(MIN_PHASE_MS, (agents / SLOWEST_RATE_PER_SECOND) * 1000);
  const settleMs = Math.min(SETTLE_MS, steadySeconds * 1000);

  console.log(
    `fleet     ${n(agents)} simulated agents from ${
      sourceAddress(agents - 1) === sourceAddress(0)
        ? "1 address"
        : `127.10.0.1–${sourceAddress(agents - 1)}`
    }, heartbeat ${heartbeatSeconds} s, ${
      eventSeconds > 0
        ? `1 ${values.origins ? "EVENT" : "BATCH_EVENT"} every ${eventSeconds} s each`
        : "no events"
    }; ${realCount} real agents; server ${
      SERVER_ARGS.length ? SERVER_ARGS.join(" ") : "with default settings"
    }`,
  );

  const fleetOptions = {
    agents,
    heartbeatSeconds,
    eventSeconds,
    origins: values.origins,
  };
  // 0. The floor, before the collector starts: the machine is the same, the
  // window as long, so its figures are the steady state's baseline.
  let floor: SteadyFigures | null = null;
  if (phases.has("floor")) {
    floor = await measureFloor(fleetOptions, {
      window,
      timeoutMs: phaseMs,
      settleMs,
      windowMs: steadySeconds * 1000,
    });
    if (floor === null) {
      failures++;
      row("floor: a bare Deno server, same fleet", "the fleet did not connect", "all connected");
    } else {
      row(
        `floor: bare Deno server, CPU over ${Math.round(floor.windowS)} s`,
        `${(floor.cpu * 100).toFixed(1)}% of a core, ${n(floor.eventsPerSecond)} events/s`,
        "none: what these sockets cost any Deno server",
      );
      row("floor: CPU by thread", formatThreadShares(floor.threads), "none");
      row(
        "floor: RSS idle / steady (peak)",
        `${n(floor.idleRss / MB)} / ${n(floor.rss / MB)} (${n(floor.peakRss / MB)}) MB, ${
          n((floor.rss - floor.idleRss) / agents / 1024)
        } KB per connection`,
        "none",
      );
    }
  }

  const dir = await Deno.makeTempDir({ prefix: "nms-fleet-" });
  const dbPath = join(dir, "nms.db");
  const serverArgs = [...SERVER_ARGS, "--heartbeat", String(heartbeatSeconds)];
  // Extra `deno run` flags of the server, e.g. `--cpu-prof` (written when it stops).
  const denoFlags = values["server-deno-flags"].split(" ").filter((flag) => flag !== "");
  // ERROR lines of every server of the run, by message.
  const serverErrors = new Map<string, number>();
  let server: FleetServer = await startFleetServer(dir, {
    args: serverArgs,
    denoFlags,
    errors: serverErrors,
  });
  let fleet: SimFleet | undefined;
  let passwordFleet: SimFleet | undefined;
  let real: RealAgents | undefined;
  let cleaned: Promise<void> | undefined;
  const consoles: ConsoleApi[] = [];
  const openConsole = async (url: string) => {
    const api = await signInConsole(url);
    consoles.push(api);
    return api;
  };
  const cleanup = () =>
    cleaned ??= (async () => {
      for (const api of consoles) api.close();
      fleet?.close();
      passwordFleet?.close();
      await real?.stop();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    })();
  // Interrupted by the person running it: no server, agent or directory is left behind.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => cleanup().finally(() => Deno.exit(130)));
  }
  try {
    const token = (await serverCli(["token", "create", "--name", "fleet", "--db", dbPath])).trim();
    const passwordFile = join(dir, "fleet-password");
    const password = crypto.randomUUID();
    await Deno.writeTextFile(passwordFile, password + "\n", { mode: 0o600 });
    await serverCli([
      "user",
      "add",
      "fleet",
      "--role",
      "agent",
      "--password-file",
      passwordFile,
      "--db",
      dbPath,
    ]);
    let api = await openConsole(server.httpUrl);
    await sleep(IDLE_SETTLE_MS);
    const idleRss = await server.rssBytes();
    if (realCount > 0) {
      real = await startRealAgents(join(dir, "real"), {
        port: server.port,
        dbPath,
        token,
        count: realCount,
      });
    }

    // 1. Steady state.
    fleet = new SimFleet({ ...fleetOptions, port: server.port, login: `LOGIN @token ${token}` });
    const rampStart = performance.now();
    const ramped = await fleet.connectAll({ window, timeoutMs: phaseMs });
    const rampMs = performance.now() - rampStart;
    row(
      "connect + LOGIN @token + REGISTER",
      `${n(fleet.registered)} in ${seconds(rampMs)} (${n(fleet.registered / (rampMs / 1000))}/s)`,
      "≥ 1,000/s",
    );
    if (!ramped) failures++;
    if (phases.has("steady")) {
      await sleep(settleMs);
      const steady = await measureSteady(server, fleet, idleRss, steadySeconds * 1000);
      const { cpu, rss, peakRss, windowS } = steady;
      const statuses = await api.statuses("host-");
      row(
        "shown alive (GET /api/agents)",
        `${describe(statuses)}`,
        `all ${n(agents)} alive`,
      );
      if ((statuses.alive ?? 0) !== agents) failures++;
      row(
        "events acknowledged in the window",
        `${n(steady.eventsPerSecond)}/s`,
        `${n(agents)}/s (one per agent per second)`,
      );
      row(
        "server RSS idle / steady (peak)",
        `${n(idleRss / MB)} / ${n(rss / MB)} (${n(peakRss / MB)}) MB`,
        "≤ 600 MB",
      );
      row(
        "server RSS per connection over idle",
        `${n((rss - idleRss) / agents / 1024)} KB`,
        "≤ 40 KB",
      );
      row(
        `server CPU over ${Math.round(windowS)} s`,
        `${(cpu * 100).toFixed(1)}% of a core${
          floor ? ` (the floor ${(floor.cpu * 100).toFixed(1)}%)` : ""
        }`,
        "≤ 25% of a core",
      );
      row("server CPU by thread", formatThreadShares(steady.threads), "none: where it goes");
      if (real) await checkReal(real, api, "steady");
    }

    // 2. Restart: kill -9, start again, and time each fleet's return.
    // The rate target is the token fleet's (the default): a smaller group's
    // rate is its size over its backoff's spread, its target the time bound.
    const restart = async (
      groups: { label: string; fleet: SimFleet; boundMs: number; rateTarget?: string }[],
    ) => {
      const killedAt = performance.now();
      await server.kill();
      server = await startFleetServer(dir, {
        port: server.port,
        httpPort: server.httpPort,
        args: serverArgs,
        denoFlags,
        errors: serverErrors,
      });
      let allBack = true;
      for (const { label, fleet: group, boundMs, rateTarget = TOKEN_RATE } of groups) {
        const count = group.size;
        const all = await group.waitRegistered(count, boundMs - (performance.now() - killedAt));
        const times = group.registrationTimes.filter((t) => t >= killedAt);
        const last = all ? times.at(-1)! : performance.now();
        const rate = times.length / Math.max(0.001, (last - server.listeningAt) / 1000);
        row(
          `restart (${label}): all registered again`,
          all
            ? `${n(count)} in ${seconds(last - killedAt)} after the kill`
            : `${n(group.registered)} of ${n(count)} after ${
              seconds(performance.now() - killedAt)
            }`,
          `≤ ${boundMs / 1000} s`,
        );
        row(
          `restart (${label}): registrations/s`,
          `${rate < 10 ? rate.toFixed(1) : n(rate)}/s from listening (${
            seconds(server.listeningAt - killedAt)
          } after the kill)`,
          rateTarget,
        );
        histogram(group.registrationTimes, killedAt);
        allBack &&= all;
      }
      return allBack;
    };
    if (phases.has("restart")) {
      if (!await restart([{ label: "token", fleet, boundMs: TOKEN_RESTART_BOUND_MS }])) failures++;
      api = await openConsole(server.httpUrl);
      if (real) await checkReal(real, api, "after restart");
    }

    // 2b. A shared password account: first logins cost one password hash each
    // (kept at full cost); each earns a resumption ticket, with which the
    // agents come back after a restart without hashing again.
    if (phases.has("password")) {
      passwordFleet = new SimFleet({
        port: server.port,
        agents: passwordAgents,
        login: `LOGIN fleet ${password}`,
        heartbeatSeconds,
        tickets: true,
        hostPrefix: "pw-",
        firstIndex: agents,
      });
      const firstStart = performance.now();
      const first = await passwordFleet.connectAll({
        window,
        timeoutMs: passwordSeconds * 1000,
      });
      const firstMs = performance.now() - firstStart;
      row(
        "first password logins + TICKET (one hash each)",
        `${n(passwordFleet.registered)} in ${seconds(firstMs)} (${
          (passwordFleet.registered / (firstMs / 1000)).toFixed(1)
        }/s)`,
        "hash cost unchanged",
      );
      if (!first) failures++;
      const ticketsBefore = passwordFleet.counters.ticketLogins;
      const back = await restart([
        {
          label: "password, tickets",
          fleet: passwordFleet,
          boundMs: PASSWORD_RESTART_BOUND_MS,
          rateTarget: "none: the time above is the target",
        },
        { label: "token, beside them", fleet, boundMs: TOKEN_RESTART_BOUND_MS },
      ]);
      if (!back) failures++;
      row(
        "restart (password, tickets): logins without a hash",
        `${n(passwordFleet.counters.ticketLogins - ticketsBefore)} of ${n(passwordAgents)}`,
        "all",
      );
      api = await openConsole(server.httpUrl);
    }

    // 3. Vanish: the agents registered by then, once they are shown alive.
    if (phases.has("vanish")) {
      await fleet!.waitRegistered(agents, BACK_BEFORE_VANISH_MS);
      const present = fleet!.registered;
      await waitFor(
        async () => (await api.statuses("host-")).alive === present,
        heartbeatSeconds * 1000,
      );
      api.latencies.clear();
      const droppedAt = performance.now();
      fleet!.dropAll();
      let gone = 0;
      const light = (async () => {
        while (gone === 0) {
          await api.get("/api/logs?limit=50");
          await sleep(VANISH_POLL_MS);
        }
      })();
      const shownGone = await waitFor(
        async () => ((await api.statuses("host-")).alive ?? 0) === 0,
        heartbeatSeconds * 3000 + 15_000,
        VANISH_POLL_MS,
      );
      gone = performance.now() - droppedAt;
      await light;
      row(
        `vanish: all ${n(present)} shown disconnected or late`,
        shownGone ? `${seconds(gone)} after the drop` : `not within ${seconds(gone)}`,
        "at once (dropped connection, docs/API.md)",
      );
      if (!shownGone) failures++;
      for (const [path, latencies] of api.latencies) {
        row(
          `vanish: console ${path} p95`,
          `${p95(latencies).toFixed(0)} ms (max ${
            Math.max(...latencies).toFixed(0)
          } ms, ${latencies.length} requests)`,
          "< 100 ms",
        );
      }
    }
    const failed = [...fleet.counters.failures].map(([reason, count]) => `${reason} ×${n(count)}`);
    console.log(
      `fleet     ${n(fleet.counters.eventsAcked)} events and ${
        n(fleet.counters.heartbeatsAcked)
      } heartbeats acknowledged; ${n(fleet.counters.connectFailures)} refused connects; ${
        failed.length ? `failures: ${failed.join(", ")}` : "no ACK FAIL"
      }`,
    );
  } finally {
    // Also when a step threw: what the server logged is often why.
    const logged = [...serverErrors].map(([error, count]) => `${error} ×${n(count)}`);
    console.log(`fleet     server ERROR lines: ${logged.length ? logged.join(", ") : "none"}`);
    await cleanup();
  }
  if (failures > 0) {
    console.log(`fleet     ${failures} check(s) failed`);
    Deno.exit(1);
  }
}
