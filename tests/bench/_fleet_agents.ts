/**
 * Simulated agents for the fleet benchmark: many protocol clients in one
 * process, each from its own loopback source address (127.0.0.0/8), that log
 * in, register, heartbeat, send events and reconnect with the agent's own
 * backoff policy, as `nms-agent` does but without following files.
 *
 * @module
 */

import net from "node:net";
import { Backoff } from "../../agent/backoff.ts";
import { BACKOFF_RESET_AFTER_MS } from "../../agent/session.ts";

/** Simulated agents sharing one source address: below the server's default per-address limit. */
export const AGENTS_PER_ADDRESS = 16;
/** Period of the one timer that drives every agent's heartbeats and events, in milliseconds. */
const TICK_MS = 100;
/** Ticks in a second: each agent is looked at once per second, in its own tick. */
const SLOTS = 1000 / TICK_MS;
/** Bytes an agent may have unsent before it skips events, as an agent's window would. */
const MAX_UNSENT_BYTES = 64 * 1024;

/** One simulated agent. */
interface SimAgent {
  readonly index: number;
  readonly hostname: string;
  readonly address: string;
  readonly backoff: Backoff;
  socket: net.Socket | null;
  partial: string;
  registered: boolean;
  /** Whether the current connection was established. */
  opened: boolean;
  sessionStartedAt: number;
  ackedThisSession: number;
  lastHeartbeatAt: number;
  lastEventAt: number;
  eventSeq: number;
  /** Bytes "read" from its file: the position of its last event line (`EVENT`). */
  position: number;
  retry: ReturnType<typeof setTimeout> | undefined;
  /** The resumption ticket of its last password login, when it asks for them. */
  ticket: string | null;
  /** Whether the current connection logged in with {@linkcode SimAgent.ticket}. */
  usedTicket: boolean;
}

/** Options of {@linkcode SimFleet}. */
export interface SimFleetOptions {
  /** The server's agent port on 127.0.0.1. */
  port: number;
  /** Simulated agents. */
  agents: number;
  /** The `LOGIN` line, without its newline (`LOGIN @token nms_…`). */
  login: string;
  /** Heartbeat interval, in seconds. @default {30} */
  heartbeatSeconds?: number;
  /** Seconds between two events of one agent; 0 sends none. @default {1} */
  eventSeconds?: number;
  /**
   * Send each event as `EVENT <stream> <position>`, one stream per agent, as
   * `nms-agent` does, instead of `BATCH_EVENT`. @default {false}
   */
  origins?: boolean;
  /**
   * Ask for a resumption ticket after a password login (`TICKET`) and log in
   * with it (`LOGIN @ticket`) on later connections, as `nms-agent` does. @default {false}
   */
  tickets?: boolean;
  /** Host names are this prefix and a number. @default {"host-"} */
  hostPrefix?: string;
  /** Index of the first agent, for distinct source addresses across fleets. @default {0} */
  firstIndex?: number;
}

/** What the fleet has seen so far. */
export interface FleetCounters {
  registrations: number;
  /** Logins with a resumption ticket that were answered OK. */
  ticketLogins: number;
  eventsSent: number;
  eventsAcked: number;
  heartbeatsAcked: number;
  eventsSkipped: number;
  connectFailures: number;
  drops: number;
  /** `ACK FAIL` reasons and socket errors, by text. */
  failures: Map<string, number>;
}

/**
 * The loopback source address of agent `index`: 127.10.x.y, {@linkcode AGENTS_PER_ADDRESS}
 * agents per address.
 */
export function sourceAddress(index: number): string {
  const a = Math.floor(index / AGENTS_PER_ADDRESS);
  return `127.10.${Math.floor(a / 250)}.${(a % 250) + 1}`;
}

/**
 * A fleet of simulated agents over the real protocol.
 *
 * @example
 * ```ts
 * const fleet = new SimFleet({ port, agents: 100, login: `LOGIN @token ${token}` });
 * await fleet.connectAll({ window: 256, timeoutMs: 60_000 });
 * fleet.dropAll();
 * ```
 */
