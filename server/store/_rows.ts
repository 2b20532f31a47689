/**
 * Mapping database rows to the Store's records, shared by the SQLite and
 * PostgreSQL stores (their tables have the same column names).
 *
 * @module
 */

import type { AgentRecord, AlertRecord, Role, UserRecord } from "./store.ts";

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
