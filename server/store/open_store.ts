/**
 * `openStore()`: one store URL selects the backend. `postgres://` and
 * `postgresql://` open {@linkcode PostgresStore}; `sqlite:PATH` or a plain
 * path open the embedded SQLite store.
 *
 * @module
 */

import type { StartProgress } from "../../common/progress.ts";
import { redactUrl } from "./_postgres_url.ts";
import { openPostgresStore } from "./postgres_store.ts";
import { openSqliteStore, type SyncMode } from "./sqlite_store.ts";
import { type Store, StoreError } from "./store.ts";

/** Options of {@linkcode openStore}. */
export interface OpenStoreOptions {
  /**
   * Commit durability: SQLite `synchronous`, PostgreSQL `synchronous_commit`.
   * @default {"full"}
   */
  sync?: SyncMode;
  /**
   * Most PostgreSQL connections this store opens (ignored for SQLite).
   * @default {4}
   */
  maxConnections?: number;
  /**
   * Seconds after which an idle PostgreSQL connection is closed; 0 keeps it (ignored for SQLite).
   * @default {0}
   */
  idleTimeoutSeconds?: number;
  /**
   * Shows the progress of long work while opening: the copy SQLite takes before a migration.
   * @default {none}
   */
  progress?: StartProgress;
}

/** Which backend a store URL names. */
export type StoreKind = "sqlite" | "postgres";

/** A store URL taken apart by {@linkcode parseStoreUrl}. */
export type ParsedStoreUrl =
  | { readonly kind: "sqlite"; readonly path: string }
  | { readonly kind: "postgres"; readonly url: string };

/**
 * Tells which backend a store URL names, without opening anything.
 *
 * @param url `postgres://…`, `postgresql://…`, `sqlite:PATH` or a file path.
 * @returns The backend and its address.
 * @throws {StoreError} With code `invalid` for an empty value or another scheme.
 * @example
 * ```ts
 * parseStoreUrl("sqlite:./data/nms.db"); // { kind: "sqlite", path: "./data/nms.db" }
 * ```
 */
export function parseStoreUrl(url: string): ParsedStoreUrl {
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    return { kind: "postgres", url };
  }
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path.length === 0) {
      throw new StoreError(`Invalid store ${url}: no path after sqlite:`, "invalid");
    }
    return { kind: "sqlite", path };
  }
  // Any other scheme (mysql://, http://, postgres:/x, …) is a mistake, not a file name.
  if (
    url.trim().length === 0 || /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) ||
    /^postgres(ql)?:/.test(url)
  ) {
    throw new StoreError(
      `Invalid store ${
        JSON.stringify(redactUrl(url))
      }: use postgres://user@host:port/db, sqlite:PATH or a file path`,
      "invalid",
    );
  }
  return { kind: "sqlite", path: url };
}

/**
 * Opens the store a URL names and migrates its schema.
 *
 * @param url `postgres://user@host:port/db[?schema=NAME]`, `sqlite:PATH` or a plain SQLite path.
 * @param options Durability and PostgreSQL pool size.
 * @returns The open store; close it with `close()`.
 * @throws {StoreError} When the URL is invalid or the store cannot be opened.
 * @example
 * ```ts
 * const store = await openStore(Deno.env.get("NMS_STORE") ?? "./data/nms.db");
 * await store.close();
 * ```
 */
export function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const parsed = parseStoreUrl(url);
  if (parsed.kind === "sqlite") {
    return openSqliteStore(parsed.path, {
      ...(options.sync ? { sync: options.sync } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
    });
  }
  return openPostgresStore(parsed.url, {
    ...(options.sync ? { sync: options.sync } : {}),
    ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
    ...(options.idleTimeoutSeconds ? { idleTimeoutSeconds: options.idleTimeoutSeconds } : {}),
  });
}
