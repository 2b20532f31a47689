import assert from "node:assert/strict";
import { Correlator } from "./correlator.ts";
import { buildRuleSet, type RuleDefinition } from "./rule.ts";

const failure: RuleDefinition = {
  id: 1,
  level: 5,
  description: "failure",
  match: { program: "app", regex: "fail user=(?<user>\\S+) ip=(?<ip>\\S+)" },
  foldBy: ["ip"],
};
const burst: RuleDefinition = {
  id: 2,
  level: 10,
  description: "burst",
  match: { parent: 1 },
  frequency: { count: 3, withinSeconds: 10 },
  sameField: "ip",
};
const spray: RuleDefinition = {
  id: 3,
  level: 10,
  description: "spray",
  match: { parent: 1 },
  frequency: { count: 3, withinSeconds: 10 },
  sameField: "ip",
  differentField: "user",
};
const success: RuleDefinition = {
  id: 4,
  level: 2,
  description: "success",
  match: { program: "app", regex: "ok user=(?<user>\\S+) ip=(?<ip>\\S+)" },
};
const after: RuleDefinition = {
  id: 5,
  level: 12,
  description: "success after failures",
  match: { parent: 4 },
  after: { rules: 1, count: 2, withinSeconds: 10 },
  sameField: "ip",
};

const set = buildRuleSet([failure, burst, spray, success, after]);
let nextId = 1;
const fail = (c: Correlator, ts: number, ip = "10.0.0.1", user = "root") => [
  ...c.observe({
    ruleId: 1,
    host: "h",
    program: "app",
    groups: { ip, user },
    ts,
    eventId: nextId++,
  }),
  ...c.observe({
    ruleId: 2,
    host: "h",
    program: "app",
    groups: { ip, user },
    ts,
    eventId: nextId - 1,
  }),
  ...c.observe({
    ruleId: 3,
    host: "h",
    program: "app",
    groups: { ip, user },
    ts,
    eventId: nextId - 1,
  }),
];
const rules = (alerts: { rule: { id: number } }[]) => alerts.map((a) => a.rule.id);

Deno.test("Correlator fires a frequency rule (plain rules raise nothing here) at the count, then starts counting over", () => {
  const c = new Correlator(set);
  assert.deepEqual(rules(fail(c, 0)), []);
  assert.deepEqual(rules(fail(c, 1000)), []);
  const third = fail(c, 2000);
  assert.deepEqual(rules(third), [2]);
  const fired = third[0]!;
  assert.equal(fired.eventIds.length, 3);
  assert.deepEqual(fired.fields, { ip: "10.0.0.1" });
  assert.equal(fired.firstSeen, 0);
  assert.equal(fired.lastSeen, 2000);
  assert.deepEqual(rules(fail(c, 3000)), []);
});

Deno.test("Correlator keeps windows per sameField value and forgets events older than the window", () => {
  const c = new Correlator(set);
  fail(c, 0, "10.0.0.1");
  fail(c, 1000, "10.0.0.2");
  fail(c, 2000, "10.0.0.1");
  assert.deepEqual(rules(fail(c, 30_000, "10.0.0.1")), [], "the first two are out of the window");
  assert.deepEqual(rules(fail(c, 31_000, "10.0.0.1")), []);
  assert.deepEqual(rules(fail(c, 32_000, "10.0.0.1")), [2]);
});

Deno.test("Correlator counts distinct values with differentField", () => {
  const c = new Correlator(set);
  const spr = (alerts: { rule: { id: number } }[]) => rules(alerts).includes(3);
  assert.equal(spr(fail(c, 0, "10.0.0.9", "root")), false);
  assert.equal(spr(fail(c, 1, "10.0.0.9", "root")), false);
  assert.equal(spr(fail(c, 2, "10.0.0.9", "admin")), false);
  assert.equal(spr(fail(c, 3, "10.0.0.9", "oracle")), true);
});

