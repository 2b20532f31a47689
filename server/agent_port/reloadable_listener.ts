/**
 * The agent listener whose certificate can be replaced while the server runs
 * (SIGHUP after a certificate renewal). Connections already open keep the
 * TLS session they negotiated; new ones get the new certificate.
 *
 * @module
 */

import type { ByteConn } from "./connection.ts";
import {
  type AgentSocketListener,
  type AgentTlsOptions,
  listenAgents,
  type ListenAgentsOptions,
} from "./tls.ts";

/**
 * How long re-binding the port with a new certificate may take, in ms. The old
 * socket is closed first; a connection attempt in between is refused, and
 * agents retry it after their first backoff step.
 */
const REBIND_TIMEOUT_MS = 2_000;

async function bind(options: ListenAgentsOptions): Promise<AgentSocketListener> {
  const deadline = Date.now() + REBIND_TIMEOUT_MS;
  for (;;) {
    try {
      return await listenAgents(options);
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * An {@linkcode AgentSocketListener} with {@linkcode reload}.
 *
 * @example
 * ```ts
 * const listener = await ReloadableListener.listen({ hostname: "0.0.0.0", port: 8080, tls });
 * await listener.reload({ cert: newCert, key: newKey });
 * ```
 */
export class ReloadableListener implements AgentSocketListener {
  #inner: AgentSocketListener;
  #options: ListenAgentsOptions;
  #closed = false;

  private constructor(inner: AgentSocketListener, options: ListenAgentsOptions) {
    this.#inner = inner;
    // Re-binding reuses the port actually bound (port 0 picked one).
    this.#options = { ...options, port: inner.addr.port };
  }

  /**
   * Binds the agent port.
   *
   * @param options Address and TLS settings, as for `listenAgents()`.
   * @returns The listener.
   */
  static async listen(options: ListenAgentsOptions): Promise<ReloadableListener> {
    return new ReloadableListener(await listenAgents(options), options);
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#inner.addr;
  }

  /** `tcp`, `tls` or `mtls`. */
  get transport(): "tcp" | "tls" | "mtls" {
    return this.#inner.transport;
  }

  /** The next connection, from whichever socket is current; rejects once closed. */
  async accept(): Promise<ByteConn> {
    for (;;) {
      const inner = this.#inner;
      try {
        return await inner.accept();
      } catch (error) {
        // A reload closed the socket this accept was waiting on: wait on the new one.
        if (this.#closed || inner === this.#inner) throw error;
      }
    }
  }

  /**
   * Switches to a new certificate and key (and client CA). The new ones are
   * checked on a throwaway socket first, so a bad file leaves the listener as
   * it was. A plain TCP listener has nothing to reload.
   *
   * @param tls The new PEM certificate chain, key and optional client CA.
   * @throws {Error} When the new certificate or key cannot be used.
   */
  async reload(tls: AgentTlsOptions): Promise<void> {
    if (this.#closed || !this.#options.tls) return;
    const probe = await listenAgents({ hostname: "127.0.0.1", port: 0, tls });
    probe.close();
    const previous = this.#options;
    const next = { ...previous, tls };
    const old = this.#inner;
    old.close();
    try {
      this.#inner = await bind(next);
      this.#options = next;
    } catch (error) {
      // Keep serving with the certificate that worked.
      this.#inner = await bind(previous);
      throw error;
    }
  }

  /** Stops accepting. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#inner.close();
  }
}
