/**
 * The storage seam of the server. Workers, the CLI and the web console depend
 * only on {@linkcode Store}; `sqlite_store.ts` implements it on node:sqlite and
 * every implementation must pass `store_conformance.ts`.
 *
 * @module
 */

import type { SecurityStore } from "./security_store.ts";

/** Role of a user account. `agent` may only ship events; `viewer` may read; `admin` may do everything. */
export type Role = "admin" | "viewer" | "agent";

/** All roles, most privileged first. */
export const ROLES: readonly Role[] = ["admin", "viewer", "agent"];

/** A stored user account. */
export interface UserRecord {
  /** Row id. */
  readonly id: number;
  /** Login name, unique. */
  readonly username: string;
  /** Self-describing hash from `server/auth/password.ts`; never the password. */
  readonly passwordHash: string;
  /** What the account may do. */
  readonly role: Role;
  /** When the account was created, ms since the epoch. */
  readonly createdAt: number;
}

/** Event flags, a bit set stored with each event. */
export const EVENT_FLAGS = {
  /** The line matched none of the known log formats and was stored whole. */
  unparsed: 1,
  /** The event reports bytes an agent could not deliver (see docs/DELIVERY.md). */
  gap: 2,
  /** The event was produced by NMS itself (logins, registrations). */
  internal: 4,
  /** The message was longer than the server keeps and was cut (syslog receiver). */
  truncated: 8,
  /**
   * The message was not UTF-8: its text holds each invalid byte as `\xNN` and
   * each backslash as `\\`, so `encodeLogText()` gives back the exact bytes
   * (syslog receiver; server/log_formats/log_bytes.ts).
   */
  escaped: 16,
} as const;

/**
 * A batch of events to append, in columns: one array entry per event. Columns
 * cross threads far cheaper than one object per event.
 */
export interface EventBatch {
  /** Number of events: the length of every column. */
  readonly count: number;
  /** Milliseconds since the epoch when the server received each event. */
  readonly receivedAt: number;
  /** Event time (ms since the epoch), parsed from the line or else the receive time. */
  readonly ts: Float64Array;
  /** Host named by each line, or null. */
  readonly host: (string | null)[];
  /** Program (syslog tag) of each line, or null. */
  readonly program: (string | null)[];
  /** Process id, or -1 when the line has none. */
  readonly pid: Int32Array;
  /** Syslog severity 0 (emergency) to 7 (debug), or -1 when unknown. */
  readonly severity: Int8Array;
  /** Syslog facility 0 to 23, or -1 when unknown. */
  readonly facility: Int8Array;
  /** Message of each line: the text after its header, or the whole line. */
  readonly message: string[];
  /** The line exactly as received. */
  readonly raw: string[];
  /** Bit set of {@linkcode EVENT_FLAGS}. */
  readonly flags: Uint8Array;
  /** Registered agent that sent the batch, or null. */
  readonly agentId: number | null;
  /** Origin stream of each event (`EVENT` command), or null for plain `BATCH_EVENT`. */
  readonly stream: (string | null)[];
  /** Origin position of each event within its stream, or -1 without a stream. */
  readonly position: Float64Array;
  /**
   * Where each message starts in its raw line, or -1 when it is not the raw
   * line's end; absent when not known (stores then compare the two).
   */
  readonly messageStart?: Int32Array;
  // Syslog receiver (server/syslog/): optional columns, absent for most batches.
  /** RFC 5424 MSGID or Cisco mnemonic per event, or null; absent when no event has one. */
  readonly msgid?: (string | null)[];
  /** RFC 5424 STRUCTURED-DATA per event as received, or null; absent when no event has one. */
  readonly structuredData?: (string | null)[];
  /** Syslog senders of the batch, applied to the sources table in the same transaction. */
  readonly sources?: readonly SourceUpdate[];
}

/** How a syslog sender reached the server. */
export type SyslogTransport = "udp" | "tcp" | "tls";

