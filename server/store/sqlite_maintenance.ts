/**
 * Upkeep of the SQLite database: bounded retention steps, incremental
 * vacuum, size figures, consistent online backups (SQLite's backup, in a worker) and the copy
 * taken before a schema migration. `sqlite_store.ts` delegates to these; the
 * CLI's `nms-server backup` calls {@linkcode backupSqliteFile}.
 *
 * @module
 */

import { errorMessage } from "../../common/error_message.ts";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { dirname, join } from "node:path";
import { transaction } from "./transaction.ts";
import { unindexDeferred } from "./sqlite_deferred_indexes.ts";
import { unindexEvents } from "./sqlite_text_index.ts";
import { type PrunePolicy, type PruneStep, type StorageInfo, StoreError } from "./store.ts";

type Row = Record<string, SQLInputValue>;

/**
 * Most alerts deleted by one retention step (alerts are few; this only bounds
 * a first pass over an old database).
 */
const MAX_ALERTS_PER_STEP = 1_000;

/** How long a backup waits for a writer's lock before failing, in ms. */
const BACKUP_BUSY_TIMEOUT_MS = 10_000;

/** How often the size of a copy being written is read for its progress, in ms. */
const BACKUP_PROGRESS_POLL_MS = 200;

/** Receives the progress of a copy: bytes written so far and the expected size. */
export type CopyProgress = (copiedBytes: number, expectedBytes: number) => void;

/**
 * Copies a database file in a worker of its own (SQLite's online backup, in
 * one step: a consistent snapshot while writers go on), so the calling thread
 * can report the copy's growth meanwhile. The expected size is the source's
 * file size (`page_count` pages), which the copy reaches when done.
 *
 * @param source The database file.
 * @param target Where the copy goes; must not exist.
 * @param onProgress Told the size of the copy as it grows.
 * @returns Resolves when the copy is complete.
 * @throws {Error} When SQLite cannot make the copy.
 * @example
 * ```ts
 * await copyDatabase("nms.db", "nms-copy.db", (done, total) => console.log(done, total));
 * ```
 */
export async function copyDatabase(
  source: string,
  target: string,
  onProgress: CopyProgress = () => {},
): Promise<void> {
  let expected = 0;
  try {
    const db = new DatabaseSync(source, { readOnly: true });
    try {
      expected = pragmaNumber(db, "page_count") * pragmaNumber(db, "page_size");
    } finally {
      db.close();
    }
  } catch {
    // No estimate: progress shows bytes without a total.
  }
  const worker = new Worker(new URL("./backup_worker.ts", import.meta.url).href, {
    type: "module",
    name: "backup_worker",
  });
  const poll = setInterval(() => {
    Deno.stat(target).then((info) => onProgress(info.size, expected), () => {});
  }, BACKUP_PROGRESS_POLL_MS);
  try {
    const outcome = await new Promise<{ ok: boolean; message?: string }>((resolve) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        resolve({ ok: false, message: event.message });
      };
      worker.postMessage({ source, target });
    });
    if (!outcome.ok) throw new Error(outcome.message ?? "the copy failed");
  } finally {
    clearInterval(poll);
    worker.terminate();
  }
}

/** `PRAGMA auto_vacuum` value of incremental mode. */
const AUTO_VACUUM_INCREMENTAL = 2;

function pragmaNumber(db: DatabaseSync, name: string): number {
  const row = db.prepare(`PRAGMA ${name}`).get() as Row;
  return Number(Object.values(row)[0]);
}

/**
 * Bytes the data of a database takes: pages in use, free pages excluded.
 *
 * @param db An open database.
 * @returns `(page_count - freelist_count) * page_size`.
 * @example
 * ```ts
 * usedBytes(new DatabaseSync("nms.db"));
 * ```
 */
export function usedBytes(db: DatabaseSync): number {
  return (pragmaNumber(db, "page_count") - pragmaNumber(db, "freelist_count")) *
    pragmaNumber(db, "page_size");
}

/**
 * Size figures and the oldest event of an NMS database.
 *
 * @param db An open NMS database.
 * @returns The {@linkcode StorageInfo}.
 * @example
 * ```ts
 * const info = sqliteStorageInfo(db);
 * console.log(info.oldestReceivedAt, info.fileBytes);
 * ```
 */
export function sqliteStorageInfo(db: DatabaseSync): StorageInfo {
  // The smallest rowid is the first event received: one step down the table's b-tree.
  const oldest = db.prepare("SELECT received_at, ts FROM logs ORDER BY id LIMIT 1").get() as
    | Row
    | undefined;
  const pageSize = pragmaNumber(db, "page_size");
  const pages = pragmaNumber(db, "page_count");
  return {
    oldestReceivedAt: oldest ? Number(oldest.received_at) : null,
    oldestEventTs: oldest ? Number(oldest.ts) : null,
    usedBytes: (pages - pragmaNumber(db, "freelist_count")) * pageSize,
    fileBytes: pages * pageSize,
  };
}

