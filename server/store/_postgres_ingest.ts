/**
 * The ingest path of the PostgreSQL store: one group of batches per
 * transaction, stored with a binary `COPY` straight into `logs`, exactly once
 * per origin (stream, position), without any lock that all servers share.
 * Readers that follow ids stay exact through the ingest horizon
 * (`nms_ingest_horizon()`): every group first publishes, on a connection of
 * its own, its transaction id and a lower bound of the ids it will take.
 * docs/decisions/0013-postgres-ingest.md has the design and its proof.
 * Private to server/store/.
 *
 * @module
 */

import type { PendingQuery, Row, Sql, TransactionSql } from "postgres";
import { BinaryCopyEncoder, COPY_CHUNK_BYTES, copyIn } from "./_postgres_copy.ts";
import { APPEND_STATUS, type AppendOptions, type EventBatch, type SourceUpdate } from "./store.ts";

/**
 * Buckets of `stream_id` for events that have no stream (plain `BATCH_EVENT`,
 * syslog): `-1 - (hash of host mod 64)`. `stream_id` is the distribution
 * column a distributed PostgreSQL (Citus) needs, never NULL for new rows; the
 * buckets keep one host's events together and spread hosts over the shards.
 */
export const UNSEQUENCED_STREAM_BUCKETS = 64;

/** PostgreSQL type ids used to bind arrays. */
const INT8 = 20;
const TEXT = 25;

/**
 * PostgreSQL text cannot hold NUL; it is stored as U+FFFD instead
 * (docs/decisions/0009-postgres-store.md).
 *
 * @param text Any text.
 * @returns The text without NUL characters.
 */
export function clean(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text;
}

/**
 * {@linkcode clean} for optional text.
 *
 * @param text Text, null or undefined.
 * @returns The cleaned text, or null.
 */
function cleanOrNull(text: string | null | undefined): string | null {
  return text === null || text === undefined ? null : clean(text);
}

/** FNV-1a of a host name, reduced to a bucket's `stream_id`. */
function unsequencedStream(host: string | null): number {
  let hash = 0x811c9dc5;
  const text = host ?? "";
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return -1 - ((hash >>> 0) % UNSEQUENCED_STREAM_BUCKETS);
}

/**
 * The id the sequence hands out next, read without taking it: every id taken
 * after this is read is at least this (the sequence keeps CACHE 1, so no
 * connection holds ids taken earlier).
 */
function nextId(sql: Sql): PendingQuery<Row[]> {
  return sql`(SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM logs_id_seq)`;
}

/** What a group writes to one stream. */
class StreamWrite {
  /** Lowest and highest position of the group's rows on the stream. */
  min = Infinity;
  max = -1;
  firstAt = Infinity;
  lastAt = -Infinity;
  /** Positions of the group's rows, in order: while they only rise, none repeats. */
  readonly #positions: number[] = [];
  /** The positions as a set, made once a position does not rise. */
  #seen: Set<number> | undefined;

  /**
   * Adds a row's position.
   *
   * @returns False when the group already has a row at this position.
   */
  add(position: number, receivedAt: number): boolean {
    if (position > this.max) {
      this.max = position;
      this.#seen?.add(position);
    } else {
      this.#seen ??= new Set(this.#positions);
      if (this.#seen.has(position)) return false;
      this.#seen.add(position);
    }
    this.#positions.push(position);
    if (position < this.min) this.min = position;
    if (receivedAt < this.firstAt) this.firstAt = receivedAt;
    if (receivedAt > this.lastAt) this.lastAt = receivedAt;
    return true;
  }
}

/**
 * The ingest of one store: the stream ids it has resolved and its slot in
 * `nms_ingest_slots`.
 */
export class PostgresIngest {
  readonly #sql: Sql;
  readonly #openSlotConnection: () => Sql;
  #slotSql: Sql | undefined;
  #slot: number | undefined;
  /** Stream key → row id. Stream rows are never deleted, so the cache never goes stale. */
  readonly #streams = new Map<string, number>();

  /**
   * @param sql The store's pool.
   * @param openSlotConnection Opens the one-connection pool the slot is
   *   published on (outside the group's transaction, which must not commit it).
   */
  constructor(sql: Sql, openSlotConnection: () => Sql) {
    this.#sql = sql;
    this.#openSlotConnection = openSlotConnection;
  }