/** What one batch adds to a syslog sender's record; one entry per sender address. */
export interface SourceUpdate {
  /** The sender's IP address (no port). */
  readonly address: string;
  /** How the sender reached the server. */
  readonly transport: SyslogTransport;
  /** The hostname the sender's last message of the batch reported, or null when none did. */
  readonly hostname: string | null;
  /** Events the batch holds from this sender. */
  readonly events: number;
  /** Of those, events no known format matched. */
  readonly unparsed: number;
  /** When they were received, ms since the epoch. */
  readonly at: number;
}

/** A device or host that sends plain syslog, identified by its address. */
export interface SourceRecord {
  /** Row id. */
  readonly id: number;
  /** IP address the messages come from. */
  readonly address: string;
  /** Hostname reported in its latest message that named one, or null. */
  readonly hostname: string | null;
  /** Transport of its latest messages. */
  readonly transport: SyslogTransport;
  /** When its first message arrived, ms since the epoch. */
  readonly firstSeen: number;
  /** When its latest message arrived. */
  readonly lastSeen: number;
  /** Events stored from it. */
  readonly events: number;
  /** Of those, events no known format matched (stored raw). */
  readonly unparsed: number;
}

/** Outcome of one event of an appended batch. */
export const APPEND_STATUS = {
  stored: 0,
  /** Its origin (stream, position) was already stored; nothing was written. */
  duplicate: 1,
} as const;

/** A node that registered with REGISTER. */
export interface AgentRegistration {
  /** Hostname the agent reported. */
  readonly hostname: string;
  /** Version the agent reported. */
  readonly version: string;
  /** Operating system the agent reported. */
  readonly os: string;
  /** Remote address of the connection, `ip:port`. */
  readonly address: string;
  /** When it registered, ms since the epoch. */
  readonly at: number;
}

/** A heartbeat from a registered node. */
export interface HeartbeatRecord {
  /** The node that sent it. */
  readonly agentId: number;
  /** Seconds the agent had been running. */
  readonly uptimeSeconds: number;
  /** Bytes the agent is behind, when it reported them. */
  readonly lagBytes: number | null;
  /** When it arrived, ms since the epoch. */
  readonly at: number;
}

/** A stored node. Status is derived from these fields by `server/liveness/agent_status.ts`. */
export interface AgentRecord {
  /** Row id; events name their node by it. */
  readonly id: number;
  /** Hostname of its latest registration. */
  readonly hostname: string;
  /** Agent version of its latest registration. */
  readonly version: string;
  /** Operating system of its latest registration. */
  readonly os: string;
  /** Remote address of its latest connection, `ip:port`. */
  readonly address: string;
  /** When it first registered, ms since the epoch. */
  readonly firstSeen: number;
  /** When it last registered, sent a heartbeat or said BYE, ms since the epoch. */
  readonly lastSeen: number;
  /** When its latest heartbeat arrived, or null before the first. */
  readonly lastHeartbeat: number | null;
  /** Agent uptime of its latest heartbeat, or null before the first. */
  readonly uptimeSeconds: number | null;
  /** Bytes behind in its latest heartbeat, or null when not reported. */
  readonly lagBytes: number | null;
  /** When the node said BYE, or null if it has not since it last registered. */
  readonly stoppedAt: number | null;
}

/**
 * The status of a node, as the console and the CLI show it:
 *
 * - `alive`: heartbeat within one interval (plus grace), or registered recently without one;
 * - `late`: one heartbeat missed;
 * - `disconnected`: no heartbeat for 3 intervals, or its connection was lost without BYE;
 * - `stopped`: said BYE on a clean shutdown;
 * - `never_seen`: registered but never sent a heartbeat, and silent or gone.
 */
export type AgentStatus = "alive" | "late" | "disconnected" | "stopped" | "never_seen";

/** Every status, in the order the console lists them. */
export const AGENT_STATUSES: readonly AgentStatus[] = [
  "alive",
  "late",
  "disconnected",
  "stopped",
  "never_seen",
];

/**
 * A change to a node, applied by {@linkcode Store.applyAgentChanges}:
 * `register` (REGISTER), `heartbeat` (HEARTBEAT), `stop` (BYE) and
 * `disconnect` (its last connection closed without BYE).
 */
