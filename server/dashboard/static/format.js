// Formatting of times, severities, sizes and durations for display.

/** Syslog severity names, index = severity. */
export const SEVERITY_NAMES = [
  "emerg",
  "alert",
  "crit",
  "err",
  "warning",
  "notice",
  "info",
  "debug",
];

/** @param {number | null} severity */
export function severityName(severity) {
  return severity === null || severity === undefined ? "—" : SEVERITY_NAMES[severity] ?? "—";
}

/** CSS class of a severity badge. */
export function severityClass(severity) {
  if (severity === null || severity === undefined) return "sev sev-unknown";
  if (severity <= 2) return "sev sev-crit";
  if (severity === 3) return "sev sev-err";
  if (severity === 4) return "sev sev-warning";
  if (severity === 5) return "sev sev-notice";
  if (severity === 6) return "sev sev-info";
  return "sev sev-debug";
}

const pad = (n, w = 2) => String(n).padStart(w, "0");

/** Local time of day with milliseconds, e.g. 14:03:07.120. */
export function clockTime(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
    pad(d.getMilliseconds(), 3)
  }`;
}

/** Local date and time, e.g. 2025-12-11 16:00:00. */
export function dateTime(ms) {
  if (ms === null || ms === undefined) return "—";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${
    pad(d.getMinutes())
  }:${pad(d.getSeconds())}`;
}

/** Short time: time of day when today, else the date and time. */
export function shortTime(ms) {
  const d = new Date(ms);
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return clockTime(ms);
  return dateTime(ms);
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** "3 d 4 h", "2 h 5 min", "40 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${seconds} s`;
}

/** "0 B", "12.3 KiB", "4.0 MiB". */
export function bytes(n) {
  if (n === null || n === undefined) return "—";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** 12345 → "12,345". */
export function count(n) {
  return n === null || n === undefined ? "…" : Number(n).toLocaleString("en-US");
}

/**
 * Failed login patterns (OpenSSH, PAM, login, su, NMS itself). The server's
 * statistics count the same ones (FAILED_LOGIN_MARKERS in stats_collector.ts).
 */
export const FAILED_LOGIN =
  /failed password|failed publickey|authentication failure|invalid user|failed login|failed su/i;
