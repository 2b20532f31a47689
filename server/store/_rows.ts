/**
 * Mapping database rows to the Store's records, shared by the SQLite and
 * PostgreSQL stores and their security stores (their tables have the same
 * column names).
 *
 * @module
 */

import type { AuditRecord, TokenRecord } from "./security_store.ts";
import type {
  AgentRecord,
  AlertRecord,
  EventRecord,
  Role,
  SourceRecord,
  UserRecord,
} from "./store.ts";

/** A row as either driver returns it: column name to value. */
export type Row = Record<string, unknown>;

/** A number, or null for SQL NULL. */
export function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A string, or null for SQL NULL. */
export function nullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** A `users` row as a {@linkcode UserRecord}. */
export function toUser(row: Row): UserRecord {
  return {
    id: Number(row.id),
    username: String(row.username),
    passwordHash: String(row.password_hash),
    role: String(row.role) as Role,
    createdAt: Number(row.created_at),
  };
}

/** An `agents` row as an {@linkcode AgentRecord}. */
export function toAgent(row: Row): AgentRecord {
  return {
    id: Number(row.id),
    hostname: String(row.hostname),
    version: String(row.version),
    os: String(row.os),
    address: String(row.address),
    firstSeen: Number(row.first_seen),
    lastSeen: Number(row.last_seen),
    lastHeartbeat: nullableNumber(row.last_heartbeat),
    uptimeSeconds: nullableNumber(row.uptime_seconds),
    lagBytes: nullableNumber(row.lag_bytes),
    stoppedAt: nullableNumber(row.stopped_at),
  };
}

/** An `alerts` row as an {@linkcode AlertRecord}. */
export function toAlert(row: Row): AlertRecord {
  return {
    id: Number(row.id),
    ruleId: Number(row.rule_id),
    level: Number(row.level),
    description: String(row.description),
    fields: JSON.parse(String(row.fields)) as Record<string, string>,
    eventIds: JSON.parse(String(row.event_ids)) as number[],
    firstSeen: Number(row.first_seen),
    lastSeen: Number(row.last_seen),
    count: Number(row.count),
    updatedAt: Number(row.updated_at),
  };
}

/**
 * A `logs` row as an {@linkcode EventRecord}. A NULL `message` (SQLite keeps
 * only the offset of the message in the raw line) is cut from `raw` at `msg_start`.
 */
export function toEvent(row: Row): EventRecord {
  return {
    id: Number(row.id),
    receivedAt: Number(row.received_at),
    ts: Number(row.ts),
    host: nullableString(row.host),
    agentId: nullableNumber(row.agent_id),
    program: nullableString(row.program),
    pid: nullableNumber(row.pid),
    severity: nullableNumber(row.severity),
    facility: nullableNumber(row.facility),
    message: row.message === null || row.message === undefined
      ? String(row.raw).slice(Number(row.msg_start))
      : String(row.message),
    raw: String(row.raw),
    flags: Number(row.flags),
    msgid: nullableString(row.msgid),
    structuredData: nullableString(row.structured_data),
  };
}

/** A `sources` row as a {@linkcode SourceRecord}. */
export function toSource(row: Row): SourceRecord {
  return {
    id: Number(row.id),
    address: String(row.address),
    hostname: nullableString(row.hostname),
    transport: String(row.transport) as SourceRecord["transport"],
    firstSeen: Number(row.first_seen),
    lastSeen: Number(row.last_seen),
    events: Number(row.events),
    unparsed: Number(row.unparsed),
  };
}

/** An `agent_tokens` row as a {@linkcode TokenRecord}. */
export function toToken(row: Row): TokenRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    secretHash: String(row.secret_hash),
    boundHostname: nullableString(row.bound_hostname),
    createdAt: Number(row.created_at),
    createdBy: String(row.created_by),
    lastUsedAt: nullableNumber(row.last_used_at),
    revokedAt: nullableNumber(row.revoked_at),
  };
}

/** An `audit_log` row as an {@linkcode AuditRecord}. */
export function toAudit(row: Row): AuditRecord {
  return {
    id: Number(row.id),
    at: Number(row.at),
    actor: String(row.actor),
    action: String(row.action),
    target: String(row.target),
    detail: nullableString(row.detail),
  };
}