export type AgentChange =
  | { readonly kind: "register"; readonly registration: AgentRegistration }
  | { readonly kind: "heartbeat"; readonly heartbeat: HeartbeatRecord }
  | { readonly kind: "stop"; readonly agentId: number; readonly at: number }
  | {
    readonly kind: "disconnect";
    readonly agentId: number;
    readonly at: number;
    /**
     * The last REGISTER or HEARTBEAT the closed connection carried (ms since
     * the epoch): a node heard from later, through another connection or
     * another server, stays connected.
     */
    readonly lastContact: number;
  };

/** What {@linkcode Store.applyAgentChanges} did with one change. */
export interface AgentChangeResult {
  /** The node's id (every kind). */
  readonly agentId: number;
  /** For `register`: whether the hostname was new. */
  readonly created: boolean;
}

/**
 * The two instants that split a node's last heartbeat into alive, late and
 * silent (`server/liveness/agent_status.ts` computes them from the clock and the
 * heartbeat interval).
 */
export interface StatusCutoffs {
  /** A heartbeat before this time (ms since the epoch) is late. */
  readonly lateBefore: number;
  /** A heartbeat (or a registration without one) before this time is silent. */
  readonly silentBefore: number;
}

/** A span of the silence cutoff, for {@linkcode Store.listAgentsFallenSilent}. */
export interface SilenceSpan {
  /** The previous cutoff (inclusive), ms since the epoch. */
  readonly since: number;
  /** The current cutoff (exclusive), ms since the epoch. */
  readonly before: number;
}

/** Orders of {@linkcode Store.queryAgents}; ties are broken by node id. */
export const AGENT_SORTS: readonly AgentSort[] = [
  "hostname",
  "lastSeen",
  "lastHeartbeat",
  "registeredAt",
];

/** One of {@linkcode AGENT_SORTS}. */
export type AgentSort = "hostname" | "lastSeen" | "lastHeartbeat" | "registeredAt";

/** Largest page of {@linkcode Store.queryAgents}. */
export const MAX_AGENT_PAGE = 500;

/** Default page of {@linkcode Store.queryAgents}. */
export const DEFAULT_AGENT_PAGE = 100;

/** Largest offset of {@linkcode AgentQuery}: beyond any fleet, and a bound on the rows a request skips. */
export const MAX_AGENT_OFFSET = 10_000_000;

/** The text filters of {@linkcode AgentQuery}, by field name. */
export const AGENT_FILTER_KEYS: readonly AgentFilterKey[] = ["name", "os", "version", "address"];

/** One of {@linkcode AGENT_FILTER_KEYS}. */
export type AgentFilterKey = "name" | "os" | "version" | "address";

/** Longest filter text of {@linkcode AgentQuery}, in characters; longer ones are refused. */
export const MAX_AGENT_FILTER_CHARS = 256;

/**
 * Longest cursor of {@linkcode AgentQuery.after}, in characters: a node's
 * sort key (a hostname at most) and id, encoded; longer ones are refused.
 */
export const MAX_AGENT_CURSOR_CHARS = 1_024;

/** The alphabet of a cursor of {@linkcode AgentQuery.after}: base64url without padding. */
export const AGENT_CURSOR_PATTERN = /^[A-Za-z0-9_-]+$/;

/** How the text filters of {@linkcode AgentQuery} match. */
export const AGENT_MATCHES: readonly AgentMatch[] = ["contains", "prefix"];

/**
 * One of {@linkcode AGENT_MATCHES}: `contains` reads every node the other
 * conditions leave; `prefix` is a range of an index per column.
 */
export type AgentMatch = "contains" | "prefix";

