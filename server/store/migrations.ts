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

/**
 * Moves stored alerts of the built-in rules' old ids to the rule of the same
 * meaning, fold keys included (docs/RULES.md, "Rule ids"). A frozen copy of
 * `RENUMBERED_RULE_IDS` (server/rules/builtin_rules.ts); the same SQL runs on
 * SQLite and PostgreSQL.
 */
export const RENUMBER_BUILTIN_RULES_SQL = `
  WITH renumbered (old_id, new_id) AS (VALUES
    (5700, 5760),
    (5701, 5710),
    (5702, 5715),
    (5703, 880010),
    (5710, 5763),
    (5711, 5712),
    (5712, 40112),
    (5500, 5503),
    (5401, 5503),
    (5402, 5401),
    (5403, 5405),
    (5404, 5402),
    (5301, 5503),
    (5302, 5301),
    (5101, 5108),
    (5102, 1010),
    (5103, 880030),
    (5901, 880040),
    (5902, 40703),
    (5903, 880041),
    (8801, 880001),
    (8802, 880002),
    (8803, 880003),
    (8804, 880004)
  )
  UPDATE alerts SET
    fold_key = CAST(renumbered.new_id AS TEXT) ||
      substr(fold_key, length(CAST(alerts.rule_id AS TEXT)) + 1),
    rule_id = renumbered.new_id
  FROM renumbered
  WHERE alerts.rule_id = renumbered.old_id;
`;

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
        -- NULL when the message is the end of raw, from msg_start (UTF-16 index) on.
        message TEXT,
        raw TEXT NOT NULL,
        msg_start INTEGER NOT NULL DEFAULT 0,
        flags INTEGER NOT NULL DEFAULT 0,
        stream_id INTEGER,
        pos INTEGER
      );
      CREATE INDEX logs_ts ON logs (ts);
      CREATE INDEX logs_host_ts ON logs (host, ts);
      CREATE UNIQUE INDEX logs_origin ON logs (stream_id, pos) WHERE stream_id IS NOT NULL;
    `,
  },
  {
    // Syslog receiver (server/syslog/).
    name: "syslog sources and fields",
    sql: `
      ALTER TABLE logs ADD COLUMN msgid TEXT;
      ALTER TABLE logs ADD COLUMN structured_data TEXT;
      CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        address TEXT NOT NULL UNIQUE,
        hostname TEXT,
        transport TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        events INTEGER NOT NULL DEFAULT 0,
        unparsed INTEGER NOT NULL DEFAULT 0
      );
    `,
  },
  {
    // Detection rules and alerts (server/rules/).
    name: "alerts",
    sql: `
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        rule_id INTEGER NOT NULL,
        level INTEGER NOT NULL,
        description TEXT NOT NULL,
        fold_key TEXT NOT NULL,
        fields TEXT NOT NULL,
        event_ids TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        count INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX alerts_fold_key ON alerts (fold_key, id);
      CREATE INDEX alerts_updated_at ON alerts (updated_at, id);
    `,
  },
  {
    // Full-text search, filled behind ingest by Store.indexText. Contentless
    // with detail=none: keyword queries only, and a faster fill than the
    // default layout (docs/decisions/0003-ingest-hot-path.md).
    name: "full-text index",
    sql: `
      CREATE VIRTUAL TABLE logs_fts USING fts5(
        text, content = '', contentless_delete = 1, detail = none
      );
      CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO meta (key, value) VALUES ('fts_indexed_upto', 0);
    `,
  },
  {
    // Security (server/auth/, docs/SECURITY.md): agent tokens,
    // login lockout counters and the audit trail. See security_store.ts.
    name: "agent tokens, login failures and audit log",
    sql: `
      CREATE TABLE agent_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        bound_hostname TEXT,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
      CREATE TABLE login_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        window_start INTEGER NOT NULL,
        locked_until INTEGER
      );
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT
      );
    `,
  },
  {
    // Full-text index without per-row sizes, which fills faster
    // (docs/decisions/0003-ingest-hot-path.md). Retention removes entries
    // with FTS5's 'delete' command (sqlite_text_index.ts). The index is
    // rebuilt behind ingest from the first event, and searches scan what it
    // has not reached yet.
    name: "full-text index without row sizes",
    sql: `
      DROP TABLE logs_fts;
      CREATE VIRTUAL TABLE logs_fts USING fts5(
        text, content = '', columnsize = 0, detail = none
      );
      UPDATE meta SET value = 0 WHERE key = 'fts_indexed_upto';
    `,
  },
  {
    // The built-in rules took Wazuh's ids (docs/RULES.md, "Rule ids").
    name: "built-in rules renumbered to Wazuh's ids",
    sql: RENUMBER_BUILTIN_RULES_SQL,
  },
  {
    // A fleet (docs/SCALING.md): the connection state of each node, so that
    // its status is a condition on indexed columns, and an index per order of
    // the console's pages. Nodes known before have no open connection.
    name: "node connection state and page indexes",
    sql: `
      ALTER TABLE agents ADD COLUMN state TEXT NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'gone', 'stopped'));
      ALTER TABLE agents ADD COLUMN disconnected_at INTEGER;
      UPDATE agents SET state = CASE WHEN stopped_at IS NOT NULL THEN 'stopped' ELSE 'gone' END;
      CREATE INDEX agents_liveness ON agents (state, last_heartbeat, last_seen);
      CREATE INDEX agents_last_seen ON agents (last_seen);
      CREATE INDEX agents_last_heartbeat ON agents (last_heartbeat);
      CREATE INDEX agents_first_seen ON agents (first_seen);
    `,
  },
  {
    // Prefix filters of the console's pages (docs/API.md): a range of an
    // index on each lowercased text column instead of a pass over every node.
    name: "node text prefix indexes",
    sql: `
      CREATE INDEX agents_hostname_lower ON agents (lower(hostname));
      CREATE INDEX agents_os_lower ON agents (lower(os));
      CREATE INDEX agents_version_lower ON agents (lower(version));
      CREATE INDEX agents_address_lower ON agents (lower(address));
    `,
  },
  {
    // A fleet's rows of one host, or one stream, spread over the log table, so
    // these two indexes are filled behind ingest, many rows a step
    // (sqlite_deferred_indexes.ts): in the insert, a row per host per second
    // wrote one page per host per commit.
    name: "host and origin indexes filled behind ingest",
    sql: `
      CREATE TABLE logs_by_host (
        host TEXT NOT NULL,
        id INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        PRIMARY KEY (host, id)
      ) WITHOUT ROWID;
      INSERT INTO logs_by_host (host, id, ts)
        SELECT host, id, ts FROM logs WHERE host IS NOT NULL ORDER BY host, id;
      DROP INDEX logs_host_ts;
      CREATE TABLE logs_by_origin (
        stream_id INTEGER NOT NULL,
        pos INTEGER NOT NULL,
        PRIMARY KEY (stream_id, pos)
      ) WITHOUT ROWID;
      INSERT INTO logs_by_origin (stream_id, pos)
        SELECT stream_id, pos FROM logs WHERE stream_id IS NOT NULL ORDER BY stream_id, pos;
      DROP INDEX logs_origin;
      INSERT INTO meta (key, value)
        SELECT 'deferred_indexed_upto', coalesce(max(id), 0) FROM logs;
    `,
  },
];
