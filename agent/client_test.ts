import assert from "node:assert/strict";
import { FAIL, LineSplitter, OK, WELCOME_LINE } from "../protocol/mod.ts";
import { waitFor } from "../tests/_harness/wait_for.ts";
import { AccessDeniedError, Client, type ClientOptions, type EventOutcome } from "./client.ts";

const encoder = new TextEncoder();
const enc = (text: string) => encoder.encode(text);
const HOST = { version: "0.1.0", hostname: "test-host", os: "Test OS 1.0" };

/** Decides the server's answer lines to one client line; null closes the connection. */
type Script = (line: string) => string[] | null;

/** Answers the paper's conversation: any LOGIN with password "good", everything else OK. */
const happyPath: Script = (line) => {
  if (line.startsWith("LOGIN ")) {
    return [line.endsWith(" good") ? `ACK OK ${OK.login}` : `ACK FAIL ${FAIL.invalidCredentials}`];
  }
  if (line.startsWith("REGISTER ")) return [`ACK OK ${OK.register}`];
  if (line.startsWith("HEARTBEAT ")) return [`ACK OK ${OK.heartbeat}`];
  if (line === "BYE") return [`ACK OK ${OK.goodbye}`];
  return [`ACK OK ${OK.event}`];
};

/** A tiny protocol server on port 0 that records what it receives. */
function fakeServer(script: Script, options: { welcome?: string | null } = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: string[] = [];
  const connections: Deno.Conn[] = [];
  const serve = async (conn: Deno.Conn) => {
    connections.push(conn);
    const splitter = new LineSplitter();
    const buffer = new Uint8Array(64 * 1024);
    const write = async (text: string) => {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    };
    try {
      if (options.welcome !== null) await write((options.welcome ?? WELCOME_LINE) + "\n");
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        let reply = "";
        let close = false;
        splitter.push(buffer.subarray(0, n), {
          line: (text) => {
            if (close) return;
            received.push(text);
            const answer = script(text);
            if (answer === null) close = true;
            else for (const line of answer) reply += line + "\n";
          },
          overflow: () => {},
        });
        if (reply) await write(reply);
        if (close) break;
      }
    } catch {
      // The client went away.
    } finally {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  const serving: Promise<void>[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) serving.push(serve(conn));
    } catch {
      // Listener closed.
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    received,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const conn of connections) {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
      await Promise.all(serving);
    },
  };
}

interface Acked {
  ref: string;
  position: number;
  outcome: EventOutcome;
  message: string;
}

function options(
  port: number,
  acked: Acked[],
  overrides: Partial<ClientOptions<string>> = {},
): ClientOptions<string> {
  return {
    hostname: "127.0.0.1",
    port,
    username: "agent",
    password: "good",
    host: HOST,
    handler: {
      eventAcked: (ref, position, outcome, message) =>
        acked.push({ ref, position, outcome, message }),
    },
    ...overrides,
  };
}

Deno.test("Client.connect() reads the welcome line, logs in and registers", async () => {
  await using server = fakeServer(happyPath);
  const client = await Client.connect(options(server.port, []));
  try {
    assert.equal(client.welcome, WELCOME_LINE);
    assert.deepEqual(server.received, [
      "LOGIN agent good",
      "REGISTER 0.1.0 test-host Test OS 1.0",
    ]);
  } finally {
    client.close();
    await client.done;
  }
});

Deno.test("Client.queueEvent() sends EVENT lines and reports each ACK in order", async () => {
  let n = 0;
  await using server = fakeServer((line) => {
    if (!line.startsWith("EVENT ")) return happyPath(line);
    n++;
    if (n === 2) return [`ACK OK ${OK.duplicate}`];
    if (n === 3) return [`ACK FAIL ${FAIL.lineTooLong}`];
    return [`ACK OK ${OK.event}`];
  });
  const acked: Acked[] = [];
  const client = await Client.connect(options(server.port, acked));
  try {
    client.queueEvent("a", enc("S1"), 10, enc("first line"), 10);
    client.queueEvent("b", enc("S1"), 25, enc("second  line "), 15);
    client.queueEvent("c", enc("S2"), 7, enc("third"), 7);
    client.queueEvent("d", enc("S2"), 9, enc("x"), 2);
    assert.equal(client.inFlightLines, 4);
    assert.equal(client.inFlightBytes, 34);
    await client.flush();
    await waitFor(() => acked.length === 4);
    assert.deepEqual(server.received.slice(2), [
      "EVENT S1 10 first line",
      "EVENT S1 25 second  line ",
      "EVENT S2 7 third",
      "EVENT S2 9 x",
    ]);
    assert.deepEqual(acked, [
      { ref: "a", position: 10, outcome: "stored", message: OK.event },
      { ref: "b", position: 25, outcome: "duplicate", message: OK.duplicate },
      { ref: "c", position: 7, outcome: "failed", message: FAIL.lineTooLong },
      { ref: "d", position: 9, outcome: "stored", message: OK.event },
    ]);
    assert.equal(client.inFlightLines, 0);
    assert.equal(client.inFlightBytes, 0);
  } finally {
    client.close();
    await client.done;
  }
});