/** Filters, order and page of {@linkcode Store.queryAgents}; filters combine with AND. */
export interface AgentQuery {
  /** Where the clock stands: what is alive, late or silent. */
  readonly cutoffs: StatusCutoffs;
  /** Only nodes with this status. */
  readonly status?: AgentStatus;
  /** Case-insensitive (ASCII) substring of the hostname, matched literally. */
  readonly name?: string;
  /** Case-insensitive (ASCII) substring of the OS, matched literally. */
  readonly os?: string;
  /** Case-insensitive (ASCII) substring of the agent version, matched literally. */
  readonly version?: string;
  /** Case-insensitive (ASCII) substring of the address (`ip:port`), matched literally. */
  readonly address?: string;
  /**
   * Whether the text filters match anywhere in the value or at its start
   * (ASCII case-insensitively, literally either way).
   * @default {"contains"}
   */
  readonly match?: AgentMatch;
  /**
   * Order of the page.
   * @default {"hostname"}
   */
  readonly sort?: AgentSort;
  /**
   * Whether the order is reversed.
   * @default {false}
   */
  readonly descending?: boolean;
  /**
   * Matching nodes to skip (not with {@linkcode AgentQuery.after}).
   * @default {0}
   */
  readonly offset?: number;
  /**
   * Start after this node: the {@linkcode AgentPage.next} of the previous
   * page, for the same order. Costs the same on any page, unlike an offset.
   */
  readonly after?: string;
  /**
   * Most nodes returned (up to {@linkcode MAX_AGENT_PAGE}).
   * @default {DEFAULT_AGENT_PAGE}
   */
  readonly limit?: number;
}

/** A node with its status, as {@linkcode Store.queryAgents} lists it. */
export interface AgentRow extends AgentRecord {
  /** Status worked out from the connection state and the clock at the query. */
  readonly status: AgentStatus;
  /** When its last connection closed without BYE, or null while connected (or stopped). */
  readonly disconnectedAt: number | null;
}

/** One page of {@linkcode Store.queryAgents}. */
export interface AgentPage {
  /** The nodes of this page, in the requested order. */
  readonly agents: AgentRow[];
  /** Nodes matching every filter, status included. */
  readonly total: number;
  /** Nodes matching the filters other than status, per status. */
  readonly counts: Record<AgentStatus, number>;
  /**
   * Cursor of the next page ({@linkcode AgentQuery.after}), or null when
   * this page is the last: an opaque string.
   */
  readonly next: string | null;
}

/** A stored event as read back. */
export interface EventRecord {
  /** Row id, increasing in the order events were stored. */
  readonly id: number;
  /** When the server received it, ms since the epoch. */
  readonly receivedAt: number;
  /** Event time, ms since the epoch: parsed from the line or else the receive time. */
  readonly ts: number;
  /** Host named by the line, or null. */
  readonly host: string | null;
  /** Registered node that sent it, or null. */
  readonly agentId: number | null;
  /** Program (syslog tag), or null. */
  readonly program: string | null;
  /** Process id, or null. */
  readonly pid: number | null;
  /** Syslog severity 0 (emergency) to 7 (debug), or null. */
  readonly severity: number | null;
  /** Syslog facility 0 to 23, or null. */
  readonly facility: number | null;
  /** The message: the text after the header, or the whole line. */
  readonly message: string;
  /** The line exactly as received. */
  readonly raw: string;
  /** Bit set of {@linkcode EVENT_FLAGS}. */
  readonly flags: number;
  /** RFC 5424 MSGID or Cisco mnemonic (syslog receiver), or null. */
  readonly msgid?: string | null;
  /** RFC 5424 STRUCTURED-DATA as received (syslog receiver), or null. */
  readonly structuredData?: string | null;
}

/** Filters of {@linkcode Store.queryEvents}; all optional and combined with AND. */
export interface EventQuery {
  /** Only events of this host, exactly. */
  readonly host?: string;
  /** Only events of this program, exactly. */
  readonly program?: string;
  /** Substring of the line, matched literally and case-sensitively (no wildcards). */
  readonly contains?: string;
  /**
   * Full-text keywords: every whitespace-separated word must appear in the
   * line (case-insensitively), and each of its letter/digit runs must start a
   * word of the program or message. Served by the full-text index, plus a scan
   * of the newest events the index has not reached yet, so nothing is missed.
   */
  readonly text?: string;
  /** Only events at least this severe (numerically at most this value). */
  readonly maxSeverity?: number;
  /** Event time from, inclusive, ms since the epoch. */
  readonly sinceMs?: number;
  /** Event time until, exclusive, ms since the epoch. */
  readonly untilMs?: number;
  /** Only ids below this one (cursor for older pages). */
  readonly beforeId?: number;
  /** Only ids above this one (cursor for following new events); results then come oldest first. */
  readonly afterId?: number;
  /**
   * Most events to return.
   * @default {100}
   */
  readonly limit?: number;
}

