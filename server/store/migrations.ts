/**
 * Ordered schema migrations of the SQLite store. The schema version is kept in
 * `PRAGMA user_version`. Never edit a migration that has shipped: add one.
 *
 * @module
 */

/** One schema step: the SQL that takes version `index` to `index + 1`. */
export interface Migration {
  readonly name: string;
  readonly sql: string;
}

/** All migrations, in order. Migration `i` brings the schema to version `i + 1`. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    name: "initial schema",
    sql: `
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'viewer', 'agent')),
        created_at INTEGER NOT NULL
      );
      CREATE TABLE agents (
        id INTEGER PRIMARY KEY,
        hostname TEXT NOT NULL UNIQUE,
        version TEXT NOT NULL,
        os TEXT NOT NULL,
        address TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        last_heartbeat INTEGER,
        uptime_seconds INTEGER,
        lag_bytes INTEGER,
        stopped_at INTEGER
      );
      CREATE TABLE streams (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE
      );
      CREATE TABLE logs (
        id INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        host TEXT,
        agent_id INTEGER,
        program TEXT,
        pid INTEGER,
        severity INTEGER,
        facility INTEGER,
        message TEXT NOT NULL,
        raw TEXT NOT NULL,
        flags INTEGER NOT NULL DEFAULT 0,
        stream_id INTEGER,
        pos INTEGER
      );
      CREATE INDEX logs_ts ON logs (ts);
      CREATE INDEX logs_host_ts ON logs (host, ts);
      CREATE UNIQUE INDEX logs_origin ON logs (stream_id, pos) WHERE stream_id IS NOT NULL;
    `,
  },
];