Deno.test("Client keeps heartbeats and events in ACK order", async () => {
  await using server = fakeServer(happyPath);
  const acked: Acked[] = [];
  const client = await Client.connect(options(server.port, acked));
  try {
    client.queueEvent("a", enc("S"), 1, enc("one"), 1);
    await client.heartbeat(3600.7, 42);
    client.queueEvent("b", enc("S"), 2, enc("two"), 1);
    assert.equal(await client.waitForAcks(5_000), true);
    assert.deepEqual(server.received.slice(2), [
      "EVENT S 1 one",
      "HEARTBEAT 3600 lag=42",
      "EVENT S 2 two",
    ]);
    assert.deepEqual(acked.map((a) => a.ref), ["a", "b"]);
  } finally {
    client.close();
    await client.done;
  }
});

Deno.test("Client.hasRoom() is false while the window of lines is full", async () => {
  const held: string[] = [];
  let release = false;
  await using server = fakeServer((line) => {
    if (!line.startsWith("EVENT ")) return happyPath(line);
    if (!release) {
      held.push(line);
      return [];
    }
    return [`ACK OK ${OK.event}`];
  });
  const acked: Acked[] = [];
  const client = await Client.connect(options(server.port, acked, { maxInFlightLines: 3 }));
  try {
    for (let i = 1; i <= 3; i++) client.queueEvent(`r${i}`, enc("S"), i, enc(`line ${i}`), 1);
    assert.equal(client.hasRoom(), false);
    await client.flush();
    await waitFor(() => held.length === 3);
    release = true;
    // The server answers held lines late, all at once.
    client.queueEvent("r4", enc("S"), 4, enc("line 4"), 1);
    await client.flush();
    await waitFor(() => acked.length === 1);
    assert.equal(client.inFlightLines, 3);
    assert.equal(client.hasRoom(), false);
  } finally {
    client.close();
    await client.done;
  }
});

Deno.test("Client.hasRoom() respects the byte window", async () => {
  await using server = fakeServer(happyPath);
  const client = await Client.connect(options(server.port, [], { maxInFlightBytes: 100 }));
  try {
    client.queueEvent("a", enc("S"), 60, enc("x".repeat(59)), 60);
    assert.equal(client.hasRoom(), true);
    client.queueEvent("b", enc("S"), 120, enc("x".repeat(59)), 60);
    assert.equal(client.hasRoom(), false);
    assert.equal(await client.waitForAcks(5_000), true);
    assert.equal(client.hasRoom(), true);
  } finally {
    client.close();
    await client.done;
  }
});

Deno.test("Client pipelines 20,000 events in large writes and matches every ACK", async () => {
  await using server = fakeServer(happyPath);
  const acked: Acked[] = [];
  const client = await Client.connect(options(server.port, acked, { maxInFlightLines: 50_000 }));
  try {
    for (let i = 1; i <= 20_000; i++) {
      client.queueEvent(`r${i}`, enc("S"), i * 10, enc(`line ${i}`), 10);
    }
    assert.equal(await client.waitForAcks(10_000), true);
    assert.equal(acked.length, 20_000);
    assert.ok(acked.every((a, i) => a.position === (i + 1) * 10 && a.outcome === "stored"));
  } finally {
    client.close();
    await client.done;
  }
});

Deno.test("Client.connect() rejects wrong credentials with AccessDeniedError", async () => {
  await using server = fakeServer(happyPath);
  await assert.rejects(
    () => Client.connect(options(server.port, [], { password: "bad" })),
    (error: unknown) => {
      assert.ok(error instanceof AccessDeniedError);
      assert.equal(error.reason, FAIL.invalidCredentials);
      assert.match(error.message, /as agent was refused: Invalid credentials/);
      return true;
    },
  );
});

