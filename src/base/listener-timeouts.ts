// Timeouts every listener applies, so a client that opens connections and never finishes
// them (a TLS handshake left half-done, headers and one body byte, an idle keep-alive) holds
// a socket for a bounded time (issue 13: 2,000 such connections to the webhook were all still
// open after 390 s). Flags of `weft controller` and `weft serve` (docs/listener-timeouts.md).

export interface ListenerTimeouts {
  /** TLS handshake from accept to finished. */
  readonly handshakeMs: number;
  /** One HTTP request, headers and body, from its first byte (checked every second). */
  readonly requestMs: number;
  /** A connection with nothing in flight: HTTP keep-alive, socket inactivity, an xDS connection without streams. */
  readonly idleMs: number;
}

export const defaultListenerTimeouts: ListenerTimeouts = { handshakeMs: 10_000, requestMs: 30_000, idleMs: 60_000 };

/** Node's check of requestTimeout/headersTimeout runs this often (its default, 30 s, would quadruple a short bound). */
const CHECK_INTERVAL_MS = 1_000;

/** Node http(s).createServer options (fastify passes `http` / `https` through). */
export function nodeServerTimeouts(t: ListenerTimeouts, tls: boolean): Record<string, number> {
  return {
    requestTimeout: t.requestMs,
    headersTimeout: t.requestMs,
    keepAliveTimeout: t.idleMs,
    connectionsCheckingInterval: CHECK_INTERVAL_MS,
    ...(tls ? { handshakeTimeout: t.handshakeMs } : {}),
  };
}

/** fastify's own copies of the same settings (it overwrites the server's with them). */
export function fastifyTimeouts(t: ListenerTimeouts): { requestTimeout: number; connectionTimeout: number; keepAliveTimeout: number } {
  // connectionTimeout is socket inactivity: at least the request bound, so it never cuts a request the request bound allows.
  return { requestTimeout: t.requestMs, connectionTimeout: Math.max(t.idleMs, t.requestMs), keepAliveTimeout: t.idleMs };
}
