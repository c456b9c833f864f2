// A scriptable stand-in for kube-apiserver's list and watch endpoints, for the failures a
// real API server cannot be made to produce on cue: a list answering 500, a watch that goes
// silent, a 410 in the middle of a stream, a 403. Everything else runs against the real one.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface FakeApiServer {
  readonly url: string;
  readonly kubeConfig: KubeConfig;
  /** Requests seen, as `GET /api/v1/services?watch=1...` lines. */
  readonly requests: string[];
  /** Per path (no query): list and watch handlers; unset paths answer 404. */
  route(path: string, handlers: { list?: Handler; watch?: Handler }): void;
  close(): Promise<void>;
}

export function listBody(items: unknown[], resourceVersion: string): string {
  return JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion }, items });
}

export function statusBody(code: number, reason: string, message = reason): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}

/** Writes one watch event line. */
export function sendEvent(res: ServerResponse, type: string, object: unknown): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

export function startWatch(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
}

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const routes = new Map<string, { list?: Handler; watch?: Handler }>();
  const requests: string[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    open.add(res);
    res.on('close', () => open.delete(res));
    const r = routes.get(url.pathname);
    const h = url.searchParams.get('watch') ? r?.watch : r?.list;
    if (!h) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(statusBody(404, 'NotFound'));
      return;
    }
    h(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'fake', token: 'fake-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return {
    url,
    kubeConfig: kc,
    requests,
    route: (path, handlers) => routes.set(path, handlers),
    close: async () => {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
