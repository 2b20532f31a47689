/**
 * Statements built from a few query texts (which filters are set, which
 * marks are asked), each prepared once per connection and kept while the
 * set of texts stays small.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/**
 * Prepared statements by their text, at most `max` of them: past that the
 * cache starts over, so texts that vary without bound cannot grow it.
 *
 * @example
 * ```ts
 * const prepared = new PreparedStatements(db, 8);
 * prepared.get("SELECT count(*) AS n FROM agents").get();
 * ```
 */
export class PreparedStatements {
  readonly #db: DatabaseSync;
  readonly #max: number;
  readonly #cache = new Map<string, StatementSync>();

  /**
   * @param db The connection to prepare on.
   * @param max Most statements kept.
   */
  constructor(db: DatabaseSync, max: number) {
    this.#db = db;
    this.#max = max;
  }

  /**
   * The statement of a text, prepared on first use.
   *
   * @param sql The query text.
   * @returns Its prepared statement.
   */
  get(sql: string): StatementSync {
    let statement = this.#cache.get(sql);
    if (statement === undefined) {
      if (this.#cache.size >= this.#max) this.#cache.clear();
      statement = this.#db.prepare(sql);
      this.#cache.set(sql, statement);
    }
    return statement;
  }
}
