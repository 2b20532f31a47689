/**
 * The standard syslog receiver of nms-server: routers, switches, firewalls,
 * printers and hosts running rsyslog or syslog-ng send to NMS without an
 * agent. UDP (RFC 5426), TCP with both RFC 6587 framings, and TLS (RFC 5425),
 * each off unless given a port; senders are checked against an allow-list of
 * networks; messages are parsed by `server/log_formats/` in the worker pool
 * and stored beside agent events; each sender is recorded as a source.
 *
 * See docs/SYSLOG.md.
 *
 * @example
 * ```ts
 * import { startSyslogReceiver } from "./mod.ts";
 *
 * const syslog = await startSyslogReceiver({
 *   pool,
 *   log,
 *   udpPort: 514,
 *   tcpPort: 601,
 *   allow: ["10.0.0.0/8", "192.168.0.0/16"],
 * });
 * await syslog.stop();
 * ```
 *
 * @module
 */

export {
  type AllowList,
  DEFAULT_SYSLOG_ALLOW,
  parseAllowList,
  senderAddress,
} from "./allow_list.ts";
export { MAX_OCTET_COUNT_DIGITS, SyslogFramer, type SyslogFrameSink } from "./framer.ts";
export type { SyslogFramerOptions } from "./framer.ts";
export {
  startSyslogReceiver,
  type SyslogAddrs,
  type SyslogReceiver,
  type SyslogReceiverOptions,
  type TlsCertificate,
} from "./receiver.ts";
export {
  DEFAULT_SOURCE_SILENT_AFTER_SECONDS,
  type SourceStatus,
  sourceStatus,
} from "./source_status.ts";
export { createSyslogStats, type SyslogStats } from "./stats.ts";
export {
  DEFAULT_SYSLOG_IDLE_TIMEOUT_SECONDS,
  DEFAULT_SYSLOG_MAX_CONNECTIONS_PER_IP,
  MAX_SYSLOG_CONNECTIONS,
} from "./tcp_listener.ts";
export { MAX_UDP_QUEUED_MESSAGES } from "./udp_listener.ts";
export { MAX_SYSLOG_BATCH_MESSAGES } from "./syslog_batch.ts";
