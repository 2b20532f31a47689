/**
 * The console's live stream: Server-Sent Events fed by one poller. While at
 * least one client listens, the hub reads new events from the store every
 * {@linkcode LIVE_POLL_MS} (one indexed query by id, however many clients)
 * and sends each client one coalesced message per tick with the newest events
 * that pass its filter. Reading the database rather than hooking the ingest
 * path keeps ingest untouched and also works when several servers share one
 * database.
 *
 * Alerts are pushed rather than polled: given the server's alert feed, the
 * hub holds the alerts raised or folded since the last tick and sends every
 * client one `alerts` message per tick (the badge and the Alerts view of the
 * console). The console polls `GET /api/alerts` too, which also covers alerts
 * raised by other servers sharing the database.
 *
 * Everything is bounded: events read per tick, events sent per message,
 * alerts held per tick, bytes buffered per slow client, and clients.
 *
 * @module
 */

import type { AlertRecord, EventRecord, Role, Store, UserRecord } from "../store/store.ts";
import { sameCredential } from "./session.ts";
import type { AlertListener } from "../rules/alert_feed.ts";
import type { LogFilter } from "./log_filter.ts";
import { liveMatcher } from "./log_filter.ts";

/** Time between two reads of new events while someone listens, in ms. */
export const LIVE_POLL_MS = 400;
/**
 * Most events read per tick. Above this rate (12,500 events/s at 400 ms) the
 * hub skips to the newest events and tells clients how many it skipped.
 */
export const LIVE_MAX_READ_PER_TICK = 5_000;
/** Most events sent to one client per message; older matches of the tick are counted as skipped. */
export const LIVE_MAX_EVENTS_PER_MESSAGE = 250;
/** Recent events scanned for the backlog a new client starts with. */
const LIVE_BACKLOG_SCAN = 2_000;
/** Events a new client starts with (the newest matching ones). */
export const LIVE_BACKLOG_EVENTS = 100;
/**
 * Bytes queued for one client that does not read. Past this, its messages
 * are dropped (counted as skipped) until it catches up.
 */
export const LIVE_CLIENT_BUFFER_BYTES = 1024 * 1024;
/** Most simultaneous live clients of all users; more get HTTP 503. */
export const MAX_LIVE_CLIENTS = 100;
/**
 * Most simultaneous live clients of one user. One more ends that user's own
 * oldest stream, so no user can take the slots of the others.
 */
export const MAX_LIVE_CLIENTS_PER_USER = 10;
/** Interval of the keep-alive comment that detects gone clients, in ms. */
const KEEPALIVE_MS = 15_000;
/**
 * Most alerts pushed in one `alerts` message (one per tick). Past this, new
 * alerts of the tick are left out and the message says `more: true`, so the
 * console re-reads `GET /api/alerts`; updates of alerts already held still
 * replace them.
 */
export const LIVE_MAX_ALERTS_PER_MESSAGE = 50;

/** Where the hub learns of alerts as they are raised or folded (`server.alerts`). */
export interface LiveAlertSource {
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: AlertListener): () => void;
}

/** One event as the live stream sends it (the raw line is left out). */
export interface LiveEvent {
  readonly id: number;
  readonly ts: number;
  readonly receivedAt: number;
  readonly host: string | null;
  readonly program: string | null;
  readonly pid: number | null;
  readonly severity: number | null;
  readonly message: string;
  readonly flags: number;
}

/** Who opened a stream, with the credential it was opened with. */
export interface LiveOwner {
  readonly userId: number;
  readonly passwordHash: string;
  readonly role: Role;
}

interface Client {
  readonly owner: LiveOwner;
  readonly matches: (event: EventRecord) => boolean;
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  /** Returns false once the client's session has ended. */
  readonly stillAllowed: () => boolean;
  skipped: number;
}

const encoder = new TextEncoder();

/**
 * The set of live clients and the poller behind them.
 *
 * @example
 * ```ts
 * const hub = new LiveHub(store);
 * const body = await hub.subscribe({ owner, filter: {}, stillAllowed: () => true });
 * return new Response(body, { headers: { "content-type": "text/event-stream" } });
 * ```
 */
export class LiveHub {
  readonly #store: Store;
  readonly #pollMs: number;
  readonly #clients = new Set<Client>();
  #lastId = -1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #polling = false;
  #closed = false;
  // Alerts pushed since the last tick, by id (a folded alert replaces its older state).
  readonly #alerts = new Map<number, AlertRecord>();
  #alertsOverflow = false;
  readonly #stopAlerts: (() => void) | undefined;

