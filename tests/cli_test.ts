/**
 * `nms-server` as a user runs it: a real `deno run server/main.ts` process per
 * command. A user error must be exactly one stderr line starting with
 * `nms-server: `, a non-zero exit and no stack trace; the happy path runs
 * `serve`, manages users and reads logs while the server is up, then stops it
 * with SIGTERM.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WELCOME_LINE } from "../protocol/mod.ts";
import { openSqliteStore } from "../server/mod.ts";
import { lockSqliteServer } from "../server/store/mod.ts";
import { hashPassword } from "../server/auth/password.ts";
import { makeBatch } from "../server/store/store_conformance.ts";
import { LineClient } from "./_harness/line_client.ts";
import { waitFor } from "./_harness/wait_for.ts";

const MAIN = fileURLToPath(new URL("../server/main.ts", import.meta.url));
const AGENT_MAIN = fileURLToPath(new URL("../agent/main.ts", import.meta.url));
const GOLDEN_DIR = fileURLToPath(new URL("./testdata/cli/", import.meta.url));

/** Longest a single CLI command may take before the test gives up, in ms. */
const COMMAND_TIMEOUT_MS = 60_000;

/** The environment of the test process without NMS_* settings, so they cannot leak into a case. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("NMS_")),
  );
  return { ...env, NO_COLOR: "1", ...extra };
}

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface CliOptions {
  /** Working directory of the process. */
  readonly cwd: string;
  /** Text written to its stdin, which is then closed; no stdin at all when absent. */
  readonly stdin?: string;
  readonly env?: Record<string, string>;
}

/** Runs `deno run -A server/main.ts <args>` (or another entry) to completion. */
async function runCli(args: string[], options: CliOptions, main = MAIN): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    cwd: options.cwd,
    clearEnv: true,
    env: cleanEnv(options.env),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), COMMAND_TIMEOUT_MS);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const output = await child.output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A temp directory removed on dispose. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "nms-cli-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** Creates a database at `dbPath` with one user, as if the server had run once. */
async function initDatabase(dbPath: string): Promise<void> {
  const store = await openSqliteStore(dbPath);
  try {
    await store.createUser("admin", await hashPassword("admin", { logN: 10 }), "admin");
  } finally {
    await store.close();
  }
}

/** Asserts the shape every user error must have, then its exact text. */
function assertUserError(result: CliResult, expectedLine: string): void {
  assert.ok(!result.stderr.includes("    at "), `stack trace on stderr:\n${result.stderr}`);
  assert.notEqual(result.code, 0, "a user error exits non-zero");
  assert.equal(result.stdout, "", "a user error prints nothing on stdout");
  const lines = result.stderr.split("\n");
  assert.equal(lines.pop(), "", "stderr ends with a newline");
  assert.equal(lines.length, 1, `exactly one stderr line, got:\n${result.stderr}`);
  assert.ok(lines[0]!.startsWith("nms-server: "), lines[0]);
  assert.equal(lines[0], expectedLine);
}

// --- user errors: golden stderr lines -------------------------------------------

/** One user error and the exact line it must print. */
interface ErrorCase {
  readonly name: string;
  readonly args: (dir: string) => string[];
  readonly stderr: string;
  /** 2 for a usage error, 1 for a valid command that could not be done. */
  readonly code: 1 | 2;
  /** Creates a database at `<dir>/nms.db` first. */
  readonly withDatabase?: boolean;
}

