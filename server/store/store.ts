/**
 * The storage seam of the server. Workers, the CLI and the web console depend
 * only on {@linkcode Store}; `sqlite_store.ts` implements it on node:sqlite and
 * every implementation must pass `store_conformance.ts`.
 *
 * @module
 */

/** Role of a user account. `agent` may only ship events; `viewer` may read; `admin` may do everything. */
export type Role = "admin" | "viewer" | "agent";

/** All roles, most privileged first. */
export const ROLES: readonly Role[] = ["admin", "viewer", "agent"];

/** A stored user account. */
export interface UserRecord {
  readonly id: number;
  readonly username: string;
  /** Self-describing hash from `server/auth/password.ts`; never the password. */
  readonly passwordHash: string;
  readonly role: Role;
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
} as const;

/**
 * A batch of events to append, in columns: one array entry per event. Columns
 * cross threads far cheaper than one object per event.
 */
export interface EventBatch {
  readonly count: number;
  /** Milliseconds since the epoch when the server received each event. */
  readonly receivedAt: number;
  /** Event time (ms since the epoch), parsed from the line or else the receive time. */
  readonly ts: Float64Array;
  readonly host: (string | null)[];
  readonly program: (string | null)[];
  /** Process id, or -1 when the line has none. */
  readonly pid: Int32Array;
  /** Syslog severity 0 (emergency) to 7 (debug), or -1 when unknown. */
  readonly severity: Int8Array;
  /** Syslog facility 0 to 23, or -1 when unknown. */
  readonly facility: Int8Array;
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
}

/** Outcome of one event of an appended batch. */
export const APPEND_STATUS = {
  stored: 0,
  /** Its origin (stream, position) was already stored; nothing was written. */
  duplicate: 1,
} as const;

/** A node that registered with REGISTER. */
export interface AgentRegistration {
  readonly hostname: string;
  readonly version: string;
  readonly os: string;
  /** Remote address of the connection, `ip:port`. */
  readonly address: string;
  readonly at: number;
}

/** A heartbeat from a registered node. */
export interface HeartbeatRecord {
  readonly agentId: number;
  readonly uptimeSeconds: number;
  /** Bytes the agent is behind, when it reported them. */
  readonly lagBytes: number | null;
  readonly at: number;
}

/** A stored node. Status is derived from these fields by `server/agent_status.ts`. */
export interface AgentRecord {
  readonly id: number;
  readonly hostname: string;
  readonly version: string;
  readonly os: string;
  readonly address: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly lastHeartbeat: number | null;
  readonly uptimeSeconds: number | null;
  readonly lagBytes: number | null;
  /** When the node said BYE, or null if it has not since it last registered. */
  readonly stoppedAt: number | null;
}

/** A stored event as read back. */
export interface EventRecord {
  readonly id: number;
  readonly receivedAt: number;
  readonly ts: number;
  readonly host: string | null;
  readonly agentId: number | null;
  readonly program: string | null;
  readonly pid: number | null;
  readonly severity: number | null;
  readonly facility: number | null;
  readonly message: string;
  readonly raw: string;
  readonly flags: number;
}

/** Filters of {@linkcode Store.queryEvents}; all optional and combined with AND. */
export interface EventQuery {
  readonly host?: string;
  readonly program?: string;
  /** Substring of the message, matched literally (no wildcards). */
  readonly contains?: string;
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

/** The storage backend of the server. Every method may be called from any thread that opened its own Store. */
export interface Store {
  /**
   * Appends events in one transaction: all are stored or none is.
   *
   * @param batches Batches to store, in order.
   * @returns For each batch, one {@linkcode APPEND_STATUS} per event.
   */
  appendEvents(batches: readonly EventBatch[]): Promise<Uint8Array[]>;
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
  /** Lists all nodes, ordered by hostname. */
  listAgents(): Promise<AgentRecord[]>;

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
  /** Counts all stored events. */
  countEvents(): Promise<number>;

  /** Releases the connection. Idempotent. */
  close(): Promise<void>;
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