  /**
   * Finds or creates the row ids of the groups' stream keys not cached yet.
   * Runs outside the group's transaction: a stream row is kept even when the
   * group fails.
   *
   * @param batches The group.
   */
  async resolveStreams(batches: readonly EventBatch[]): Promise<void> {
    const missing = new Set<string>();
    for (const batch of batches) {
      let previous: string | null = null;
      for (let i = 0; i < batch.count; i++) {
        const key = batch.stream[i] ?? null;
        if (key === null || key === previous) continue;
        previous = key;
        if (!this.#streams.has(key)) missing.add(key);
      }
    }
    if (missing.size === 0) return;
    // Sorted: two servers inserting overlapping keys take their locks in the
    // same order, so they cannot deadlock each other.
    const keys = [...missing].sort();
    const array = this.#sql.array(keys.map(clean), TEXT);
    await this.#sql`INSERT INTO streams (key) SELECT unnest(${array}::text[])
      ON CONFLICT (key) DO NOTHING`;
    const rows = await this.#sql`SELECT id, key FROM streams WHERE key = ANY(${array}::text[])`;
    const byCleanKey = new Map(rows.map((r) => [String(r.key), Number(r.id)]));
    for (const key of keys) this.#streams.set(key, byCleanKey.get(clean(key))!);
  }

  /**
   * Stores a group inside `tx`; its streams must be resolved. Returns once the
   * rows are written and confirmed, before the commit.
   *
   * @param tx The group's transaction.
   * @param batches The group.
   * @param eventIds Arrays to fill with the ids of stored events.
   * @returns One {@linkcode APPEND_STATUS} per event of each batch.
   */
  async appendGroup(
    tx: TransactionSql,
    batches: readonly EventBatch[],
    eventIds: AppendOptions["eventIds"],
  ): Promise<Uint8Array[]> {
    const statuses = batches.map((batch) => new Uint8Array(batch.count));
    // 1. The rows to store, in order, and what the group writes to each stream.
    //    Within the group only an origin's first occurrence may be stored.
    const total = batches.reduce((n, batch) => n + batch.count, 0);
    const rowBatch = new Int32Array(total);
    const rowIndex = new Int32Array(total);
    let rows = 0;
    const writes = new Map<number, StreamWrite>();
    // Consecutive rows mostly share a stream: its write is looked up once per run.
    let lastKey: string | undefined;
    let write: StreamWrite | undefined;
    batches.forEach((batch, b) => {
      const status = statuses[b]!;
      for (let i = 0; i < batch.count; i++) {
        const key = batch.stream[i];
        if (key !== null && key !== undefined) {
          if (key !== lastKey) {
            const streamId = this.#streams.get(key)!;
            write = writes.get(streamId);
            if (!write) writes.set(streamId, write = new StreamWrite());
            lastKey = key;
          }
          if (!write!.add(batch.position[i]!, batch.receivedAt)) {
            status[i] = APPEND_STATUS.duplicate;
            continue;
          }
        }
        rowBatch[rows] = b;
        rowIndex[rows++] = i;
      }
    });

    // 2. The transaction id, and the slot published with it as soon as it is
    //    known; meanwhile each stream's row is locked and raised to the
    //    group's highest position, and what comes back is the highest
    //    position stored before. Another collector writing one of these
    //    streams waits here for this commit, and then sees these rows.
    const published = tx`SELECT pg_current_xact_id()::text AS xid`
      .then(([transaction]) => this.#publishSlot(String(transaction!.xid)));
    published.catch(() => {}); // awaited below, unless the group fails first
    const before = new Map<number, number>();
    const streamIds = [...writes.keys()].sort((a, b) => a - b);
    const list = streamIds.map((id) => writes.get(id)!);
    const raised = writes.size === 0 ? [] : await tx`
        INSERT INTO stream_positions AS sp
          (stream_id, max_pos, prev_max_pos, first_received_at, last_received_at)
        SELECT stream_id, max_pos, -1, first_at, last_at
        FROM unnest(${tx.array(streamIds, INT8)}::bigint[],
          ${tx.array(list.map((w) => w.max), INT8)}::bigint[],
          ${tx.array(list.map((w) => Math.floor(w.firstAt)), INT8)}::bigint[],
          ${tx.array(list.map((w) => Math.floor(w.lastAt)), INT8)}::bigint[])
          AS n(stream_id, max_pos, first_at, last_at)
        ORDER BY stream_id
        ON CONFLICT (stream_id) DO UPDATE SET prev_max_pos = sp.max_pos,
          max_pos = greatest(sp.max_pos, excluded.max_pos),
          first_received_at = least(sp.first_received_at, excluded.first_received_at),
          last_received_at = greatest(sp.last_received_at, excluded.last_received_at)
        RETURNING stream_id, prev_max_pos`;
    for (const row of raised) before.set(Number(row.stream_id), Number(row.prev_max_pos));

    // 3. A position above the stream's previous maximum is new; the others
    //    (resends after a failover) are looked up in logs. No id of this group
    //    is taken before its slot is published.
    const candidates: number[] = [];
    if (streamIds.some((id) => writes.get(id)!.min <= before.get(id)!)) {
      for (let k = 0; k < rows; k++) {
        const batch = batches[rowBatch[k]!]!;
        const key = batch.stream[rowIndex[k]!];
        if (key === null || key === undefined) continue;
        const streamId = this.#streams.get(key)!;
        if (batch.position[rowIndex[k]!]! <= before.get(streamId)!) candidates.push(k);
      }
    }
    const [found] = await Promise.all([
      candidates.length > 0 ? this.#storedOrigins(tx, batches, rowBatch, rowIndex, candidates) : [],
      published,
    ]);
    let stored = rows;
    for (const k of found) {
      statuses[rowBatch[k]!]![rowIndex[k]!] = APPEND_STATUS.duplicate;
      rowBatch[k] = -1;
      stored--;
    }

    // 4. The rows, after the slot is published. Their ids come from the
    //    sequence: taken by the COPY itself, in row order, or, when the caller
    //    wants to know them, taken first and written with the rows.
    if (stored > 0) {
      const withSyslog = batches.some((b) =>
        b.msgid !== undefined || b.structuredData !== undefined
      );
      const ids = eventIds?.some((target) => target) ? await this.#takeIds(tx, stored) : null;
      if (ids) fillEventIds(eventIds!, rowBatch.subarray(0, rows), rowIndex, ids);
      await copyIn(
        tx`COPY logs (${ids ? tx`id, ` : tx``}received_at, ts, host, agent_id, program, pid,
          severity, facility, raw, message, flags, stream_id,
          pos${withSyslog ? tx`, msgid, structured_data` : tx``}) FROM STDIN (FORMAT binary)`,
        this.#encodeRows(batches, rowBatch.subarray(0, rows), rowIndex, ids, withSyslog),
        tx`SELECT 1`,
      );
    }
    // Syslog senders, in the same transaction.
    const sources = batches.flatMap((batch) => batch.sources ?? []);
    if (sources.length > 0) await upsertSources(tx, sources);
    return statuses;
  }

  /** Of the candidate rows, those whose origin is already in logs (as indexes into the rows). */
  async #storedOrigins(
    tx: TransactionSql,
    batches: readonly EventBatch[],
    rowBatch: Int32Array,
    rowIndex: Int32Array,
    candidates: readonly number[],
  ): Promise<number[]> {
    const streams: number[] = [];
    const positions: number[] = [];
    for (const k of candidates) {
      const batch = batches[rowBatch[k]!]!;
      streams.push(this.#streams.get(batch.stream[rowIndex[k]!]!)!);
      positions.push(batch.position[rowIndex[k]!]!);
    }
    // One index probe per candidate, in the partitions of the days the stream wrote.
    const rows = await tx`
      SELECT n.k FROM unnest(${tx.array(streams, INT8)}::bigint[],
        ${tx.array(positions, INT8)}::bigint[], ${tx.array([...candidates], INT8)}::bigint[])
        AS n(stream_id, pos, k)
      JOIN stream_positions sp ON sp.stream_id = n.stream_id
      CROSS JOIN LATERAL (SELECT 1 FROM logs l WHERE l.stream_id = n.stream_id AND l.pos = n.pos
        AND l.received_at BETWEEN sp.first_received_at AND sp.last_received_at LIMIT 1) AS hit`;
    return rows.map((row) => Number(row.k));
  }

  /**
   * Publishes this store's slot: the group's transaction and a lower bound
   * of its ids, committed (asynchronously: it needs no fsync) before the
   * group takes any id.
   */
  async #publishSlot(xid: string): Promise<void> {
    const sql = this.#slotSql ??= this.#openSlotConnection();
    if (this.#slot === undefined) {
      // Slots of finished transactions hold nothing back: drop them (a live
      // store whose slot goes recreates it with its next group).
      await sql`DELETE FROM nms_ingest_slots
        WHERE pg_visible_in_snapshot(xid, pg_current_snapshot())`;
      const [row] = await sql`INSERT INTO nms_ingest_slots (xid, low)
        VALUES (${xid}::xid8, ${nextId(sql)}) RETURNING id`;
      this.#slot = Number(row!.id);
      return;
    }
    await sql`INSERT INTO nms_ingest_slots (id, xid, low)
      VALUES (${this.#slot}, ${xid}::xid8, ${nextId(sql)})
      ON CONFLICT (id) DO UPDATE SET xid = excluded.xid, low = excluded.low`;
  }

  /** Takes `count` ids from the sequence; returns them in increasing order. */
  async #takeIds(tx: TransactionSql, count: number): Promise<Float64Array> {
    // Runs of consecutive ids (usually one: another collector's ids come
    // between only when two take theirs at the same moment).
    const runs = await tx`
      SELECT min(id) AS first, count(*) AS n FROM (
        SELECT nextval('logs_id_seq') AS id, g.i FROM generate_series(1, ${count}::integer) AS g(i)
      ) AS taken GROUP BY id - i ORDER BY 1`;
    const ids = new Float64Array(count);
    let k = 0;
    for (const run of runs) {
      const first = Number(run.first);
      const n = Number(run.n);
      for (let j = 0; j < n; j++) ids[k++] = first + j;
    }
    return ids;
  }

  /** The COPY data of the rows, in chunks of about {@linkcode COPY_CHUNK_BYTES}. */
  *#encodeRows(
    batches: readonly EventBatch[],
    rowBatch: Int32Array,
    rowIndex: Int32Array,
    ids: Float64Array | null,
    withSyslog: boolean,
  ): Generator<Uint8Array> {
    const out = new BinaryCopyEncoder();
    let next = 0;
    const buckets = new Map<string | null, number>();
    let lastKey: string | undefined;
    let lastStream = 0;
    for (let k = 0; k < rowBatch.length; k++) {
      const b = rowBatch[k]!;
      if (b < 0) continue;
      const batch = batches[b]!;
      const i = rowIndex[k]!;
      const key = batch.stream[i];
      let streamId: number;
      if (key === null || key === undefined) {
        const host = batch.host[i] ?? null;
        let bucket = buckets.get(host);
        if (bucket === undefined) buckets.set(host, bucket = unsequencedStream(host));
        streamId = bucket;
      } else {
        if (key !== lastKey) (lastKey = key, lastStream = this.#streams.get(key)!);
        streamId = lastStream;
      }
      encodeRow(out, batch, i, ids ? ids[next++]! : -1, streamId, withSyslog);
      if (out.length >= COPY_CHUNK_BYTES) yield out.take();
    }
    out.end();
    yield out.take();
  }

  /** Closes the slot's connection. */
  async close(): Promise<void> {
    await this.#slotSql?.end({ timeout: 5 });
  }
}

/** Gives each stored row's batch, where wanted, the id taken for the row. */
function fillEventIds(
  eventIds: NonNullable<AppendOptions["eventIds"]>,
  rowBatch: Int32Array,
  rowIndex: Int32Array,
  ids: Float64Array,
): void {
  let next = 0;
  for (let k = 0; k < rowBatch.length; k++) {
    const b = rowBatch[k]!;
    if (b < 0) continue;
    const id = ids[next++]!;
    const target = eventIds[b];
    if (target) target[rowIndex[k]!] = id;
  }
}

/**
 * Encodes one event as a row of the COPY (columns as in `appendGroup`). A
 * function of its own, not the generator's loop, so that V8 optimizes it.
 */
function encodeRow(
  out: BinaryCopyEncoder,
  batch: EventBatch,
  i: number,
  id: number,
  streamId: number,
  withSyslog: boolean,
): void {
  const receivedAt = Math.floor(batch.receivedAt);
  const ts = batch.ts[i]!;
  const host = batch.host[i] ?? null;
  const program = batch.program[i] ?? null;
  const pid = batch.pid[i]!;
  const severity = batch.severity[i]!;
  const facility = batch.facility[i]!;
  out.row((id < 0 ? 13 : 14) + (withSyslog ? 2 : 0));
  if (id >= 0) out.int64(id);
  out.int64(receivedAt);
  out.int64(Number.isFinite(ts) ? Math.floor(ts) : receivedAt);
  if (host === null) out.null();
  else out.text(clean(host));
  if (batch.agentId === null) out.null();
  else out.int64(batch.agentId);
  if (program === null) out.null();
  else out.text(clean(program));
  if (pid < 0) out.null();
  else out.int32(pid);
  if (severity < 0) out.null();
  else out.int16(severity);
  if (facility < 0) out.null();
  else out.int16(facility);
  // The message is almost always the end of the raw line: copied, not encoded again.
  const raw = batch.raw[i]!;
  const rawClean = !raw.includes("\0");
  const ascii = out.text(rawClean ? raw : clean(raw));
  const start = batch.messageStart?.[i] ?? -1;
  if (start >= 0 && ascii && rawClean) out.tailOfLastText(start);
  else out.text(clean(batch.message[i]!));
  out.int16(batch.flags[i]!);
  out.int64(streamId);
  const key = batch.stream[i];
  if (key === null || key === undefined) out.null();
  else out.int64(batch.position[i]!);
  if (withSyslog) {
    const msgid = batch.msgid?.[i] ?? null;
    const data = batch.structuredData?.[i] ?? null;
    if (msgid === null) out.null();
    else out.text(clean(msgid));
    if (data === null) out.null();
    else out.text(clean(data));
  }
}

/**
 * Applies syslog senders' updates, merged per address first (one statement
 * may not update a row twice) and in address order (no deadlock between servers).
 */
async function upsertSources(tx: TransactionSql, updates: readonly SourceUpdate[]): Promise<void> {
  const merged = new Map<string, {
    hostname: string | null;
    transport: string;
    firstAt: number;
    lastAt: number;
    events: number;
    unparsed: number;
  }>();
  for (const u of updates) {
    const m = merged.get(u.address);
    if (!m) {
      merged.set(u.address, {
        hostname: u.hostname,
        transport: u.transport,
        firstAt: u.at,
        lastAt: u.at,
        events: u.events,
        unparsed: u.unparsed,
      });
      continue;
    }
    m.hostname = u.hostname ?? m.hostname;
    m.transport = u.transport;
    m.lastAt = Math.max(m.lastAt, u.at);
    m.events += u.events;
    m.unparsed += u.unparsed;
  }
  const addresses = [...merged.keys()].sort();
  const rows = addresses.map((a) => merged.get(a)!);
  await tx`
    INSERT INTO sources (address, hostname, transport, first_seen, last_seen, events, unparsed)
    SELECT * FROM unnest(${tx.array(addresses.map(clean), TEXT)}::text[],
      ${tx.array(rows.map((r) => cleanOrNull(r.hostname)), TEXT)}::text[],
      ${tx.array(rows.map((r) => r.transport), TEXT)}::text[],
      ${tx.array(rows.map((r) => Math.floor(r.firstAt)), INT8)}::bigint[],
      ${tx.array(rows.map((r) => Math.floor(r.lastAt)), INT8)}::bigint[],
      ${tx.array(rows.map((r) => r.events), INT8)}::bigint[],
      ${tx.array(rows.map((r) => r.unparsed), INT8)}::bigint[])
    ON CONFLICT (address) DO UPDATE SET hostname = coalesce(excluded.hostname, sources.hostname),
      transport = excluded.transport, last_seen = greatest(sources.last_seen, excluded.last_seen),
      events = sources.events + excluded.events, unparsed = sources.unparsed + excluded.unparsed`;
}