const ERROR_CASES: readonly ErrorCase[] = [
  {
    name: "an unknown command",
    args: () => ["frobnicate"],
    stderr: "nms-server: unknown command 'frobnicate' (see --help)",
    code: 2,
  },
  {
    name: "a port above 65535",
    args: () => ["serve", "--port", "99999"],
    stderr:
      "nms-server: option '-p, --port <port>' argument '99999' is invalid. expected an integer from 0 to 65535 (see --help)",
    code: 2,
  },
  {
    name: "a port that is not a number",
    args: () => ["serve", "--port", "http"],
    stderr:
      "nms-server: option '-p, --port <port>' argument 'http' is invalid. expected an integer from 0 to 65535 (see --help)",
    code: 2,
  },
  {
    name: "user list without a database",
    args: () => ["user", "list"],
    stderr:
      "nms-server: No database at ./data/nms.db (start the server once, or pass --db or --store)",
    code: 1,
  },
  {
    name: "user add with an unknown role",
    args: () => ["user", "add", "x", "--role", "god"],
    stderr:
      "nms-server: option '-r, --role <role>' argument 'god' is invalid. expected one of admin, viewer, agent (see --help)",
    code: 2,
  },
  {
    name: "user add with a missing password file",
    args: () => ["user", "add", "x", "--password-file", "/nonexistent"],
    stderr:
      "nms-server: Cannot read password file /nonexistent: No such file or directory (os error 2): readfile '/nonexistent'",
    code: 2,
  },
  {
    name: "user remove of a user that does not exist",
    args: (dir) => ["user", "remove", "nobody", "--db", join(dir, "nms.db")],
    stderr: "nms-server: No user named nobody",
    withDatabase: true,
    code: 1,
  },
  {
    name: "logs --since with garbage",
    args: (dir) => ["logs", "--since", "garbage", "--db", join(dir, "nms.db")],
    stderr: 'nms-server: Invalid --since "garbage": use 30s, 15m, 2h, 7d or an ISO date',
    withDatabase: true,
    code: 2,
  },
];

for (const errorCase of ERROR_CASES) {
  Deno.test(`nms-server prints one error line and exits non-zero for ${errorCase.name}`, async () => {
    await using dir = await tempDir();
    if (errorCase.withDatabase) await initDatabase(join(dir.path, "nms.db"));
    const result = await runCli(errorCase.args(dir.path), { cwd: dir.path });
    assertUserError(result, errorCase.stderr);
    assert.equal(result.code, errorCase.code, "exit code: 2 usage error, 1 could not be done");
  });
}

for (const taken of ["agent", "web console"] as const) {
  Deno.test(`nms-server serve prints one error line and exits non-zero when the ${taken} port is in use`, async () => {
    await using dir = await tempDir();
    const dbPath = join(dir.path, "nms.db");
    // An initialized database, as on any restart: no admin bootstrap message precedes the error.
    await initDatabase(dbPath);
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    const [agentPort, httpPort] = taken === "agent" ? [port, 0] : [0, port];
    const result = await runCli(
      [
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        String(agentPort),
        "--http-port",
        String(httpPort),
        "--db",
        dbPath,
        "--workers",
        "1",
      ],
      { cwd: dir.path },
    );
    assertUserError(
      result,
      `nms-server: Port ${agentPort} (agents) or ${httpPort} (web console) is already in use`,
    );
    assert.equal(result.code, 1, "a valid command that cannot be done exits 1");
  });
}

Deno.test("nms-server serve prints one error line and exits non-zero when another server uses the SQLite database", async () => {
  await using dir = await tempDir();
  const dbPath = join(dir.path, "nms.db");
  await initDatabase(dbPath);
  // The lock a running server holds.
  const lock = await lockSqliteServer(dbPath);
  try {
    const result = await runCli(
      ["serve", "--host", "127.0.0.1", "--port", "0", "--http-port", "0", "--db", dbPath],
      { cwd: dir.path },
    );
    assertUserError(
      result,
      `nms-server: Another nms-server is using ${dbPath} (it holds ${dbPath}.lock): one SQLite database takes one server; several servers share a PostgreSQL database (docs/SCALING.md)`,
    );
    assert.equal(result.code, 1, "a valid command that cannot be done exits 1");
  } finally {
    lock.release();
  }
});

// --- the happy path ------------------------------------------------------------------

/** A running `nms-server serve` whose stderr is collected; killed on dispose if still running. */
interface ServeProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when stderr has ended. */
  readonly stderrDone: Promise<void>;
}

function spawnServe(args: string[], options: CliOptions): ServeProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", ...args],
    cwd: options.cwd,
    clearEnv: true,
    env: cleanEnv(options.env),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) text += chunk;
  })();
  let exited = false;
  child.status.then(() => exited = true);
  return {
    child,
    stderr: () => text,
    stderrDone,
    async [Symbol.asyncDispose]() {
      if (!exited) child.kill("SIGKILL");
      await child.status;
      await stderrDone;
    },
  };
}

