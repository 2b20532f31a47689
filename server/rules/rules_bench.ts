/**
 * What the built-in rules add to a pool worker's per-line work: parsing alone
 * (the baseline) against parsing plus rule matching, on a realistic mix of
 * lines where about one in ten matches a rule, and on a brute force's auth
 * log where every line is a failed ssh password (matched, folded, and a
 * correlation candidate).
 *
 * Run: `deno bench -A server/rules/rules_bench.ts`
 *
 * @module
 */

import { parseLogLine } from "../log_formats/mod.ts";
import { emptyMatches, RuleEngine } from "./engine.ts";
import { builtinRuleSet } from "./rules_file.ts";

const NOW = Date.UTC(2026, 10, 23, 20, 0, 0);
const TEMPLATES = [
  "Nov 23 19:43:{s} web-01 CRON[2222]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
  "Nov 23 19:43:{s} web-01 systemd[1]: Started session-{i}.scope - Session {i} of User deploy.",
  "Nov 23 19:43:{s} web-01 kernel: [ 8812.{i}] IPv4: martian source 10.0.0.{i} from 10.0.1.1, on dev eth0",
  '<134>1 2026-11-23T19:43:{s}Z web-02 nginx 812 - - 192.0.2.{i} - - "GET /api/items/{i} HTTP/1.1" 200 512',
  "2026-11-23T19:43:{s}.123456+00:00 db-01 postgres[900]: LOG:  checkpoint complete: wrote {i} buffers",
  "Nov 23 19:43:{s} web-01 sshd[812]: pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)",
  "Nov 23 19:43:{s} web-01 dhclient[77]: DHCPACK of 10.0.0.{i} from 10.0.0.1",
  "<30>Nov 23 19:43:{s} app-03 app[4242]: request {i} served in 12 ms",
  "Nov 23 19:43:{s} web-01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=www-data ; COMMAND=/bin/ls",
  "Nov 23 19:43:{s} web-01 sshd[812]: Failed password for invalid user admin{i} from 203.0.113.7 port 5{i} ssh2",
];
const LINES = Array.from(
  { length: 1000 },
  (_, i) =>
    TEMPLATES[i % TEMPLATES.length]!.replaceAll("{s}", String(i % 60).padStart(2, "0"))
      .replaceAll("{i}", String(i)),
);
const engine = new RuleEngine(builtinRuleSet());

Deno.bench("parse 1000 lines", { group: "per batch", baseline: true }, () => {
  for (const line of LINES) parseLogLine(line, NOW);
});

Deno.bench("parse 1000 lines + built-in rules", { group: "per batch" }, () => {
  const sink = emptyMatches();
  for (let i = 0; i < LINES.length; i++) {
    const p = parseLogLine(LINES[i]!, NOW);
    engine.match(i, p.program, p.message, p.severity ?? -1, sink);
  }
});

Deno.bench("built-in rules alone on 1000 parsed lines", { group: "rules only" }, () => {
  const sink = emptyMatches();
  for (let i = 0; i < PARSED.length; i++) {
    const p = PARSED[i]!;
    engine.match(i, p.program, p.message, p.severity ?? -1, sink);
  }
});

const PARSED = LINES.map((line) => parseLogLine(line, NOW));

const ATTACK = Array.from(
  { length: 1000 },
  (_, i) =>
    `Nov 23 19:43:${String(i % 60).padStart(2, "0")} web-01 sshd[${800 + (i % 97)}]: ` +
    `Failed password for invalid user admin from 203.0.113.7 port ${40000 + i} ssh2`,
);

Deno.bench("parse 1000 attack lines", { group: "attack", baseline: true }, () => {
  for (const line of ATTACK) parseLogLine(line, NOW);
});

Deno.bench("parse 1000 attack lines + built-in rules", { group: "attack" }, () => {
  const sink = emptyMatches();
  for (let i = 0; i < ATTACK.length; i++) {
    const p = parseLogLine(ATTACK[i]!, NOW);
    engine.match(i, p.program, p.message, p.severity ?? -1, sink);
  }
});