/**
 * One bounded retention step on an NMS database; see `Store.pruneEvents`.
 *
 * Events go oldest first by id (the receive order), never the newest one: an
 * empty `logs` table would hand out id 1 again and break every id cursor
 * (full-text progress, console pages). The age is the receive time, not the
 * time parsed from the line, which a device with a wrong clock could set to
 * anything. Deletes are one id range, so the step costs the same whatever the
 * table's size.
 *
 * @param db An open NMS database (the writer's connection).
 * @param policy Age and size limits and the step's bounds.
 * @returns Events deleted, bytes reclaimed, and whether more is left to do.
 * @example
 * ```ts
 * pruneSqlite(db, { receivedBeforeMs: Date.now() - 30 * 86_400_000, maxRows: 2000 });
 * ```
 */
export function pruneSqlite(db: DatabaseSync, policy: PrunePolicy): PruneStep {
  const maxRows = Math.max(0, Math.trunc(policy.maxRows));
  const cutoff = policy.receivedBeforeMs;
  const maxBytes = policy.maxBytes;
  let deleted = 0;
  let more = false;
  if (maxRows > 0 && (cutoff !== undefined || maxBytes !== undefined)) {
    transaction(db, () => {
      const overSize = maxBytes !== undefined && usedBytes(db) > maxBytes;
      const rows = db.prepare(
        "SELECT id, received_at FROM logs WHERE id < (SELECT max(id) FROM logs) ORDER BY id LIMIT ?",
      ).all(maxRows) as Row[];
      let count = 0;
      if (overSize) count = rows.length;
      else if (cutoff !== undefined) {
        while (count < rows.length && Number(rows[count]!.received_at) < cutoff) count++;
      }
      if (count > 0) {
        const first = Number(rows[0]!.id);
        const last = Number(rows[count - 1]!.id);
        // The indexed text and hosts are read from the rows: unindex first.
        unindexEvents(db, first, last);
        unindexDeferred(db, first, last);
        db.prepare("DELETE FROM logs WHERE id BETWEEN ? AND ?").run(first, last);
        deleted = count;
      }
      if (cutoff !== undefined) {
        db.prepare(
          "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE updated_at < ? LIMIT ?)",
        ).run(cutoff, MAX_ALERTS_PER_STEP);
      }
      // A full step may have left more; so may a size limit still exceeded.
      more = count === maxRows ||
        (count > 0 && maxBytes !== undefined && usedBytes(db) > maxBytes);
    });
  }
  const reclaimedBytes = reclaimSqlite(db, policy.reclaimBytes ?? 0);
  const freeLeft = pragmaNumber(db, "auto_vacuum") === AUTO_VACUUM_INCREMENTAL &&
    pragmaNumber(db, "freelist_count") > 0;
  return { deleted, reclaimedBytes, more: more || (reclaimedBytes > 0 && freeLeft) };
}

/**
 * Returns up to `bytes` of free pages to the file system (`PRAGMA
 * incremental_vacuum`). Does nothing unless the database was created with
 * `auto_vacuum = INCREMENTAL` (docs/PRODUCTION.md tells how to convert an
 * older one); its free pages are then reused by new events instead.
 *
 * @param db An open database, outside a transaction.
 * @param bytes Most bytes to release, rounded up to whole pages.
 * @returns Bytes the file shrank by.
 * @example
 * ```ts
 * reclaimSqlite(db, 8 * 1024 * 1024);
 * ```
 */
