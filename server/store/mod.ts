/**
 * The storage layer: the {@linkcode Store} interface, its SQLite and
 * PostgreSQL implementations, and `openStore()`, which picks one from a store
 * URL.
 *
 * @example
 * ```ts
 * import { openStore } from "./mod.ts";
 * const store = await openStore("sqlite:./data/nms.db");
 * await store.close();
 * ```
 *
 * @module
 */

export * from "./store.ts";
export {
  openStore,
  type OpenStoreOptions,
  type ParsedStoreUrl,
  parseStoreUrl,
  type StoreKind,
} from "./open_store.ts";
export { openSqliteStore, type SqliteStoreOptions, type SyncMode } from "./sqlite_store.ts";
export {
  AGENTS_VACUUM_CHANGES,
  openPostgresStore,
  PostgresStore,
  type PostgresStoreOptions,
} from "./postgres_store.ts";
export { redactUrl } from "./_postgres_url.ts";
export { backupSqliteFile } from "./sqlite_maintenance.ts";
export { lockSqliteServer, type SqliteServerLock } from "./sqlite_server_lock.ts";
export type {
  AuditEntry,
  AuditQuery,
  AuditRecord,
  LoginFailurePolicy,
  NewTokenRecord,
  SecurityStore,
  TokenRecord,
} from "./security_store.ts";
export * from "./user_name.ts";
export * from "./integrity_check.ts";
