// The xDS listening socket, owned here rather than by grpc-js: grpc-js listens with Node's
// default accept backlog (511) and no way to change it, so a reconnect storm of thousands of
// proxies (a control plane restart, a node drain) overflows the accept queue while the event
// loop is busy, and the kernel drops SYNs: the proxies retry after 1 s, 3 s, ... (the peer
// benchmark of issue 11 counted 1.19-1.26 connection attempts per proxy at 10k). Accepted
// sockets are handed to grpc-js as they come (Server.createConnectionInjector): TLS, HTTP/2
// and everything else stay grpc-js's. The kernel caps the backlog at net.core.somaxconn.
import { createServer, type Server as NetServer } from 'node:net';
import type { Server, ServerCredentials } from '@grpc/grpc-js';
import { log } from '../../src/base/log.ts';
import { sliceTlsWrites } from './tls-writes.ts';

/** Pending connections the kernel may queue before the server accepts them (default of --xds-accept-backlog). */
export const DEFAULT_ACCEPT_BACKLOG = 4096;

export interface XdsListener {
  readonly port: number;
  /** Stops accepting; connections already handed to grpc-js are its to close. */
  close(): void;
}

/** `host:port`, `[v6]:port`, `unix:/path` or `unix:///path` → what net.Server.listen takes. */
export function listenTarget(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { path: address.replace(/^unix:(\/\/)?/, '') };
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(address);
  const i = address.lastIndexOf(':');
  const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]!] : [address.slice(0, i), address.slice(i + 1)];
  if (i < 0 || !/^\d+$/.test(port) || Number(port) > 65535) throw new Error(`xDS address "${address}": expected host:port, [ipv6]:port or unix:/path`);
  return { host, port: Number(port) };
}

/**
 * `reusePort`: SO_REUSEPORT (Linux), so xDS worker threads each listen on the same port and the
 * kernel spreads connections between them (workers.ts).
 */
export async function listenXds(server: Server, address: string, credentials: ServerCredentials, backlog: number, reusePort = false): Promise<XdsListener> {
  const injector = server.createConnectionInjector(credentials);
  if (credentials._isSecure() && !sliceTlsWrites(server))
    log.warn('this grpc-js hides its HTTP/2 server: each TLS connection keeps a buffer as large as its largest push (more memory)');
  const net: NetServer = createServer((socket) => injector.injectConnection(socket));
  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen({ ...listenTarget(address), backlog, ...(reusePort ? { reusePort } : {}) }, () => {
      net.off('error', reject);
      resolve();
    });
  });
  const bound = net.address();
  return {
    port: typeof bound === 'object' && bound !== null ? bound.port : 0,
    close: () => void net.close(), // grpc-js's shutdown closes the sessions and the injector's server
  };
}
