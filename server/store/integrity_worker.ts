/**
 * Entry point of the integrity check's worker: runs one check of the
 * database on its own read-only connection and posts the findings, so the
 * server keeps serving while SQLite reads the whole file
 * (server/store/integrity_check.ts).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { checkSqliteIntegrity } from "./integrity_check.ts";

self.onmessage = (event: MessageEvent<{ path: string; quick: boolean }>) => {
  self.postMessage(checkSqliteIntegrity(event.data.path, { quick: event.data.quick }));
};