/** Options of {@linkcode Store.countEvents}. */
export interface CountOptions {
  /**
   * Stop counting at this many matches.
   * @default {unbounded}
   */
  readonly atMost?: number;
}

/** Options of {@linkcode Store.digestEvents}. */
export interface DigestOptions {
  /** Most digests returned. */
  readonly limit: number;
  /** Literal, case-sensitive substrings of the message that set {@linkcode EventDigest.marked}. */
  readonly markSubstrings: readonly string[];
}

/** The fields of one event that statistics need. */
export interface EventDigest {
  /** Row id of the event. */
  readonly id: number;
  /** Event time, ms since the epoch. */
  readonly ts: number;
  /** Host named by the line, or null. */
  readonly host: string | null;
  /** Program (syslog tag), or null. */
  readonly program: string | null;
  /** Syslog severity, or null. */
  readonly severity: number | null;
  /** Registered node that sent it, or null. */
  readonly agentId: number | null;
  /** Whether the message contains one of {@linkcode DigestOptions.markSubstrings}. */
  readonly marked: boolean;
}

/** The storage backend of the server. Every method may be called from any thread that opened its own Store. */
export interface Store {
  /**
   * Appends events in one transaction: all are stored or none is.
   *
   * @param batches Batches to store, in order.
   * @param options `eventIds`: arrays to fill with the ids of the stored events.
   * @returns For each batch, one {@linkcode APPEND_STATUS} per event.
   */
  appendEvents(batches: readonly EventBatch[], options?: AppendOptions): Promise<Uint8Array[]>;
  /**
   * Creates or updates the node with this hostname; clears its stopped mark.
   *
   * @returns The node's id.
   */
  registerAgent(registration: AgentRegistration): Promise<number>;
  /** Records a heartbeat: last seen, uptime and lag. */
  recordHeartbeat(heartbeat: HeartbeatRecord): Promise<void>;
  /** Marks a node as cleanly stopped (it said BYE). */
  markAgentStopped(agentId: number, at: number): Promise<void>;
  /**
   * Applies node changes in order, in one transaction: what a group commit
   * of the writer collected. Each costs an indexed lookup or update, however
   * many nodes are known. Changes of unknown ids are ignored.
   *
   * @param changes REGISTER, HEARTBEAT, BYE and lost connections, in order.
   * @returns One result per change.
   */
  applyAgentChanges(changes: readonly AgentChange[]): Promise<AgentChangeResult[]>;
  /** Lists all nodes, ordered by hostname (the CLI and small tools; the console pages). */
  listAgents(): Promise<AgentRecord[]>;
  /**
   * The nodes that fell silent within a span of the silence cutoff: not
   * stopped, with a last heartbeat (or, without one, a last registration)
   * at or after `span.since` and before `span.before`. Ranges of the
   * liveness index: the cost follows the nodes returned, not the nodes
   * known.
   *
   * @param span The previous and the current silence cutoff, ms since the epoch.
   * @returns Those nodes, in no particular order.
   */
  listAgentsFallenSilent(span: SilenceSpan): Promise<AgentRecord[]>;
  /**
   * One page of nodes with their status, and the counts per status: every
   * filter is a bound parameter, every order follows an index.
   *
   * @param query Cutoffs of the clock, filters, order and page.
   * @returns The page, the number of matches and the counts per status.
   * @throws {StoreError} `invalid` for a page size, offset or filter out of bounds.
   */
  queryAgents(query: AgentQuery): Promise<AgentPage>;
  /**
   * Lists the syslog senders (server/syslog/), ordered by hostname, then address.
   *
   * @returns The sources recorded from {@linkcode EventBatch.sources}; at most
   * 10,000, the most recently seen.
   */
  listSources(): Promise<SourceRecord[]>;