Deno.test("Client.connect() treats a refused REGISTER role as fatal", async () => {
  await using server = fakeServer((line) =>
    line.startsWith("REGISTER ") ? [`ACK FAIL ${FAIL.forbidden}`] : happyPath(line)
  );
  await assert.rejects(() => Client.connect(options(server.port, [])), AccessDeniedError);
});

Deno.test("Client.connect() fails with a plain Error when the server closes during the handshake", async () => {
  await using server = fakeServer((line) => (line.startsWith("LOGIN") ? null : []));
  await assert.rejects(
    () => Client.connect(options(server.port, [])),
    (error: unknown) => error instanceof Error && !(error instanceof AccessDeniedError),
  );
});

Deno.test("Client.connect() fails when nothing listens on the port", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(() => Client.connect(options(port, [])), Error);
});

Deno.test("Client.connect() times out when the server never greets", async () => {
  await using server = fakeServer(happyPath, { welcome: null });
  const started = performance.now();
  await assert.rejects(
    () => Client.connect(options(server.port, [], { handshakeTimeoutMs: 100 })),
    /Handshake timed out/,
  );
  assert.ok(performance.now() - started < 5_000);
});

Deno.test("Client.connect() rejects invalid credentials format before connecting", async () => {
  await assert.rejects(
    () => Client.connect(options(1, [], { username: "two words" })),
    TypeError,
  );
  await assert.rejects(
    () => Client.connect(options(1, [], { password: "line\nbreak" })),
    TypeError,
  );
});

Deno.test("Client closes and keeps the line unacknowledged on ACK FAIL Server shutting down", async () => {
  await using server = fakeServer((line) =>
    line.startsWith("EVENT ") ? [`ACK FAIL ${FAIL.shuttingDown}`] : happyPath(line)
  );
  const acked: Acked[] = [];
  const client = await Client.connect(options(server.port, acked));
  client.queueEvent("a", enc("S"), 1, enc("one"), 1);
  await client.flush();
  const reason = await client.done;
  assert.match(reason.message, /Server shutting down/);
  assert.equal(acked.length, 0);
  assert.equal(client.closed, true);
});

Deno.test("Client closes on an ACK it did not ask for", async () => {
  await using server = fakeServer((line) =>
    line.startsWith("REGISTER ") ? [`ACK OK ${OK.register}`, "ACK OK surprise"] : happyPath(line)
  );
  const client = await Client.connect(options(server.port, [])).catch((e) => e as Error);
  if (client instanceof Client) {
    const reason = await client.done;
    assert.match(reason.message, /Unexpected line/);
  } else {
    assert.match(client.message, /Unexpected line/);
  }
});

Deno.test("Client.bye() waits for ACK OK Goodbye", async () => {
  await using server = fakeServer(happyPath);
  const client = await Client.connect(options(server.port, []));
  try {
    assert.equal(await client.bye(2_000), true);
    assert.equal(server.received.at(-1), "BYE");
  } finally {
    client.close();
    await client.done;
  }
});

Deno.test("Client.bye() gives up after its timeout", async () => {
  await using server = fakeServer((line) => (line === "BYE" ? [] : happyPath(line)));
  const client = await Client.connect(options(server.port, []));
  try {
    assert.equal(await client.bye(50), false);
  } finally {
    client.close();
    await client.done;
  }
});

Deno.test("Client.done reports the server closing the connection", async () => {
  await using server = fakeServer((
    line,
  ) => (line.startsWith("EVENT") ? null : happyPath(line)));
  const client = await Client.connect(options(server.port, []));
  client.queueEvent("a", enc("S"), 1, enc("one"), 1);
  await client.flush();
  const reason = await client.done;
  assert.match(reason.message, /closed by the server|reset|Broken pipe/i);
  assert.equal(client.inFlightLines, 1);
});

Deno.test("Client.queueEvent() writes positions of every size in decimal and copies the line", async () => {
  await using server = fakeServer(happyPath);
  const client = await Client.connect(options(server.port, []));
  try {
    const positions = [0, 7, 10, 99, 100, 1_234_567_890_123, Number.MAX_SAFE_INTEGER];
    const line = enc("reused buffer");
    for (const position of positions) client.queueEvent("r", enc("S"), position, line, 1);
    line.fill(0x21); // The caller may reuse its buffer at once.
    assert.equal(await client.waitForAcks(5_000), true);
    assert.deepEqual(
      server.received.slice(2),
      positions.map((p) => `EVENT S ${p} reused buffer`),
    );
  } finally {
    client.close();
    await client.done;
  }
});