export class SimFleet {
  /** Every registration's time (`performance.now()`), in order. */
  readonly registrationTimes: number[] = [];
  readonly counters: FleetCounters = {
    registrations: 0,
    ticketLogins: 0,
    eventsSent: 0,
    eventsAcked: 0,
    heartbeatsAcked: 0,
    eventsSkipped: 0,
    connectFailures: 0,
    drops: 0,
    failures: new Map(),
  };
  /** The `LOGIN` line the next connections send; may change between phases. */
  login: string;
  readonly #agents: SimAgent[];
  readonly #port: number;
  readonly #heartbeatMs: number;
  readonly #eventMs: number;
  readonly #origins: boolean;
  readonly #tickets: boolean;
  readonly #ticker: ReturnType<typeof setInterval>;
  #tick = 0;
  #registeredNow = 0;
  #reconnect = true;
  #onChange: (() => void) | undefined;

  /**
   * @param options Server, agents, credential and traffic.
   */
  constructor(options: SimFleetOptions) {
    this.login = options.login;
    this.#port = options.port;
    this.#heartbeatMs = (options.heartbeatSeconds ?? 30) * 1000;
    this.#eventMs = (options.eventSeconds ?? 1) * 1000;
    this.#origins = options.origins ?? false;
    this.#tickets = options.tickets ?? false;
    const first = options.firstIndex ?? 0;
    const prefix = options.hostPrefix ?? "host-";
    this.#agents = Array.from({ length: options.agents }, (_, i) => ({
      index: first + i,
      hostname: `${prefix}${i + 1}`,
      address: sourceAddress(first + i),
      backoff: new Backoff(),
      socket: null,
      partial: "",
      registered: false,
      opened: false,
      sessionStartedAt: 0,
      ackedThisSession: 0,
      lastHeartbeatAt: 0,
      lastEventAt: 0,
      eventSeq: 0,
      position: 0,
      retry: undefined,
      ticket: null,
      usedTicket: false,
    }));
    this.#ticker = setInterval(() => this.#onTick(), TICK_MS);
  }

  /** Agents in this fleet. */
  get size(): number {
    return this.#agents.length;
  }

  /** Agents registered on their current connection. */
  get registered(): number {
    return this.#registeredNow;
  }

  /** Agents with an open socket. */
  get connected(): number {
    return this.#agents.filter((a) => a.socket !== null).length;
  }

  /**
   * Connects every agent, at most `window` of them between connecting and
   * registered at a time, as a rollout would.
   *
   * @param options Connections in flight and the deadline.
   * @returns Whether all registered before the deadline.
   */
  async connectAll(options: { window: number; timeoutMs: number }): Promise<boolean> {
    const deadline = performance.now() + options.timeoutMs;
    let next = 0;
    while (this.#registeredNow < this.#agents.length && performance.now() < deadline) {
      while (next < this.#agents.length && next - this.#registeredNow < options.window) {
        this.#connect(this.#agents[next++]!);
      }
      await this.#changed(deadline - performance.now());
    }
    return this.#registeredNow === this.#agents.length;
  }

  /**
   * Waits until `count` agents are registered, or the deadline.
   *
   * @param count Registered agents to wait for.
   * @param timeoutMs Deadline from now.
   * @returns Whether they were.
   */
  async waitRegistered(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.#registeredNow < count && performance.now() < deadline) {
      await this.#changed(deadline - performance.now());
    }
    return this.#registeredNow >= count;
  }

  /** Closes every socket at once and reconnects none (hosts that vanish). */
  dropAll(): void {
    this.#reconnect = false;
    for (const agent of this.#agents) {
      clearTimeout(agent.retry);
      agent.socket?.destroy();
    }
  }

  /** Stops the ticker, the retries and every socket. */
  close(): void {
    clearInterval(this.#ticker);
    this.dropAll();
  }

  #changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#onChange = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #notify(): void {
    const onChange = this.#onChange;
    this.#onChange = undefined;
    onChange?.();
  }

  #connect(agent: SimAgent): void {
    agent.retry = undefined;
    const socket = net.connect({
      host: "127.0.0.1",
      port: this.#port,
      localAddress: agent.address,
    });
    agent.socket = socket;
    agent.partial = "";
    agent.ackedThisSession = 0;
    agent.sessionStartedAt = performance.now();
    socket.setNoDelay(true);
    socket.setEncoding("utf8");
    agent.opened = false;
    socket.once("connect", () => {
      agent.opened = true;
      // Pipelined as the server allows: one round trip to be registered, and alive at once.
      agent.lastHeartbeatAt = performance.now();
      agent.usedTicket = this.#tickets && agent.ticket !== null;
      const login = agent.usedTicket
        ? `LOGIN @ticket ${agent.ticket}`
        : this.#tickets
        ? `${this.login}\nTICKET`
        : this.login;
      socket.write(`${login}\nREGISTER 1.0 ${agent.hostname} Linux\nHEARTBEAT 0\n`);
    });
    socket.on("data", (chunk: string) => this.#onData(agent, chunk));
    socket.on("error", (error: Error & { code?: string }) => {
      if (!agent.opened) this.counters.connectFailures++;
      this.#fail(error.code ?? error.message);
    });
    socket.on("close", () => this.#onClose(agent, socket));
  }

  #onData(agent: SimAgent, chunk: string): void {
    const text = agent.partial + chunk;
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      this.#onLine(agent, text.slice(start, end));
      start = end + 1;
    }
    agent.partial = text.slice(start);
  }

  #onLine(agent: SimAgent, line: string): void {
    if (line === "ACK OK Event received") {
      this.counters.eventsAcked++;
      agent.ackedThisSession++;
    } else if (line === "ACK OK Heartbeat received") {
      this.counters.heartbeatsAcked++;
    } else if (line === "ACK OK Registration successful") {
      agent.registered = true;
      this.#registeredNow++;
      this.counters.registrations++;
      this.registrationTimes.push(performance.now());
      this.#notify();
    } else if (line.startsWith("ACK OK Ticket ")) {
      agent.ticket = line.slice("ACK OK Ticket ".length);
    } else if (line === "ACK OK Login successful" && agent.usedTicket) {
      this.counters.ticketLogins++;
    } else if (line.startsWith("ACK FAIL ")) {
      // A refused ticket (not a refused connection): the next connection
      // logs in with the password again, as nms-agent does.
      if (line === "ACK FAIL Invalid credentials" && agent.usedTicket && !agent.registered) {
        agent.ticket = null;
      }
      this.#fail(line.slice("ACK FAIL ".length));
      // A refused login or registration: the session cannot go on.
      if (!agent.registered) agent.socket?.destroy();
    }
  }

  #fail(reason: string): void {
    this.counters.failures.set(reason, (this.counters.failures.get(reason) ?? 0) + 1);
  }

  #onClose(agent: SimAgent, socket: net.Socket): void {
    if (agent.socket !== socket) return;
    agent.socket = null;
    if (agent.registered) {
      agent.registered = false;
      this.#registeredNow--;
      this.counters.drops++;
    }
    this.#notify();
    if (!this.#reconnect) return;
    // The agent's policy (agent/session.ts): a session that delivered something or
    // lasted long enough starts the backoff over; the first retry after it waits a
    // part of the backoff's reconnect spread, every later one a jittered delay.
    const backoff = agent.backoff;
    if (
      agent.ackedThisSession > 0 ||
      performance.now() - agent.sessionStartedAt >= BACKOFF_RESET_AFTER_MS
    ) {
      backoff.reset();
    }
    const fresh = agent.opened && backoff.attempt === 0;
    const delayMs = fresh ? backoff.spreadDelayMs() : backoff.nextDelayMs();
    agent.retry = setTimeout(() => this.#connect(agent), delayMs);
  }

  #onTick(): void {
    const slot = this.#tick++ % SLOTS;
    const now = performance.now();
    for (let i = slot; i < this.#agents.length; i += SLOTS) {
      const agent = this.#agents[i]!;
      const socket = agent.socket;
      if (!agent.registered || socket === null) continue;
      let out = "";
      if (now - agent.lastHeartbeatAt >= this.#heartbeatMs) {
        agent.lastHeartbeatAt = now;
        out += `HEARTBEAT ${Math.floor(now / 1000)}\n`;
      }
      // Each agent is looked at once per second: half a tick of slack keeps a 1 s period.
      if (this.#eventMs > 0 && now - agent.lastEventAt >= this.#eventMs - TICK_MS / 2) {
        agent.lastEventAt = now;
        if (socket.writableLength > MAX_UNSENT_BYTES) {
          this.counters.eventsSkipped++;
        } else {
          const seq = ++agent.eventSeq;
          const line = `<14>1 ${
            new Date().toISOString()
          } ${agent.hostname} fleet ${agent.index} - - event ${seq} from a simulated agent`;
          if (this.#origins) {
            agent.position += line.length + 1;
            out += `EVENT sim-${agent.index} ${agent.position} ${line}\n`;
          } else out += `BATCH_EVENT ${line}\n`;
          this.counters.eventsSent++;
        }
      }
      if (out !== "") socket.write(out);
    }
  }
}