  /** Finds a user by name. */
  findUser(username: string): Promise<UserRecord | undefined>;
  /** Lists all users, ordered by name. */
  listUsers(): Promise<UserRecord[]>;
  /**
   * Creates a user.
   *
   * @throws {StoreError} When the name is taken.
   */
  createUser(username: string, passwordHash: string, role: Role): Promise<UserRecord>;
  /** Replaces a user's password hash. @returns Whether the user exists. */
  setPasswordHash(username: string, passwordHash: string): Promise<boolean>;
  /** Deletes a user. @returns Whether the user existed. */
  removeUser(username: string): Promise<boolean>;
  /** Counts users (zero means the admin must be bootstrapped). */
  countUsers(): Promise<number>;

  /** Queries events, newest first (oldest first with `afterId`). */
  queryEvents(query: EventQuery): Promise<EventRecord[]>;
  /**
   * Counts stored events: all of them, or with a query only the matching ones
   * (its `limit`, `beforeId` and `afterId` ignored), stopping at `atMost`.
   *
   * @param query Filters, as for {@linkcode queryEvents}.
   * @param options `atMost`: stop counting there, so a count stays cheap on a large table.
   * @returns The count, at most `atMost`.
   */
  countEvents(query?: EventQuery, options?: CountOptions): Promise<number>;

  // Web console reads (server/dashboard/): all bounded and indexed.

  /**
   * Reads a compact digest of events with ids above `afterId`, oldest first:
   * what the console's statistics need, without the message text.
   *
   * @param afterId Only ids above this one.
   * @param options Page size and the substrings that mark an event (failed logins).
   * @returns At most `limit` digests.
   */
  digestEvents(afterId: number, options: DigestOptions): Promise<EventDigest[]>;
  /**
   * The id of the earliest event (by event time) at or after `sinceMs`, found
   * through the time index: where a scan of recent events starts.
   *
   * @returns The id, or null when no event is that recent.
   */
  firstEventIdSince(sinceMs: number): Promise<number | null>;
  /** Changes a user's role. @returns Whether the user exists. */
  setUserRole(username: string, role: Role): Promise<boolean>;

  // Alerts (server/rules/, docs/RULES.md).

  /**
   * Lists alerts, most recently raised or updated first.
   *
   * @param query Filters and page size.
   * @returns At most `limit` alerts.
   */
  listAlerts(query?: AlertQuery): Promise<AlertRecord[]>;
  /**
   * Counts alerts matching the filters (for the console's badge).
   *
   * @param query `sinceMs` and `minLevel`, as for {@linkcode listAlerts}.
   * @returns The count.
   */
  countAlerts(query?: AlertQuery): Promise<number>;

  /**
   * Counts events per time bucket (e.g. per minute for the last hour), using
   * the event-time index only.
   *
   * @param range Time range (ms since the epoch) and bucket width in ms.
   * @returns One entry per non-empty bucket, oldest first; `start` is the bucket's start.
   */
  eventHistogram(
    range: { sinceMs: number; untilMs: number; bucketMs: number },
  ): Promise<{ start: number; count: number }[]>;

  /**
   * Adds up to `maxRows` stored events, oldest first, to the full-text index
   * that {@linkcode EventQuery.text} uses. Run by the writer when it is idle, so
   * full-text indexing never slows ingest down. Backends whose index is kept in
   * the insert itself need not implement it.
   *
   * @param maxRows Most events indexed by this step.
   * @param maxBytes Stops adding events once their raw lines reach this many
   *   bytes (at least one event is indexed): a step of long lines stays short.
   * @returns How many events were indexed (0 when the index is complete).
   */
  indexText?(maxRows: number, maxBytes?: number): Promise<number>;
  /**
   * Adds the newest stored events to the indexes the backend fills behind
   * ingest rather than in each insert (SQLite: by host and by origin) once at
   * least `minRows` have gathered above them. Run by the writer after each
   * commit, so a query by host never reads more than about one step's worth of
   * rows outside the index, and the writer's memory of the origins above it
   * stays small. Backends that keep those indexes in the insert need not
   * implement it.
   *
   * @param minRows Fewest events worth a step; the backend's own batch size
   *   when omitted.
   * @returns How many events the step went past (0 when fewer waited).
   */
  indexDeferred?(minRows?: number): Promise<number>;
  /**
   * How many stored events the full-text index has not reached yet (with
   * {@linkcode indexText}).
   *
   * @returns The number of events behind.
   */
  textIndexLag?(): Promise<number>;
  /**
   * SQLite only: the writer's connection stops checkpointing its write-ahead
   * log until the log reaches `safetyPages`, because another connection
   * (server/checkpointer.ts) takes over. Returns the database file for that
   * connection, or null (in-memory database) when checkpoints stay here.
   *
   * @param safetyPages Log size at which this connection checkpoints anyway.
   * @returns The database file, or null.
   */
  deferCheckpoints?(safetyPages: number): string | null;