export function reclaimSqlite(db: DatabaseSync, bytes: number): number {
  if (bytes <= 0 || pragmaNumber(db, "auto_vacuum") !== AUTO_VACUUM_INCREMENTAL) return 0;
  const pageSize = pragmaNumber(db, "page_size");
  const pages = Math.ceil(bytes / pageSize);
  const before = pragmaNumber(db, "page_count");
  // exec() would run only the first step of the pragma (one page): step through it all.
  db.prepare(`PRAGMA incremental_vacuum(${Math.trunc(pages)})`).all();
  const reclaimed = (before - pragmaNumber(db, "page_count")) * pageSize;
  // In WAL mode the shorter file reaches the disk at the next checkpoint, and
  // when ingest has stopped none comes by itself. PASSIVE never waits for
  // readers: what it cannot copy yet is copied by a later checkpoint.
  if (reclaimed > 0) db.prepare("PRAGMA wal_checkpoint(PASSIVE)").all();
  return reclaimed;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Writes a consistent copy of an open database to `target` with `VACUUM INTO`
 * (writers go on meanwhile; the copy is the state at its start). The copy is
 * made under a temporary name, made private (mode 0600: it holds password
 * hashes), then linked into place, so `target` is either complete or absent
 * and an existing file is never overwritten.
 *
 * @param db An open database, outside a transaction.
 * @param target Path of the copy; must not exist.
 * @param copy Writes the copy to a temporary path; by default `VACUUM INTO` on `db`.
 * @returns Size of the copy in bytes.
 * @throws {StoreError} With code `conflict` when `target` exists.
 * @example
 * ```ts
 * await backupSqlite(db, "/var/backups/nms-2025-01-01.db");
 * ```
 */
export async function backupSqlite(
  db: DatabaseSync,
  target: string,
  copy: (temp: string) => Promise<void> | void = (temp) => {
    db.prepare("VACUUM INTO ?").run(temp);
  },
): Promise<number> {
  if (await exists(target)) {
    throw new StoreError(`Cannot back up to ${target}: the file exists`, "conflict");
  }
  const temp = join(
    dirname(target),
    `.${target.split("/").at(-1)}.tmp-${crypto.randomUUID().slice(0, 8)}`,
  );
  try {
    await copy(temp);
    if (Deno.build.os !== "windows") await Deno.chmod(temp, 0o600);
    // link() fails when target appeared meanwhile: never overwrite.
    await Deno.link(temp, target);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new StoreError(`Cannot back up to ${target}: the file exists`, "conflict");
    }
    throw new StoreError(`Cannot back up to ${target}: ${errorMessage(error)}`, "invalid");
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
  return (await Deno.stat(target)).size;
}

/**
 * `nms-server backup`: opens the database file read-only and copies it with
 * {@linkcode backupSqlite}, while the server may keep running.
 *
 * @param path The database file.
 * @param target Path of the copy; must not exist.
 * @param onProgress Told the size of the copy as it grows, and the expected size.
 * @returns Size of the copy in bytes.
 * @throws {StoreError} When the database cannot be opened or `target` exists.
 * @example
 * ```ts
 * await backupSqliteFile("./data/nms.db", "./nms-backup.db");
 * ```
 */
export async function backupSqliteFile(
  path: string,
  target: string,
  onProgress?: CopyProgress,
): Promise<number> {
  if (!await exists(path)) throw new StoreError(`No database at ${path}`, "not_found");
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (error) {
    throw new StoreError(`Cannot open database ${path}: ${errorMessage(error)}`, "invalid");
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${BACKUP_BUSY_TIMEOUT_MS}`);
    // The copy runs in a worker, so this thread can show its progress.
    return await backupSqlite(db, target, (temp) => copyDatabase(path, temp, onProgress));
  } finally {
    db.close();
  }
}

/**
 * The path of the copy taken before migrating a database from `version`:
 * `<db>.bak-v<version>`, with a time suffix if that exists.
 *
 * @param path The database file.
 * @param version Its schema version.
 * @returns A path that does not exist yet.
 */
function migrationBackupPath(path: string, version: number): string {
  const target = `${path}.bak-v${version}`;
  try {
    Deno.lstatSync(target);
    return `${target}-${new Date().toISOString().replace(/[:.]/g, "")}`;
  } catch {
    return target; // Absent: use the plain name.
  }
}

/**
 * Copies a database before its schema is migrated, as
 * {@linkcode backupBeforeMigration} does, but in a worker, so the caller can
 * show progress: what `openSqliteStore()` does when it can wait.
 *
 * @param path The database file, not yet migrated.
 * @param version Its schema version.
 * @param onProgress Told the size of the copy as it grows.
 * @returns The path of the copy and its size.
 * @throws {StoreError} When the copy cannot be written: no migration without a backup.
 * @example
 * ```ts
 * await backupBeforeMigrationAsync("./data/nms.db", 3);
 * ```
 */
export async function backupBeforeMigrationAsync(
  path: string,
  version: number,
  onProgress?: CopyProgress,
): Promise<{ path: string; bytes: number }> {
  const target = migrationBackupPath(path, version);
  try {
    await copyDatabase(path, target, onProgress);
    if (Deno.build.os !== "windows") await Deno.chmod(target, 0o600);
    return { path: target, bytes: (await Deno.stat(target)).size };
  } catch (error) {
    await Deno.remove(target).catch(() => {});
    throw new StoreError(
      `Cannot back up ${path} to ${target} before migrating its schema from version ${version}: ${
        errorMessage(error)
      }`,
      "invalid",
    );
  }
}

/**
 * Copies a database before its schema is migrated, synchronously (the store's
 * constructor runs migrations synchronously): `<db>.bak-v<old version>`.
 *
 * @param db The open database, outside a transaction, not yet migrated.
 * @param version Its schema version.
 * @returns The path of the copy.
 * @throws {StoreError} When the copy cannot be written: no migration without a backup.
 * @example
 * ```ts
 * backupBeforeMigration(db, 3);
 * ```
 */
export function backupBeforeMigration(db: DatabaseSync, version: number): string {
  const path = db.location();
  if (path === null) return "";
  const target = migrationBackupPath(path, version);
  try {
    db.prepare("VACUUM INTO ?").run(target);
    if (Deno.build.os !== "windows") Deno.chmodSync(target, 0o600);
  } catch (error) {
    throw new StoreError(
      `Cannot back up ${path} to ${target} before migrating its schema from version ${version}: ${
        errorMessage(error)
      }`,
      "invalid",
    );
  }
  return target;
}