  /**
   * @param store The main thread's store.
   * @param options Poll interval, in ms, and the alert feed whose alerts
   *   every client also receives as `alerts` messages.
   */
  constructor(store: Store, options: { pollMs?: number; alerts?: LiveAlertSource } = {}) {
    this.#store = store;
    this.#pollMs = options.pollMs ?? LIVE_POLL_MS;
    this.#stopAlerts = options.alerts?.subscribe(({ alert }) => this.#holdAlert(alert));
  }

  /** Clients listening now. */
  get clients(): number {
    return this.#clients.size;
  }

  /**
   * Opens a stream for one client. It starts with the newest matching events
   * (or, after a reconnect with `Last-Event-ID`, the ones it missed), then one
   * `events` message per tick that has something for it.
   *
   * @param options Who asks (their own oldest stream ends at
   *   {@linkcode MAX_LIVE_CLIENTS_PER_USER}), the filter, the session check,
   *   and the last id the client saw.
   * @returns The SSE body, or undefined when other users hold every slot.
   */
  async subscribe(
    options: {
      owner: LiveOwner;
      filter: LogFilter;
      stillAllowed: () => boolean;
      lastEventId?: number;
    },
  ): Promise<ReadableStream<Uint8Array> | undefined> {
    if (this.#closed) return undefined;
    const own = [...this.#clients].filter((c) => c.owner.userId === options.owner.userId);
    for (const oldest of own.slice(0, Math.max(0, own.length - MAX_LIVE_CLIENTS_PER_USER + 1))) {
      this.#end(oldest);
    }
    if (this.#clients.size >= MAX_LIVE_CLIENTS) return undefined;
    if (this.#clients.size === 0) await this.#resetCursor();
    const matches = liveMatcher(options.filter);
    // The backlog: recent events only, so a rare filter never scans the table.
    const recent = options.lastEventId !== undefined && options.lastEventId < this.#lastId
      ? await this.#store.queryEvents({
        afterId: Math.max(options.lastEventId, this.#lastId - LIVE_BACKLOG_SCAN),
        limit: LIVE_BACKLOG_SCAN,
      }).then((events) => events.reverse())
      : await this.#store.queryEvents({ limit: LIVE_BACKLOG_SCAN });
    const backlog = recent.filter((e) => e.id <= this.#lastId && matches(e)).slice(
      0,
      LIVE_BACKLOG_EVENTS,
    );
    let client: Client | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = {
          owner: options.owner,
          matches,
          controller,
          stillAllowed: options.stillAllowed,
          skipped: 0,
        };
        this.#clients.add(client);
        // Tells EventSource to wait 2 s before reconnecting after a drop.
        controller.enqueue(encoder.encode("retry: 2000\n\n"));
        this.#send(client, backlog, 0);
      },
      cancel: () => {
        if (client) this.#clients.delete(client);
        if (this.#clients.size === 0) this.#stop();
      },
    }, { highWaterMark: LIVE_CLIENT_BUFFER_BYTES, size: (chunk) => chunk.byteLength });
    this.#start();
    return stream;
  }

  /**
   * Ends the streams whose user was removed, or whose password or role
   * changed since the stream was opened.
   *
   * @param users Every user, as stored now.
   * @returns How many streams ended.
   */
  revalidate(users: readonly UserRecord[]): number {
    const byId = new Map(users.map((user) => [user.id, user]));
    let ended = 0;
    for (const client of this.#clients) {
      if (!sameCredential(client.owner, byId.get(client.owner.userId))) {
        this.#end(client);
        ended++;
      }
    }
    if (ended > 0 && this.#clients.size === 0) this.#stop();
    return ended;
  }

  /** Ends every stream and stops polling. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#stopAlerts?.();
    this.#alerts.clear();
    for (const client of this.#clients) this.#end(client);
    this.#stop();
  }

  async #resetCursor(): Promise<void> {
    const [newest] = await this.#store.queryEvents({ limit: 1 });
    this.#lastId = newest?.id ?? 0;
  }

  #start(): void {
    if (this.#timer !== undefined || this.#closed || this.#clients.size === 0) return;
    this.#timer = setInterval(() => void this.#tick(), this.#pollMs);
    this.#keepalive = setInterval(() => {
      for (const client of this.#clients) this.#write(client, ": keep-alive\n\n");
    }, KEEPALIVE_MS);
  }

  #stop(): void {
    this.#alerts.clear();
    this.#alertsOverflow = false;
    clearInterval(this.#timer);
    clearInterval(this.#keepalive);
    this.#timer = undefined;
    this.#keepalive = undefined;
  }

  /** One poll: read what is new (bounded), then one message per client. */
  async #tick(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      for (const client of this.#clients) {
        if (!client.stillAllowed()) this.#end(client);
      }
      if (this.#clients.size === 0) return this.#stop();
      this.#sendAlerts();
      const [newest] = await this.#store.queryEvents({ limit: 1 });
      const newestId = newest?.id ?? 0;
      if (newestId <= this.#lastId) return;
      let fresh: EventRecord[];
      let skipped = 0;
      if (newestId - this.#lastId > LIVE_MAX_READ_PER_TICK) {
        // Coalesce: keep the newest events, count the rest.
        fresh = await this.#store.queryEvents({
          beforeId: newestId + 1,
          limit: LIVE_MAX_READ_PER_TICK,
        });
        skipped = newestId - this.#lastId - fresh.length;
      } else {
        fresh = (await this.#store.queryEvents({
          afterId: this.#lastId,
          limit: LIVE_MAX_READ_PER_TICK,
        })).reverse();
      }
      this.#lastId = Math.max(this.#lastId, fresh[0]?.id ?? newestId);
      for (const client of this.#clients) {
        this.#send(client, fresh.filter(client.matches), skipped);
      }
    } catch {
      // The store is closing or busy: try again next tick.
    } finally {
      this.#polling = false;
    }
  }

  /** Sends matching events (newest first) as one message. */
  #send(client: Client, matching: EventRecord[], skippedUnread: number): void {
    const extra = Math.max(0, matching.length - LIVE_MAX_EVENTS_PER_MESSAGE);
    client.skipped += extra + skippedUnread;
    if (matching.length === 0 && client.skipped === 0) return;
    if ((client.controller.desiredSize ?? 0) <= 0) {
      // The client does not keep up: drop this message, remember how much.
      client.skipped += matching.length - extra;
      return;
    }
    const events = matching.slice(0, LIVE_MAX_EVENTS_PER_MESSAGE).map(toLiveEvent);
    const data = JSON.stringify({ events, skipped: client.skipped });
    client.skipped = 0;
    this.#write(client, `id: ${this.#lastId}\nevent: events\ndata: ${data}\n\n`);
  }

  /** Keeps an alert for the next tick; runs on the ingest path, so O(1) and only while someone listens. */
  #holdAlert(alert: AlertRecord): void {
    if (this.#clients.size === 0) return;
    if (this.#alerts.has(alert.id) || this.#alerts.size < LIVE_MAX_ALERTS_PER_MESSAGE) {
      this.#alerts.set(alert.id, alert);
    } else {
      this.#alertsOverflow = true;
    }
  }

  /**
   * Sends the alerts held since the last tick to every client, newest update
   * first. A client that does not keep up misses them: the console also polls
   * `GET /api/alerts`, so nothing is lost for good.
   */
  #sendAlerts(): void {
    if (this.#alerts.size === 0 && !this.#alertsOverflow) return;
    const alerts = [...this.#alerts.values()].sort((a, b) =>
      b.updatedAt - a.updatedAt || b.id - a.id
    );
    // No `id:` line: Last-Event-ID keeps naming the last event sent.
    const data = JSON.stringify({ alerts, more: this.#alertsOverflow });
    const text = `event: alerts\ndata: ${data}\n\n`;
    this.#alerts.clear();
    this.#alertsOverflow = false;
    for (const client of this.#clients) {
      if ((client.controller.desiredSize ?? 0) > 0) this.#write(client, text);
    }
  }

  #write(client: Client, text: string): void {
    try {
      client.controller.enqueue(encoder.encode(text));
    } catch {
      this.#clients.delete(client);
    }
  }

  #end(client: Client): void {
    this.#clients.delete(client);
    try {
      client.controller.close();
    } catch {
      // already closed or cancelled
    }
  }
}

function toLiveEvent(e: EventRecord): LiveEvent {
  return {
    id: e.id,
    ts: e.ts,
    receivedAt: e.receivedAt,
    host: e.host,
    program: e.program,
    pid: e.pid,
    severity: e.severity,
    message: e.message,
    flags: e.flags,
  };
}
