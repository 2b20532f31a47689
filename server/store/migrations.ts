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
    // The built-in rules took Wazuh's ids (docs/RULES.md, "Rule ids"): stored
    // alerts of the old ids move to the id of the same meaning, and their fold
    // keys with them. Frozen copy of RENUMBERED_RULE_IDS (builtin_rules.ts).
    name: "built-in rules renumbered to Wazuh's ids",
    sql: `
      UPDATE alerts SET
        fold_key = CAST(CASE rule_id
          WHEN 5700 THEN 5760
          WHEN 5701 THEN 5710
          WHEN 5702 THEN 5715
          WHEN 5703 THEN 880010
          WHEN 5710 THEN 5763
          WHEN 5711 THEN 5712
          WHEN 5712 THEN 40112
          WHEN 5500 THEN 5503
          WHEN 5401 THEN 5503
          WHEN 5402 THEN 5401
          WHEN 5403 THEN 5405
          WHEN 5404 THEN 5402
          WHEN 5301 THEN 5503
          WHEN 5302 THEN 5301
          WHEN 5101 THEN 5108
          WHEN 5102 THEN 1010
          WHEN 5103 THEN 880030
          WHEN 5901 THEN 880040
          WHEN 5902 THEN 40703
          WHEN 5903 THEN 880041
          WHEN 8801 THEN 880001
          WHEN 8802 THEN 880002
          WHEN 8803 THEN 880003
          WHEN 8804 THEN 880004
        END AS TEXT) || substr(fold_key, length(CAST(rule_id AS TEXT)) + 1),
        rule_id = CASE rule_id
          WHEN 5700 THEN 5760
          WHEN 5701 THEN 5710
          WHEN 5702 THEN 5715
          WHEN 5703 THEN 880010
          WHEN 5710 THEN 5763
          WHEN 5711 THEN 5712
          WHEN 5712 THEN 40112
          WHEN 5500 THEN 5503
          WHEN 5401 THEN 5503
          WHEN 5402 THEN 5401
          WHEN 5403 THEN 5405
          WHEN 5404 THEN 5402
          WHEN 5301 THEN 5503
          WHEN 5302 THEN 5301
          WHEN 5101 THEN 5108
          WHEN 5102 THEN 1010
          WHEN 5103 THEN 880030
          WHEN 5901 THEN 880040
          WHEN 5902 THEN 40703
          WHEN 5903 THEN 880041
          WHEN 8801 THEN 880001
          WHEN 8802 THEN 880002
          WHEN 8803 THEN 880003
          WHEN 8804 THEN 880004
        END
      WHERE rule_id IN (5700, 5701, 5702, 5703, 5710, 5711, 5712, 5500, 5401, 5402, 5403, 5404, 5301, 5302, 5101, 5102, 5103, 5901, 5902, 5903, 8801, 8802, 8803, 8804);
    `,
  },
];
