/**
 * The port agents connect to: the accept loop, one {@linkcode Connection} per
 * socket (framing, session, in-order ACKs), the connection limits, TLS and
 * its reload, and the check that closes connections whose credentials were
 * revoked. Everything here runs on the main thread; the work behind each line
 * runs in `server/ingest/`.
 *
 * @module
 */

export { AckQueue, type AckSlot } from "./ack_queue.ts";
export {
  type ByteConn,
  Connection,
  connectionBufferStats,
  type ConnectionContext,
  MAX_BATCH_LINES,
  MAX_PENDING_ACKS_PER_CONNECTION,
} from "./connection.ts";
export {
  CLOSE_GRACE_MS,
  type ConnectionLimitOptions,
  type ConnectionLimits,
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_LINE_TIMEOUT_SECONDS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_IP,
  DEFAULT_MAX_EVENTS_PER_SECOND,
  isLoopback,
  RateLimiter,
  resolveLimits,
  TIMEOUT_CHECK_INTERVAL_MS,
} from "./connection_limits.ts";
export {
  CREDENTIAL_CHECK_INTERVAL_MS,
  type CredentialWatch,
  type CredentialWatchOptions,
  watchCredentials,
} from "./credential_watch.ts";
export { type ConnectionSource, Listener } from "./listener.ts";
export {
  DEFAULT_LOGIN_TIMEOUT_SECONDS,
  DEFAULT_MAX_PRE_LOGIN_CONNECTIONS,
  MAX_BAD_LINES_BEFORE_LOGIN,
  MAX_PRE_LOGIN_CONNECTIONS_PER_ADDRESS,
  PRE_LOGIN_EVICTION_GRACE_MS,
  PreLoginBudget,
} from "./pre_login.ts";
export { ReloadableListener } from "./reloadable_listener.ts";
export {
  defaultMaxConnections,
  FD_RESERVE,
  type FdLimit,
  fdLimitUnknownNote,
  fdLimitWarning,
  readFdLimit,
} from "./fd_limit.ts";
export {
  type AgentSocketListener,
  type AgentTlsOptions,
  certificateNames,
  listenAgents,
  type ListenAgentsOptions,
  TLS_HANDSHAKE_TIMEOUT_SECONDS,
} from "./tls.ts";
