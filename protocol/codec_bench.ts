/**
 * Micro-benchmark of {@linkcode encodeEventLine}, the agent's hot path,
 * against the plainest inline copy (a `Uint8Array` prefix and `set()` calls,
 * written out where the line is queued), on realistic syslog lines. Run with
 * `deno bench protocol/codec_bench.ts`; the two should be level.
 *
 * @module
 */

import { encodeEventLine, eventLineMaxBytes } from "./codec.ts";

/** Lines encoded per iteration: about one agent write batch. */
const LINES_PER_BATCH = 1_000;

const encoder = new TextEncoder();
const SAMPLES = [
  "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
  "Nov 23 19:43:33 web-01 sshd[812]: Accepted publickey for deploy from 10.0.0.5 port 40022 ssh2",
  "2025-12-11T16:00:00.123456+01:00 db-02 postgres[4411]: LOG:  checkpoint complete: wrote 3 buffers",
  "Nov 23 19:43:36 web-01 systemd[1]: Started Session 42 of User deploy — ünïcödé ✓",
].map((line) => encoder.encode(line));
const STREAM = encoder.encode("q8Jc0mRk3lq2wK0nTnVb3A");
const out = new Uint8Array(
  LINES_PER_BATCH * eventLineMaxBytes(STREAM.length, Math.max(...SAMPLES.map((s) => s.length))),
);

const PREFIX = encoder.encode("EVENT ");

/** Decimal digits without a string, as `encodeEventLine` writes them. */
function writeDigits(at: number, value: number): number {
  let digits = 0;
  for (let v = value; v >= 1; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = at + digits - 1; i >= at; i--) {
    out[i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return at + digits;
}

/** The same line written out inline, as a reference. */
function inlineCopy(at: number, position: number, message: Uint8Array): number {
  out.set(PREFIX, at);
  at += PREFIX.length;
  out.set(STREAM, at);
  at += STREAM.length;
  out[at++] = 0x20;
  at = writeDigits(at, position);
  out[at++] = 0x20;
  out.set(message, at);
  at += message.length;
  out[at++] = 0x0a;
  return at;
}

let position = 1_000_000_000;

Deno.bench({
  name: "inline copy",
  group: "EVENT line",
  baseline: true,
  fn() {
    let at = 0;
    for (let i = 0; i < LINES_PER_BATCH; i++) {
      const message = SAMPLES[i % SAMPLES.length]!;
      position += message.length + 1;
      at = inlineCopy(at, position, message);
    }
  },
});

Deno.bench({
  name: "encodeEventLine()",
  group: "EVENT line",
  fn() {
    let at = 0;
    for (let i = 0; i < LINES_PER_BATCH; i++) {
      const message = SAMPLES[i % SAMPLES.length]!;
      position += message.length + 1;
      at = encodeEventLine(out, at, STREAM, position, message);
    }
  },
});
