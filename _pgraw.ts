import { openPostgresStore } from "./server/store/postgres_store.ts";
import { sampleLine } from "./tests/bench/_load.ts";
import postgres from "postgres";
async function cpu(name: string) { let t = 0; for await (const e of Deno.readDir("/proc")) { if (!/^\d+$/.test(e.name)) continue; try { const s = await Deno.readTextFile(`/proc/${e.name}/stat`); const c = s.slice(s.indexOf("(")+1, s.lastIndexOf(")")); if (c !== name) continue; const f = s.slice(s.lastIndexOf(")")+2).split(" "); t += Number(f[11]) + Number(f[12]); } catch {} } return t / 100; }
async function self() { const s = await Deno.readTextFile(`/proc/self/stat`); const f = s.slice(s.lastIndexOf(")")+2).split(" "); return (Number(f[11]) + Number(f[12]))/100; }
const name = "nms_raw_" + crypto.randomUUID().slice(0, 8);
const store = await openPostgresStore(`postgres://postgres@127.0.0.1:5432/test?schema=${name}`, { maxConnections: 1 });
const now = Date.now(); await store.ensurePartitions(now);
const n = 10000; const lines = Array.from({ length: n }, (_, i) => sampleLine(0, i)); let position = 0;
const batch = () => ({ count: n, receivedAt: now, agentId: null, ts: new Float64Array(n).fill(now), host: new Array(n).fill("web-0"), program: new Array(n).fill("sshd"), pid: new Int32Array(n).fill(812), severity: new Int8Array(n).fill(6), facility: new Int8Array(n).fill(4), message: lines.map((l) => l.slice(32)), raw: lines, flags: new Uint8Array(n), stream: new Array(n).fill("raw"), position: Float64Array.from({ length: n }, () => ++position) });
const p0 = await cpu("postgres"), s0 = await self(), t0 = performance.now();
for (let i = 0; i < 10; i++) await store.appendEvents([batch(), batch()]);
const wall = (performance.now() - t0) / 1000;
console.log(`200k rows: wall ${wall.toFixed(2)} s (${Math.round(200000/wall)}/s), deno CPU ${(await self() - s0).toFixed(2)} s, postgres CPU ${(await cpu("postgres") - p0).toFixed(2)} s`);
await store.close();
const sql = postgres("postgres://postgres@127.0.0.1:5432/test", { max: 1, onnotice: () => {} }); await sql`DROP SCHEMA ${sql(name)} CASCADE`; await sql.end();
