import assert from "node:assert/strict";
import {
  defaultMaxConnections,
  FD_RESERVE,
  fdLimitUnknownNote,
  fdLimitWarning,
  MAX_DEFAULT_CONNECTIONS,
  MIN_DEFAULT_CONNECTIONS,
  parseFdLimit,
  readFdLimit,
} from "./fd_limit.ts";
import { DEFAULT_MAX_CONNECTIONS } from "./connection_limits.ts";

const PROC_LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            1024                 524288               files     
Max locked memory         8388608              8388608              bytes     
`;

Deno.test("parseFdLimit() reads the soft and hard open-files limits of /proc/<pid>/limits", () => {
  assert.deepEqual(parseFdLimit(PROC_LIMITS), { soft: 1024, hard: 524288 });
  assert.deepEqual(
    parseFdLimit("Max open files            unlimited            unlimited            files\n"),
    { soft: Infinity, hard: Infinity },
  );
  assert.equal(parseFdLimit("Max cpu time unlimited unlimited seconds\n"), null);
  assert.equal(parseFdLimit("Max open files  lots  more  files\n"), null);
});

Deno.test("readFdLimit() reads this process's limit on Linux", () => {
  const limit = readFdLimit();
  if (Deno.build.os !== "linux") return assert.equal(limit, null);
  assert.ok(limit !== null && limit.soft >= 1 && limit.hard >= limit.soft);
});

Deno.test("defaultMaxConnections() is the soft limit less the reserve, within bounds", () => {
  assert.equal(defaultMaxConnections({ soft: 65536, hard: 65536 }), 65536 - FD_RESERVE);
  assert.equal(defaultMaxConnections({ soft: 1024, hard: 524288 }), 1024 - FD_RESERVE);
  assert.equal(defaultMaxConnections({ soft: 100, hard: 100 }), MIN_DEFAULT_CONNECTIONS);
  assert.equal(defaultMaxConnections({ soft: Infinity, hard: Infinity }), MAX_DEFAULT_CONNECTIONS);
  assert.equal(defaultMaxConnections(null), DEFAULT_MAX_CONNECTIONS);
});

Deno.test("fdLimitWarning() names the figures and the fix when the limit cannot hold the connections", () => {
  assert.equal(fdLimitWarning(1000, { soft: 65536, hard: 65536 }), null);
  assert.equal(fdLimitWarning(20_000, null), null);
  const warning = fdLimitWarning(20_000, { soft: 1024, hard: 4096 })!;
  assert.match(warning, /^File-descriptor limit 1024 holds 768 agent connections, not the 20000/);
  assert.match(warning, /hard limit 4096/);
  assert.match(warning, /LimitNOFILE/);
  assert.ok(!warning.includes("\n"));
  assert.match(fdLimitWarning(Infinity, { soft: 1024, hard: 1024 })!, /not the unlimited/);
});

Deno.test("fdLimitUnknownNote() says how to raise the connection limit when the descriptor limit cannot be read", () => {
  assert.match(fdLimitUnknownNote(false, null)!, /--max-connections \(NMS_MAX_CONNECTIONS\)/);
  assert.equal(fdLimitUnknownNote(true, null), null, "an explicit limit needs no note");
  assert.equal(fdLimitUnknownNote(false, { soft: 1024, hard: 1024 }), null);
});