Deno.test("nms-server serves agents, manages users and prints logs, and exits 0 on SIGTERM", async () => {
  await using dir = await tempDir();
  const dbPath = join(dir.path, "data", "nms.db");
  const adminPassword = "admin pass with spaces";
  await using serve = spawnServe(
    ["--port", "0", "--http-port", "0", "--host", "127.0.0.1", "--db", dbPath, "--workers", "1"],
    { cwd: dir.path, env: { NMS_ADMIN_PASSWORD: adminPassword } },
  );

  // The bound port is only known from the start-up line on stderr.
  const [, port] = await waitFor(
    () => /Listening for agents address=127\.0\.0\.1:(\d+) /.exec(serve.stderr()),
    { timeoutMs: 30_000, message: "the 'Listening for agents' line", intervalMs: 20 },
  );

  const [, consoleUrl] = await waitFor(
    () => /Web console listening url=(\S+)/.exec(serve.stderr()),
    { timeoutMs: 30_000, message: "the 'Web console listening' line", intervalMs: 20 },
  );
  // The container HEALTHCHECK (Dockerfile) probes this endpoint.
  const health = await fetch(new URL("/healthz", consoleUrl));
  assert.equal(health.status, 200);
  const healthBody = await health.json();
  assert.equal(healthBody.status, "ok");
  assert.ok(["checking", "ok"].includes(healthBody.integrity), healthBody.integrity);

  {
    await using client = await LineClient.connect(Number(port));
    assert.equal(await client.readLine(), WELCOME_LINE);
    await client.send(`LOGIN admin ${adminPassword}`);
    assert.equal(await client.readLine(), "ACK OK Login successful");
    await client.send("REGISTER 0.1.0 cli-test-host Linux");
    assert.equal(await client.readLine(), "ACK OK Registration successful");
    await client.send(
      "BATCH_EVENT Nov 23 19:43:33 web-01 sshd[812]: Accepted publickey for deploy",
    );
    // The ACK follows the COMMIT, so the event is on disk for the CLI below.
    assert.equal(await client.readLine(), "ACK OK Event received");
    await client.send("BYE");
    assert.equal(await client.readLine(), "ACK OK Goodbye");
  }

  const added = await runCli(["user", "add", "bob", "--role", "viewer", "--db", dbPath], {
    cwd: dir.path,
    stdin: "bob's password\n",
  });
  assert.equal(added.stderr, "");
  assert.equal(added.code, 0);
  assert.equal(added.stdout, "Created user bob with role viewer\n");

  const listed = await runCli(["user", "list", "--db", dbPath], { cwd: dir.path });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^NAME\s+ROLE\s+CREATED$/m);
  assert.match(listed.stdout, /^admin\s+admin\s+\d{4}-/m);
  assert.match(listed.stdout, /^bob\s+viewer\s+\d{4}-/m);

  const logs = await runCli(["logs", "--db", dbPath, "--host", "web-01"], { cwd: dir.path });
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stderr, "");
  assert.match(
    logs.stdout,
    /^\S+ web-01 \S+ sshd\[812\]: Accepted publickey for deploy$/m,
  );

  {
    // bob's password arrived intact through stdin: he can log in over TCP.
    await using client = await LineClient.connect(Number(port));
    await client.readLine();
    await client.send("LOGIN bob bob's password");
    assert.equal(await client.readLine(), "ACK OK Login successful");
  }

  serve.child.kill("SIGTERM");
  const status = await serve.child.status;
  await serve.stderrDone;
  assert.equal(status.code, 0, serve.stderr());
  assert.match(serve.stderr(), /Received SIGTERM, shutting down/);
  assert.match(serve.stderr(), /Server stopped/);
  assert.ok(!serve.stderr().includes("    at "), serve.stderr());
  assert.ok(!serve.stderr().includes(adminPassword), "the admin password is never logged");
  assert.ok(!serve.stderr().includes("bob's password"), "bob's password is never logged");
});

// --- golden cases: exact stdout, stderr and exit code in tests/testdata/cli/ -------------
// NMS_UPDATE_GOLDEN=1 rewrites the files from what the commands print now.

/** 2024-05-01T12:00:00Z, the time of the first golden event. */
const GOLDEN_T0 = Date.UTC(2024, 4, 1, 12);

