/**
 * Micro-benchmark of {@linkcode LineSplitter} against the fastest naive
 * splitter (decode the whole chunk, `String.split("\n")`), on 1 MiB of
 * realistic syslog lines. Run with `deno bench protocol/line_splitter_bench.ts`.
 *
 * The baseline does less work: it neither bounds line length, strips `\r`,
 * tracks byte offsets nor carries partial lines across chunks. The ratio shows
 * what those guarantees cost.
 *
 * @module
 */

import { LineSplitter } from "./line_splitter.ts";

/** Size of the benchmark input, in bytes. */
const INPUT_BYTES = 1024 * 1024;
/** Size of one socket read in the chunked variants, in bytes (the server's read buffer). */
const READ_CHUNK_BYTES = 64 * 1024;

const SAMPLES = [
  "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
  "Nov 23 19:43:33 web-01 sshd[812]: Accepted publickey for deploy from 10.0.0.5 port 40022 ssh2",
  "2025-12-11T16:00:00.123456+01:00 db-02 postgres[4411]: LOG:  checkpoint complete: wrote 3 buffers",
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event',
  "Nov 23 19:43:34 web-01 kernel: [12345.678901] TCP: request_sock_TCP: Possible SYN flooding on port 443.",
  "Nov 23 19:43:35 web-01 CRON[9921]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
  '2025-12-11T16:00:01Z app-03 nginx: 203.0.113.9 - - "GET /api/v1/health HTTP/1.1" 200 17 "-" "kube-probe/1.29"',
  "Nov 23 19:43:36 web-01 systemd[1]: Started Session 42 of User deploy — ünïcödé ✓",
];

function buildInput(): Uint8Array {
  const encoder = new TextEncoder();
  const out = new Uint8Array(INPUT_BYTES);
  let at = 0;
  for (let i = 0;; i++) {
    const line = encoder.encode(`EVENT Xk2f9a ${at} ${SAMPLES[i % SAMPLES.length]}\n`);
    if (at + line.length > out.length) break;
    out.set(line, at);
    at += line.length;
  }
  return out.subarray(0, at);
}

const input = buildInput();
const decoder = new TextDecoder();
let sinkCount = 0;
const sink = {
  line: (_text: string, _end: number) => void sinkCount++,
  overflow: (_bytes: number, _end: number) => void sinkCount++,
};
const byteSink = {
  line: (_bytes: Uint8Array, _end: number) => void sinkCount++,
  overflow: (_bytes: number, _end: number) => void sinkCount++,
};

Deno.bench({
  name: "TextDecoder.decode + String.split, whole input",
  group: "split 1 MiB of syslog lines",
  baseline: true,
  fn() {
    sinkCount += decoder.decode(input).split("\n").length;
  },
});

Deno.bench({
  name: "LineSplitter.push, whole input",
  group: "split 1 MiB of syslog lines",
  fn() {
    new LineSplitter().push(input, sink);
  },
});

Deno.bench({
  name: "LineSplitter.push, 64 KiB reads",
  group: "split 1 MiB of syslog lines",
  fn() {
    const splitter = new LineSplitter();
    for (let at = 0; at < input.length; at += READ_CHUNK_BYTES) {
      splitter.push(input.subarray(at, at + READ_CHUNK_BYTES), sink);
    }
  },
});

Deno.bench({
  name: "LineSplitter.pushBytes (undecoded), 64 KiB reads",
  group: "split 1 MiB of syslog lines",
  fn() {
    const splitter = new LineSplitter();
    for (let at = 0; at < input.length; at += READ_CHUNK_BYTES) {
      splitter.pushBytes(input.subarray(at, at + READ_CHUNK_BYTES), byteSink);
    }
  },
});
