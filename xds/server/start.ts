// Starts the xDS gRPC server. Plaintext is refused off loopback: proxies authenticate over
// mTLS (a later issue), and config must not be readable by anyone on the network meanwhile.
import { ServerCredentials } from '@grpc/grpc-js';
import { log as rootLog, type Logger } from '../../src/base/log.ts';
import { AdsServer, type AdsServerOptions } from './ads.ts';
import { defaultXdsLimits, type XdsLimits } from './limits.ts';
import { DEFAULT_ACCEPT_BACKLOG, listenXds } from './listen.ts';
import { withHandshakeTimeout, xdsGrpcServer } from './grpc-server.ts';
import { startXdsWorkers, type XdsStreams } from './workers.ts';
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
  /**
   * Worker threads that serve the streams (workers.ts; TCP addresses only). 0 (default): the
   * streams are served on this thread. With N ≥ 1 this thread translates and admits, the N
   * workers push.
   */
  readonly workers?: number;
}

export interface RunningXdsServer {
  readonly port: number;
  /** This thread's ADS server: it serves every stream unless there are workers (then none). */
  readonly ads: AdsServer;
  /** Every stream, this thread's or the workers'. */
  readonly streams: XdsStreams;
  close(): Promise<void>;
}

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
  const server = xdsGrpcServer(limits, timeouts);
  const ads = new AdsServer({ ...opts, limits, log: opts.log ?? rootLog });
  if ((opts.workers ?? 0) > 0) return startWithWorkers(opts, ads, credentials, limits, timeouts);
  ads.addTo(server);
  const listener = await listenXds(server, opts.address, credentials, opts.acceptBacklog ?? DEFAULT_ACCEPT_BACKLOG);
  const { port } = listener;
  log.info({ address: opts.address, port, tls: credentials._isSecure() }, 'xDS server listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    ads,
    streams: {
      get connected() {
        return ads.connected;
      },
      debug: () => Promise.resolve(ads.debug()),
      pinnedSnapshot: (stream: string) => Promise.resolve(ads.pinnedSnapshot(stream)),
      latest: () => ads.debug(),
    },
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

async function startWithWorkers(
  opts: XdsServerOptions,
  ads: AdsServer,
  credentials: ServerCredentials,
  limits: XdsLimits,
  timeouts: ListenerTimeouts,
): Promise<RunningXdsServer> {
  const log = (opts.log ?? rootLog).child({ component: 'xds-server' });
  const workers = await startXdsWorkers({
    count: opts.workers ?? 1,
    address: opts.address,
    cache: opts.cache,
    credentials,
    ...(opts.authenticate !== undefined ? { authenticate: opts.authenticate } : {}),
    settings: {
      limits,
      timeouts,
      acceptBacklog: opts.acceptBacklog ?? DEFAULT_ACCEPT_BACKLOG,
      ...(opts.debounce !== undefined ? { debounce: opts.debounce } : {}),
      ...(opts.flushBatch !== undefined ? { flushBatch: opts.flushBatch } : {}),
      ...(opts.shutdownGraceMs !== undefined ? { shutdownGraceMs: opts.shutdownGraceMs } : {}),
    },
    log,
  });
  log.info({ address: opts.address, port: workers.port, tls: credentials._isSecure(), workers: opts.workers }, 'xDS server listening');
  let closing: Promise<void> | undefined;
  return {
    port: workers.port,
    ads,
    streams: workers,
    close() {
      closing ??= workers.close().then(() => log.info('xDS server stopped'));
      return closing;
    },
  };
}
