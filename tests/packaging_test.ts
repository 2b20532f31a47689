/**
 * The deployment files say what docs/PRODUCTION.md promises:
 * hardened systemd units, a compose file whose agent follows the host's
 * /var/log read-only with the data in a named volume, and health checks on
 * the server's and the agent's /healthz. (No systemd or Docker daemon runs in CI: these
 * checks read the files; `systemd-analyze verify` is run when available.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { FD_RESERVE } from "../server/agent_port/fd_limit.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** `Key=value` lines of a unit file, comments dropped, later lines appended. */
async function unit(name: string): Promise<Map<string, string[]>> {
  const text = await Deno.readTextFile(`${ROOT}packaging/systemd/${name}`);
  const settings = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) settings.set(match[1]!, [...settings.get(match[1]!) ?? [], match[2]!]);
  }
  return settings;
}

const HARDENING: Record<string, string> = {
  NoNewPrivileges: "yes",
  ProtectSystem: "strict",
  ProtectHome: "yes",
  PrivateTmp: "yes",
  CapabilityBoundingSet: "",
  AmbientCapabilities: "",
};

for (
  const [name, user, dir] of [
    ["nms-server.service", "nms", "/var/lib/nms"],
    ["nms-agent.service", "nms-agent", "/var/lib/nms-agent"],
  ] as const
) {
  Deno.test(`packaging/systemd/${name} runs as ${user}, hardened, writing only ${dir}`, async () => {
    const settings = await unit(name);
    assert.deepEqual(settings.get("User"), [user]);
    for (const [key, value] of Object.entries(HARDENING)) {
      assert.deepEqual(settings.get(key), [value], key);
    }
    assert.deepEqual(settings.get("ReadWritePaths"), [dir]);
    assert.ok(!settings.has("MemoryDenyWriteExecute"), "V8 needs writable executable memory");
    assert.match(settings.get("ExecStart")![0]!, /--config \/etc\/nms\/nms-(server|agent)\.yaml/);
  });
}

Deno.test("packaging/systemd/nms-agent.service reads /var/log through the adm group", async () => {
  const settings = await unit("nms-agent.service");
  assert.deepEqual(settings.get("SupplementaryGroups"), ["adm"]);
  const sysusers = await Deno.readTextFile(`${ROOT}packaging/systemd/nms.sysusers.conf`);
  assert.match(sysusers, /^m\s+nms-agent\s+adm$/m);
});

Deno.test("packaging/systemd/nms-server.service reloads on SIGHUP", async () => {
  const settings = await unit("nms-server.service");
  assert.deepEqual(settings.get("ExecReload"), ["/bin/kill -HUP $MAINPID"]);
});

Deno.test("the systemd unit and compose.yaml pass a connection limit their descriptor limit holds", async () => {
  // The binary cannot read its own limit (Deno reads /proc/self only with --allow-all).
  const settings = await unit("nms-server.service");
  const nofile = Number(settings.get("LimitNOFILE")![0]);
  const env = settings.get("Environment")!.find((e) => e.startsWith("NMS_MAX_CONNECTIONS="));
  assert.ok(env, "NMS_MAX_CONNECTIONS beside LimitNOFILE");
  assert.equal(Number(env.split("=")[1]), nofile - FD_RESERVE);
  const compose = parseYaml(await Deno.readTextFile(`${ROOT}compose.yaml`)) as {
    services: Record<
      string,
      { environment?: Record<string, string>; ulimits?: { nofile: { soft: number } } }
    >;
  };
  const server = compose.services.server!;
  const fallback = /^\$\{NMS_MAX_CONNECTIONS:-(\d+)\}$/.exec(
    server.environment!.NMS_MAX_CONNECTIONS!,
  );
  assert.equal(Number(fallback?.[1]), server.ulimits!.nofile.soft - FD_RESERVE);
});

Deno.test("compose.yaml runs a server and an agent following the host's /var/log read-only", async () => {
  const compose = parseYaml(await Deno.readTextFile(`${ROOT}compose.yaml`)) as {
    services: Record<string, { volumes?: string[]; entrypoint?: string[]; command?: string[] }>;
    volumes: Record<string, unknown>;
  };
  const { server, agent } = compose.services;
  assert.ok(server && agent);
  assert.ok(server.volumes?.includes("nms-data:/data"));
  assert.ok("nms-data" in compose.volumes, "the data is in a named volume");
  assert.ok(agent.volumes?.includes("/var/log:/host/var/log:ro"));
  assert.deepEqual(agent.entrypoint, ["/usr/local/bin/nms-agent"]);
  assert.ok(agent.command?.includes("--server=server:8080"));
});

Deno.test("compose.yaml checks the health of both services on their /healthz", async () => {
  const compose = parseYaml(await Deno.readTextFile(`${ROOT}compose.yaml`)) as {
    services: Record<string, { command?: string[]; healthcheck?: { test?: string[] } }>;
  };
  const { server, agent } = compose.services;
  assert.ok(server && agent);
  // The server keeps the image's HEALTHCHECK (next test), which calls /healthz.
  assert.equal(server.healthcheck, undefined);
  const port = agent.command?.find((arg) => arg.startsWith("--metrics-port="))?.split("=")[1];
  assert.ok(port, "the agent serves /healthz on its metrics port");
  assert.equal(agent.healthcheck?.test?.at(-1), `http://127.0.0.1:${port}/healthz`);
});

Deno.test("Dockerfile has a HEALTHCHECK on /healthz", async () => {
  const dockerfile = await Deno.readTextFile(`${ROOT}Dockerfile`);
  assert.match(dockerfile, /^HEALTHCHECK [^\n]*\\\n[^\n]*\/healthz/m);
});

Deno.test("systemd-analyze verify accepts the units (when systemd-analyze is installed)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-units-" });
  try {
    for (const name of ["nms-server", "nms-agent"]) {
      // verify checks that ExecStart's binary exists: point it at /bin/true.
      const text = await Deno.readTextFile(`${ROOT}packaging/systemd/${name}.service`);
      await Deno.writeTextFile(
        `${dir}/${name}.service`,
        text.replaceAll(`/usr/local/bin/${name}`, "/bin/true"),
      );
    }
    let result;
    try {
      result = await new Deno.Command("systemd-analyze", {
        args: ["verify", "--man=no", "nms-server.service", "nms-agent.service"],
        cwd: dir,
        env: { SYSTEMD_LOG_LEVEL: "warning" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return; // not installed here
      throw error;
    }
    const output = new TextDecoder().decode(result.stderr) +
      new TextDecoder().decode(result.stdout);
    assert.ok(result.success, output);
    assert.equal(output.trim(), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