/** A database with one admin, events of every kind the golden cases print, and a hostile agent. */
async function goldenDatabase(dbPath: string): Promise<void> {
  await initDatabase(dbPath);
  const store = await openSqliteStore(dbPath);
  try {
    const minute = 60_000;
    await store.appendEvents([makeBatch([
      {
        ts: GOLDEN_T0,
        host: "web-01",
        program: "sshd",
        pid: 812,
        severity: 6,
        message: "Accepted publickey for deploy",
      },
      {
        ts: GOLDEN_T0 + minute,
        host: "web-01",
        program: "sshd",
        pid: 813,
        severity: 4,
        message: "Failed password for root",
      },
      {
        ts: GOLDEN_T0 + 2 * minute,
        host: "db-01",
        program: "kernel",
        severity: 2,
        message: "Out of memory: killed process 4242",
      },
      {
        ts: GOLDEN_T0 + 3 * minute,
        host: "db-01",
        program: "app",
        severity: 3,
        message: "bad \x1b[31mred\x1b[0m line\ttab",
      },
    ], { receivedAt: GOLDEN_T0 + 4 * minute })]);
    // A hostname with a control character: the table must stay aligned.
    for (const hostname of ["web-01", "evil\x1b[2Jhost", "db-01"]) {
      await store.registerAgent({
        hostname,
        version: "0.1.0",
        os: "Debian GNU/Linux 12",
        address: "192.0.2.7:40000",
        at: GOLDEN_T0,
      });
    }
  } finally {
    await store.close();
  }
}

/** One golden case: a command line and the file holding what it must print. */
interface GoldenCase {
  /** File name in tests/testdata/cli/, without `.txt`. */
  readonly name: string;
  readonly binary: "nms-server" | "nms-agent";
  /** Arguments; `$DB` stands for the golden database's path. */
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
}

const GOLDEN_CASES: readonly GoldenCase[] = [
  { name: "server_no_such_command", binary: "nms-server", args: ["frobnicate"] },
  { name: "server_logs_text", binary: "nms-server", args: ["logs", "--db", "$DB"] },
  {
    name: "server_logs_ndjson",
    binary: "nms-server",
    args: ["logs", "--db", "$DB", "--output", "ndjson", "-n", "2"],
  },
  {
    name: "server_logs_json",
    binary: "nms-server",
    args: ["logs", "--db", "$DB", "--json", "--host", "web-01", "-n", "1"],
  },
  {
    name: "server_logs_severity",
    binary: "nms-server",
    args: ["logs", "--db", "$DB", "--severity", "warning"],
  },
  {
    name: "server_logs_severity_number",
    binary: "nms-server",
    args: ["logs", "--db", "$DB", "--severity", "2"],
  },
  {
    name: "server_logs_since_until",
    binary: "nms-server",
    args: [
      "logs",
      "--db",
      "$DB",
      "--since",
      "2024-05-01T12:01:00Z",
      "--until",
      "2024-05-01T12:03:00Z",
    ],
  },
  {
    name: "server_logs_bad_severity",
    binary: "nms-server",
    args: ["logs", "--db", "$DB", "--severity", "loud"],
  },
  {
    name: "server_logs_bad_until",
    binary: "nms-server",
    args: ["logs", "--db", "$DB", "--until", "soon"],
  },
  {
    name: "server_logs_bad_output",
    binary: "nms-server",
    args: ["logs", "--db", "$DB", "--output", "xml"],
  },
  {
    name: "server_logs_until_follow",
    binary: "nms-server",
    args: ["logs", "--db", "$DB", "--until", "1h", "--follow"],
  },
  { name: "server_agents_table", binary: "nms-server", args: ["agents", "--db", "$DB"] },
  {
    name: "server_agents_filtered",
    binary: "nms-server",
    args: ["agents", "--db", "$DB", "--name", "WEB", "--os", "debian", "--sort", "registeredAt"],
  },
  {
    name: "server_agents_status_json",
    binary: "nms-server",
    args: ["agents", "--db", "$DB", "--status", "late", "--json"],
  },
  {
    name: "server_agents_page",
    binary: "nms-server",
    args: ["agents", "--db", "$DB", "--desc", "--limit", "1", "--offset", "1"],
  },
  {
    name: "server_agents_prefix",
    binary: "nms-server",
    args: ["agents", "--db", "$DB", "--prefix", "--address", "192.0.2."],
  },
  {
    name: "server_agents_after",
    binary: "nms-server",
    // The cursor of the node "db-01" in the hostname order, as a page printed it.
    args: [
      "agents",
      "--db",
      "$DB",
      "--after",
      "eyJzIjoiaG9zdG5hbWUiLCJkIjowLCJrIjoiZGItMDEiLCJpIjozfQ",
    ],
  },
  {
    name: "server_agents_bad_after",
    binary: "nms-server",
    args: ["agents", "--db", "$DB", "--after", "not a cursor"],
  },
  {
    name: "server_agents_forged_after",
    binary: "nms-server",
    args: ["agents", "--db", "$DB", "--after", "eyJzIjoiaG9zdG5hbWUiLCJkIjowLCJrIjo1LCJpIjoxfQ"],
  },
  {
    name: "server_agents_bad_status",
    binary: "nms-server",
    args: ["agents", "--db", "$DB", "--status", "dead"],
  },
  {
    name: "server_agents_bad_limit",
    binary: "nms-server",
    args: ["agents", "--db", "$DB", "--limit", "501"],
  },
  {
    name: "server_user_remove_unknown",
    binary: "nms-server",
    args: ["user", "remove", "nobody", "--db", "$DB"],
  },
  {
    name: "server_env_log_level_loud",
    binary: "nms-server",
    args: ["serve", "--db", "$DB"],
    env: { NMS_LOG_LEVEL: "loud" },
  },
  {
    name: "server_env_heartbeat_fraction",
    binary: "nms-server",
    args: ["agents", "--db", "$DB", "--json"],
    env: { NMS_HEARTBEAT: "2.5" },
  },
  { name: "agent_unknown_option", binary: "nms-agent", args: ["run", "--bogus"] },
  { name: "agent_unknown_command", binary: "nms-agent", args: ["frobnicate"] },
  {
    name: "agent_missing_user",
    binary: "nms-agent",
    args: ["run", "--server", "127.0.0.1:1", "--path", "/tmp/x.log"],
  },
  {
    name: "agent_bad_env",
    binary: "nms-agent",
    args: ["run", "--server", "127.0.0.1:1", "--user", "u", "--path", "/tmp/x.log"],
    env: { NMS_LOG_LEVEL: "loud", NMS_PASSWORD: "x" },
  },
  {
    name: "agent_password_file_missing",
    binary: "nms-agent",
    args: [
      "run",
      "--server",
      "127.0.0.1:1",
      "--user",
      "u",
      "--password-file",
      "/nonexistent",
      "--path",
      "/tmp/x.log",
    ],
  },
];

