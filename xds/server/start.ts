// Starts the xDS gRPC server. Plaintext is refused off loopback: proxies authenticate over
// mTLS (a later issue), and config must not be readable by anyone on the network meanwhile.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { log as rootLog, type Logger } from '../../src/base/log.ts';
import { AdsServer, type AdsServerOptions } from './ads.ts';
import { defaultXdsLimits } from './limits.ts';
import { DEFAULT_ACCEPT_BACKLOG, listenXds } from './listen.ts';
import { defaultListenerTimeouts, type ListenerTimeouts } from '../../src/base/listener-timeouts.ts';

export interface XdsServerOptions extends AdsServerOptions {
  /** `host:port` (port 0 picks a free one), `[::1]:port` for IPv6, or `unix:/path`. */
  readonly address: string;
  /** TLS credentials; without them only loopback addresses are allowed. */
  readonly credentials?: ServerCredentials;
  readonly log?: Logger;
  /** TLS handshake and idle-connection bounds (defaults: src/base/listener-timeouts.ts; request: n/a, streams are long-lived). */
  readonly timeouts?: ListenerTimeouts;
  /** Connections the kernel queues before they are accepted (default DEFAULT_ACCEPT_BACKLOG; see listen.ts). */
  readonly acceptBacklog?: number;
  /** How long close() waits for streams to end before forcing the shutdown. */
  readonly shutdownGraceMs?: number;
}

export interface RunningXdsServer {
  readonly port: number;
  readonly ads: AdsServer;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;

export function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(address);
  if (bracketed) return bracketed[1]!;
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export async function startXdsServer(opts: XdsServerOptions): Promise<RunningXdsServer> {
  const log = (opts.log ?? rootLog).child({ component: 'xds-server' });
  const credentials = opts.credentials ?? ServerCredentials.createInsecure();
  const timeouts = opts.timeouts ?? defaultListenerTimeouts;
  withHandshakeTimeout(credentials, timeouts.handshakeMs);
  const local = opts.address.startsWith('unix:') || isLoopbackHost(hostOf(opts.address));
  if (!credentials._isSecure() && !local) {
    throw new Error(
      `refusing to serve xDS in plaintext on ${opts.address}: only loopback addresses may be plaintext; ` +
        'pass TLS credentials or bind to 127.0.0.1 (mTLS for proxies comes with proxy authentication)',
    );
  }
  const limits = { ...defaultXdsLimits, ...opts.limits };
  const server = new Server({
    // Requests are the client's: bounded. Responses are ours (a 10,000-service CDS is tens of MiB).
    'grpc.max_receive_message_length': limits.maxMessageBytes,
    'grpc.max_send_message_length': 256 * MiB,
    // Notice dead proxies (a pod deleted without FIN) instead of holding their streams forever.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    // A connection that carries no stream (a proxy's ADS stream never ends on its own) is closed (GOAWAY).
    'grpc.max_connection_idle_ms': timeouts.idleMs,
  });
  const ads = new AdsServer({ ...opts, limits, log: opts.log ?? rootLog });
  ads.addTo(server);
  const listener = await listenXds(server, opts.address, credentials, opts.acceptBacklog ?? DEFAULT_ACCEPT_BACKLOG);
  const { port } = listener;
  log.info({ address: opts.address, port, tls: credentials._isSecure() }, 'xDS server listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    ads,
    close() {
      closing ??= new Promise<void>((resolve) => {
        listener.close();
        ads.close();
        const force = setTimeout(() => {
          log.warn('xDS server graceful shutdown timed out, forcing');
          server.forceShutdown();
          resolve();
        }, opts.shutdownGraceMs ?? 5_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          log.info('xDS server stopped');
          resolve();
        });
      });
      return closing;
    },
  };
}

/**
 * A TLS handshake left unfinished is dropped after `ms` (Node's default is 120 s). grpc-js
 * builds its http2.createSecureServer options from the credentials' constructor options and
 * has no setting of its own for this; pinned by test/attack/slow-clients.test.ts.
 */
function withHandshakeTimeout(credentials: ServerCredentials, ms: number): void {
  const c = credentials as unknown as { serverConstructorOptions?: Record<string, unknown> | null };
  if (credentials._isSecure() && c.serverConstructorOptions) c.serverConstructorOptions = { ...c.serverConstructorOptions, handshakeTimeout: ms };
}
