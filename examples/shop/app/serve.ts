// The checkout backend: answers every request with its version (`{"version":"v1","pod":…}`,
// header x-version) or, for a share of requests, 503. Only Node built-ins: the file runs
// from a ConfigMap in the weft image (examples/shop/kustomization.yaml), nothing installed.
//
// Failing: `failPercent` of requests get 503, spread evenly and deterministically (request n
// fails when floor(n·p/100) > floor((n-1)·p/100)), so retry tests give the same numbers every
// run and no two requests in a row fail below 50 %. Changed at run time on the admin port,
// which listens on 127.0.0.1 only (reach it with `kubectl exec`): PUT /fail?percent=30.
//
// Shutdown (what a rolling update needs for zero failed requests): the Pod's preStop sleep
// keeps the app serving while the endpoint leaves every client's config; SIGTERM then closes
// the listener and idle keep-alive connections, lets requests in flight finish, answers any
// request still arriving on an open connection with `connection: close`, and exits.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServeOptions {
  readonly version: string;
  /** Address of the app port (default 0.0.0.0: the sidecar reaches it on the Pod IP); the admin port is always 127.0.0.1. */
  readonly host?: string;
  readonly port: number;
  readonly adminPort: number;
  readonly failPercent: number;
  /** Upper bound on the SIGTERM shutdown (requests in flight), then exit anyway. */
  readonly shutdownMs: number;
}

export interface Checkout {
  readonly port: number;
  readonly adminPort: number;
  failPercent: number;
  readonly counts: { requests: number; failed: number };
  shutdown(): Promise<void>;
}

export function failsAt(n: number, percent: number): boolean {
  return Math.floor((n * percent) / 100) > Math.floor(((n - 1) * percent) / 100);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function serveCheckout(opts: ServeOptions): Promise<Checkout> {
  const pod = process.env.HOSTNAME ?? 'local';
  let stopping = false;
  const state = { failPercent: opts.failPercent, counts: { requests: 0, failed: 0 } };

  const app = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const close: Record<string, string> = stopping ? { connection: 'close' } : {};
    const path = (req.url ?? '/').split('?')[0];
    // Probes are never failed on purpose: liveness reflects the process, readiness its drain.
    if (path === '/healthz') return send(res, 200, { ok: true }, close);
    if (path === '/readyz') return send(res, stopping ? 503 : 200, { ready: !stopping }, close);
    state.counts.requests += 1;
    if (failsAt(state.counts.requests, state.failPercent)) {
      state.counts.failed += 1;
      return send(res, 503, { version: opts.version, pod, error: 'injected failure' }, { 'x-version': opts.version, ...close });
    }
    send(res, 200, { version: opts.version, pod }, { 'x-version': opts.version, ...close });
  });
  // Proxies keep upstream connections open for long; Node's 5 s default would close them
  // under a request now and then (a reset the client sees as a failure).
  app.keepAliveTimeout = 300_000;
  app.headersTimeout = 301_000;

  const admin = createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://admin');
    if (url.pathname === '/fail' && req.method === 'PUT') {
      const p = Number(url.searchParams.get('percent'));
      if (!Number.isInteger(p) || p < 0 || p > 100) return send(res, 400, { error: 'percent must be an integer 0-100' });
      state.failPercent = p;
      state.counts.requests = 0;
      state.counts.failed = 0;
    }
    send(res, 200, { version: opts.version, pod, failPercent: state.failPercent, ...state.counts });
  });

  const port = await listen(app, opts.port, opts.host ?? '0.0.0.0');
  const adminPort = await listen(admin, opts.adminPort, '127.0.0.1');

  return {
    port,
    adminPort,
    get failPercent() {
      return state.failPercent;
    },
    set failPercent(p: number) {
      state.failPercent = p;
    },
    counts: state.counts,
    shutdown: async () => {
      stopping = true;
      const closed = new Promise<void>((resolve) => app.close(() => resolve()));
      app.closeIdleConnections();
      await Promise.race([closed, new Promise((r) => setTimeout(r, opts.shutdownMs).unref())]);
      app.closeAllConnections();
      admin.close();
      admin.closeAllConnections();
    },
  };
}
