// Starts the xDS gRPC server. Plaintext is refused off loopback: proxies authenticate over
// mTLS (a later issue), and config must not be readable by anyone on the network meanwhile.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { log as rootLog, type Logger } from '../../src/base/log.ts';
import { AdsServer, type AdsServerOptions } from './ads.ts';

export interface XdsServerOptions extends AdsServerOptions {
  /** `host:port` (port 0 picks a free one), `[::1]:port` for IPv6, or `unix:/path`. */
  readonly address: string;
  /** TLS credentials; without them only loopback addresses are allowed. */
  readonly credentials?: ServerCredentials;
  readonly log?: Logger;
  /** Max request/response size; the 4 MiB grpc default rejects big DiscoveryRequests. */
  readonly maxMessageBytes?: number;
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
  const local = opts.address.startsWith('unix:') || isLoopbackHost(hostOf(opts.address));
  if (!credentials._isSecure() && !local) {
    throw new Error(
      `refusing to serve xDS in plaintext on ${opts.address}: only loopback addresses may be plaintext; ` +
        'pass TLS credentials or bind to 127.0.0.1 (mTLS for proxies comes with proxy authentication)',
    );
  }
  const maxBytes = opts.maxMessageBytes ?? 64 * MiB;
  const server = new Server({
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
    // Notice dead proxies (a pod deleted without FIN) instead of holding their streams forever.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
  });
  const ads = new AdsServer({ ...opts, log: opts.log ?? rootLog });
  ads.addTo(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(opts.address, credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  log.info({ address: opts.address, port, tls: credentials._isSecure() }, 'xDS server listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    ads,
    close() {
      closing ??= new Promise<void>((resolve) => {
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
