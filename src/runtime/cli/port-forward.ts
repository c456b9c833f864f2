// A local loopback port that reaches one port of a Pod through the API server's port-forward
// (the user's kubeconfig and RBAC: `create pods/portforward`), as `kubectl port-forward` does.
// Each local connection opens its own forwarding WebSocket, so an HTTP client with keep-alive
// costs one. The first failure (the API server's refusal, the kubelet's "connection refused")
// is kept for the caller to name, since the HTTP client only sees a dropped connection.
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '../../base/errors.ts';

export interface Forward {
  /** http://127.0.0.1:<local port> */
  readonly url: string;
  /** The first forwarding failure, if any (e.g. `Unexpected server response: 403`). */
  failure(): { readonly status?: number; readonly message: string } | undefined;
  close(): Promise<void>;
}

interface ClosableSocket {
  close(): void;
  on?(event: 'close', listener: () => void): void;
}

export async function forwardPort(kc: KubeConfig, namespace: string, pod: string, port: number): Promise<Forward> {
  const pf = new PortForward(kc);
  let failure: { status?: number; message: string } | undefined;
  const sockets = new Set<Socket>();
  const fail = (message: string): void => {
    const status = /Unexpected server response: (\d{3})/.exec(message)?.[1];
    failure ??= { ...(status !== undefined ? { status: Number(status) } : {}), message: message.trim() };
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const errors = new PassThrough();
    errors.on('data', (b: Buffer) => fail(b.toString('utf8')));
    pf.portForward(namespace, pod, [port], socket, errors, socket)
      .then((ws) => {
        const w = ws as unknown as ClosableSocket;
        w.on?.('close', () => socket.end());
        socket.on('close', () => w.close());
      })
      .catch((err: unknown) => {
        // The WebSocket's ErrorEvent is no Error but carries one (or its message).
        const e = err as { message?: unknown; error?: unknown };
        fail(typeof e.message === 'string' ? e.message : errorMessage(e.error ?? err));
        socket.destroy();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const local = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${local}`,
    failure: () => failure,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