Deno.test("Correlator fires an after rule only with enough prior matches from the same value", () => {
  const c = new Correlator(set);
  const ok = (ts: number, ip: string) => [
    ...c.observe({
      ruleId: 4,
      host: "h",
      program: "app",
      groups: { ip, user: "root" },
      ts,
      eventId: nextId++,
    }),
    ...c.observe({
      ruleId: 5,
      host: "h",
      program: "app",
      groups: { ip, user: "root" },
      ts,
      eventId: nextId - 1,
    }),
  ];
  fail(c, 0, "10.0.0.5");
  assert.deepEqual(rules(ok(100, "10.0.0.5")), [], "one failure is not enough");
  fail(c, 200, "10.0.0.5");
  fail(c, 300, "10.0.0.6");
  const fired = ok(400, "10.0.0.5");
  assert.deepEqual(rules(fired), [5]);
  assert.equal(fired[0]!.eventIds.length, 3);
  assert.deepEqual(rules(ok(60_000, "10.0.0.5")), [], "the failures are too old");
});

Deno.test("Correlator bounds its windows, evicting the least recently used", () => {
  const c = new Correlator(set, { maxTrackedKeys: 4 });
  for (let i = 0; i < 10; i++) fail(c, i, `10.0.1.${i}`);
  assert.equal(c.trackedKeys, 4);
  assert.ok(c.evictedKeys > 0);
});

Deno.test("Correlator.setRules() keeps windows of unchanged rules and drops changed ones", () => {
  const c = new Correlator(set);
  fail(c, 0);
  fail(c, 1);
  c.setRules(set);
  assert.deepEqual(rules(fail(c, 2)), [2]);
  fail(c, 3);
  fail(c, 4);
  c.setRules(buildRuleSet([failure, { ...burst, frequency: { count: 3, withinSeconds: 20 } }]));
  assert.deepEqual(rules(fail(c, 5)), []);
  assert.equal(
    c.observe({ ruleId: 99, host: "", program: "", groups: null, ts: 0, eventId: 1 }).length,
    0,
  );
});

Deno.test("Correlator.rollback() undoes a failed group's counting; commit() keeps it", () => {
  const c = new Correlator(set);
  assert.deepEqual(rules(fail(c, 0)), []);
  const tracked = c.trackedKeys;
  // A group whose transaction fails: its two failures must not count.
  c.begin();
  assert.deepEqual(rules(fail(c, 1000)), []);
  assert.deepEqual(rules(fail(c, 1500, "10.0.0.9")), []);
  assert.ok(c.trackedKeys > tracked);
  c.rollback();
  assert.equal(c.trackedKeys, tracked, "the other address's windows are gone");
  // Resent and stored this time: one more failure is not yet three.
  c.begin();
  assert.deepEqual(rules(fail(c, 2000)), []);
  c.commit();
  assert.deepEqual(rules(fail(c, 3000)), [2]);
  // Without a group, nothing is remembered and rollback() does nothing.
  c.rollback();
  assert.deepEqual(rules(fail(c, 4000)), []);
});

Deno.test("Correlator counts a correlation rule's firings, not its candidates, for an after rule", () => {
  const breach: RuleDefinition = {
    id: 6,
    level: 12,
    description: "success after a burst",
    match: { parent: 4 },
    after: { rules: 2, withinSeconds: 60 },
    sameField: "ip",
  };
  const c = new Correlator(buildRuleSet([failure, burst, spray, success, breach]));
  const ok = (ts: number) =>
    c.observe({
      ruleId: 6,
      host: "h",
      program: "app",
      groups: { ip: "10.0.0.1", user: "root" },
      ts,
      eventId: nextId++,
    });
  fail(c, 1000);
  fail(c, 2000);
  assert.deepEqual(rules(ok(2500)), [], "two failures are candidates of the burst, not a burst");
  assert.deepEqual(rules(fail(c, 3000)), [2]);
  const [alert] = ok(4000);
  assert.equal(alert?.rule.id, 6);
  assert.deepEqual(alert?.fields, { ip: "10.0.0.1" });
  assert.equal(alert?.eventIds.length, 2, "the burst's firing event and the success");
});
