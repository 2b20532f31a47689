/**
 * Counters of the syslog receiver. Plain syslog has no acknowledgement, so
 * these counters are the only place where refused, dropped or cut messages
 * show up besides the throttled warnings.
 *
 * @module
 */

/** What the syslog receiver has seen since the server started. */
export interface SyslogStats {
  /** Messages accepted from allowed senders and queued for storage. */
  received: number;
  /** Messages committed to the store. */
  stored: number;
  /** Messages the store failed to write (logged as errors). */
  failed: number;
  /** UDP datagrams dropped because their sender is not on the allow-list. */
  deniedDatagrams: number;
  /** TCP and TLS connections closed at once because their sender is not on the allow-list. */
  deniedConnections: number;
  /** UDP datagrams dropped because the queue in front of the workers was full. */
  droppedDatagrams: number;
  /** TCP and TLS connections refused because the connection limit was reached. */
  refusedConnections: number;
  /** Messages longer than the limit, stored cut (flag `truncated`). */
  truncated: number;
  /** TCP and TLS connections open now. */
  connections: number;
}

/**
 * Creates a zeroed set of counters.
 *
 * @returns Fresh counters.
 * @example
 * ```ts
 * const stats = createSyslogStats();
 * stats.received += 10;
 * ```
 */
export function createSyslogStats(): SyslogStats {
  return {
    received: 0,
    stored: 0,
    failed: 0,
    deniedDatagrams: 0,
    deniedConnections: 0,
    droppedDatagrams: 0,
    refusedConnections: 0,
    truncated: 0,
    connections: 0,
  };
}