  // Retention and storage (server/retention.ts, docs/PRODUCTION.md).

  /**
   * One bounded retention step, run by the writer between group commits: deletes
   * at most `maxRows` of the oldest events (by receive order) that are too old
   * or over the size limit, their full-text entries, and returns up to
   * `reclaimBytes` of free pages to the file system. The newest event is always
   * kept, so event ids are never reused. Backends without it keep everything.
   *
   * @param policy What is too old or too much, and the step's bounds.
   * @returns What the step did and whether another step has work left.
   */
  pruneEvents?(policy: PrunePolicy): Promise<PruneStep>;
  /**
   * Size of the store and its oldest event, for the console and `/metrics`.
   *
   * @returns The figures; sizes are null when the backend cannot tell.
   */
  storageInfo?(): Promise<StorageInfo>;

  // Security (server/auth/, docs/SECURITY.md).

  /** Agent tokens, login-failure counters and the audit trail (`security_store.ts`). */
  readonly security: SecurityStore;

  /** Releases the connection. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@linkcode Store.appendEvents}. */
export interface AppendOptions {
  /**
   * One array per batch (null to skip a batch), sized to its event count by
   * the caller: filled with the id of each stored event, left as is for
   * duplicates. The rule engine uses it to link alerts to their events.
   * @default {undefined}
   */
  readonly eventIds?: readonly (Float64Array | null)[];
  /**
   * The alerts the group raises, stored or folded in the same transaction as
   * its events, so that no crash keeps the events without their alerts.
   * @default {undefined}
   */
  readonly alerts?: GroupAlerts;
}

/**
 * The alerts of one group commit ({@linkcode AppendOptions.alerts}). Each is
 * folded into the newest stored alert with the same `foldKey` when that one's
 * `lastSeen` is at most `foldWindowMs` before this one's `firstSeen` (count
 * added, `lastSeen` raised, event ids appended up to
 * {@linkcode MAX_ALERT_EVENT_IDS}); else it is inserted as a new alert. A
 * failure to collect or store them rolls back only the alerts (a savepoint):
 * the events are committed, and `error` says what went wrong.
 */
export interface GroupAlerts {
  /**
   * Called inside the transaction once the rows are written, with each
   * batch's statuses (`eventIds` filled); may be called again if the store
   * retries the transaction.
   */
  collect(statuses: readonly Uint8Array[]): readonly AlertUpsert[];
  /** The time the alerts are updated at (ms since the epoch). */
  readonly at: number;
  /** Filled by the store: the stored or folded alerts, one per upsert, in order. */
  readonly stored: AlertRecord[];
  /** Set by the store when the alerts could not be stored. */
  error?: Error;
}

/** Most event ids kept with one alert: the first ones; its count keeps rising past it. */
export const MAX_ALERT_EVENT_IDS = 100;

/** Largest page of {@linkcode Store.listAlerts}. */
export const MAX_ALERT_QUERY_LIMIT = 1_000;

/** Default page of {@linkcode Store.listAlerts}. */
export const DEFAULT_ALERT_QUERY_LIMIT = 100;

/** One or more occurrences of an alert, to store or fold (see {@linkcode GroupAlerts}). */
export interface AlertUpsert {
  /** The rule that raised it. */
  readonly ruleId: number;
  /** 1-15, as the rule says. */
  readonly level: number;
  /** The rule's description. */
  readonly description: string;
  /** Identity for folding: rule id and the values of the rule's `foldBy` fields. */
  readonly foldKey: string;
  /** The values of the rule's `foldBy` fields, e.g. `{ "srcip": "203.0.113.7" }`. */
  readonly fields: Readonly<Record<string, string>>;
  /** Events that triggered it, oldest first. */
  readonly eventIds: readonly number[];
  /** Event time of the first triggering event, ms since the epoch. */
  readonly firstSeen: number;
  /** Event time of the last triggering event, ms since the epoch. */
  readonly lastSeen: number;
  /** Occurrences folded into this upsert. */
  readonly count: number;
  /** Fold into the previous alert with this key when it was last seen this recently; 0 never folds. */
  readonly foldWindowMs: number;
}

/** A stored alert, as listed by the CLI, the console and the webhook (JSON shape in docs/RULES.md). */
export interface AlertRecord {
  /** Row id. */
  readonly id: number;
  /** The rule that raised it. */
  readonly ruleId: number;
  /** 1-15, as the rule says. */
  readonly level: number;
  /** The rule's description. */
  readonly description: string;
  /** The values of the rule's `foldBy` fields. */
  readonly fields: Readonly<Record<string, string>>;
  /** The first triggering events' ids (at most {@linkcode MAX_ALERT_EVENT_IDS}). */
  readonly eventIds: readonly number[];
  /** Event time of the first occurrence, ms since the epoch. */
  readonly firstSeen: number;
  /** Event time of the last occurrence, ms since the epoch. */
  readonly lastSeen: number;
  /** Occurrences folded into this alert. */
  readonly count: number;
  /** Server time when it was raised or last folded, ms since the epoch. */
  readonly updatedAt: number;
}

/** Filters of {@linkcode Store.listAlerts} and {@linkcode Store.countAlerts}. */
export interface AlertQuery {
  /** Only alerts raised or updated at or after this server time, ms since the epoch. */
  readonly sinceMs?: number;
  /** Only alerts of at least this level. */
  readonly minLevel?: number;
  /**
   * Most alerts returned (up to {@linkcode MAX_ALERT_QUERY_LIMIT}).
   * @default {100}
   */
  readonly limit?: number;
}

// Retention and storage.

/** What {@linkcode Store.pruneEvents} deletes in one step. */
export interface PrunePolicy {
  /** Delete events received before this time, ms since the epoch; absent: no age limit. */
  readonly receivedBeforeMs?: number;
  /** Delete the oldest events while the stored data takes more than this, in bytes; absent: no size limit. */
  readonly maxBytes?: number;
  /** Most events deleted by this step. */
  readonly maxRows: number;
  /**
   * Most bytes of free pages handed back to the file system by this step
   * (rounded up to whole pages).
   * @default {0}
   */
  readonly reclaimBytes?: number;
}

/** The outcome of one {@linkcode Store.pruneEvents} step. */
export interface PruneStep {
  /** Events deleted. */
  readonly deleted: number;
  /** Bytes the database file shrank by. */
  readonly reclaimedBytes: number;
  /** Whether another step would delete or reclaim more. */
  readonly more: boolean;
}

/** Figures of {@linkcode Store.storageInfo}. */
export interface StorageInfo {
  /** Receive time of the oldest stored event, ms since the epoch, or null when there is none. */
  readonly oldestReceivedAt: number | null;
  /** Event time of the oldest stored event (by receive order), or null when there is none. */
  readonly oldestEventTs: number | null;
  /** Bytes the data takes (free pages excluded), or null when unknown. */
  readonly usedBytes: number | null;
  /** Bytes of the database file, or null when unknown. */
  readonly fileBytes: number | null;
}

/** A storage failure that callers are expected to handle, e.g. a duplicate user name. */
export class StoreError extends Error {
  /**
   * @param message What failed, naming the offending value.
   * @param code A stable code callers may branch on.
   */
  constructor(message: string, readonly code: "conflict" | "not_found" | "invalid") {
    super(message);
    this.name = "StoreError";
  }
}
