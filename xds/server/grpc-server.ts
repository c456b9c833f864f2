// The grpc-js server every xDS listener runs (the main thread's, or each worker thread's).
import { Server, type ServerCredentials } from '@grpc/grpc-js';
import type { ListenerTimeouts } from '../../src/base/listener-timeouts.ts';
import type { XdsLimits } from './limits.ts';

const MiB = 1024 * 1024;

export function xdsGrpcServer(limits: XdsLimits, timeouts: ListenerTimeouts): Server {
  return new Server({
    // Requests are the client's: bounded. Responses are ours (a 10,000-service CDS is tens of MiB).
    'grpc.max_receive_message_length': limits.maxMessageBytes,
    'grpc.max_send_message_length': 256 * MiB,
    // Notice dead proxies (a pod deleted without FIN) instead of holding their streams forever.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    // A connection that carries no stream (a proxy's ADS stream never ends on its own) is closed (GOAWAY).
    'grpc.max_connection_idle_ms': timeouts.idleMs,
    // Channelz (on by default in grpc-js) keeps per-connection and per-call trackers nobody
    // reads here: Weft's own metrics and debug views cover streams. Off: 6 % of the server's
    // CPU in a 10k initial sync, and memory per connection.
    'grpc.enable_channelz': 0,
  });
}

/**
 * A TLS handshake left unfinished is dropped after `ms` (Node's default is 120 s). grpc-js
 * builds its http2.createSecureServer options from the credentials' constructor options and
 * has no setting of its own for this; pinned by test/attack/slow-clients.test.ts.
 */
export function withHandshakeTimeout(credentials: ServerCredentials, ms: number): void {
  const c = credentials as unknown as { serverConstructorOptions?: Record<string, unknown> | null };
  if (credentials._isSecure() && c.serverConstructorOptions) c.serverConstructorOptions = { ...c.serverConstructorOptions, handshakeTimeout: ms };
}