/** What a command printed, in the golden files' format. */
function renderGolden(golden: GoldenCase, result: CliResult, dir: string): string {
  const hide = (text: string) => text.replaceAll(dir, "$DIR");
  const args = golden.args.map((a) => a.replaceAll("$DB", "$DIR/nms.db"));
  const env = Object.entries(golden.env ?? {}).map(([k, v]) => `${k}=${v} `).join("");
  return [
    `$ ${env}${golden.binary} ${args.join(" ")}`,
    `exit ${result.code}`,
    "--- stdout",
    hide(result.stdout) + "--- stderr",
    hide(result.stderr),
  ].join("\n");
}

for (const golden of GOLDEN_CASES) {
  Deno.test(`${golden.binary} prints what tests/testdata/cli/${golden.name}.txt holds`, async () => {
    await using dir = await tempDir();
    const db = join(dir.path, "nms.db");
    if (golden.binary === "nms-server") await goldenDatabase(db);
    const args = golden.args.map((a) => a.replaceAll("$DB", db));
    const result = await runCli(
      args,
      { cwd: dir.path, env: { TZ: "UTC", ...golden.env } },
      golden.binary === "nms-server" ? MAIN : AGENT_MAIN,
    );
    assert.ok(!result.stderr.includes("    at "), `stack trace on stderr:\n${result.stderr}`);
    const actual = renderGolden(golden, result, dir.path);
    const file = join(GOLDEN_DIR, `${golden.name}.txt`);
    if (Deno.env.get("NMS_UPDATE_GOLDEN") === "1") {
      await Deno.mkdir(GOLDEN_DIR, { recursive: true });
      await Deno.writeTextFile(file, actual);
    }
    assert.equal(actual, await Deno.readTextFile(file));
  });
}
