// The control plane's operator HTTP endpoints: liveness, readiness, Prometheus metrics, the
// read-only debug views and the mesh view (docs/mesh-view.md). Bound to loopback by default;
// nothing here mutates state. The debug views and the mesh view's data pass the Authorizer
// (src/runtime/access/); the probes and /metrics do not (the kubelet and Prometheus read them),
// and neither does the mesh view's page, which is static code with no data in it. Mesh-wide
// views need the cluster-wide right; scoped views (about namespaced things) are answered for
// the namespaces the caller may read (access/scope.ts).
import Fastify, { type FastifyInstance } from 'fastify';
import { metricsRegistry, processMetrics } from '../base/metrics.ts';
import type { Logger } from '../base/log.ts';
import { defaultListenerTimeouts, fastifyTimeouts, nodeServerTimeouts, type ListenerTimeouts } from '../base/listener-timeouts.ts';
import { listenerBoundary, type Authorizer } from './access/access.ts';
import { nothing, resolveScope, SCOPE_HEADER, type ReadScope } from './access/scope.ts';
import { meshViewMetrics } from './meshview/metrics.ts';
import { meshViewRoutes } from './meshview/routes.ts';
import type { MeshViewSource } from './meshview/view.ts';

export interface MonitoringOptions {
  readonly address: string; // host:port
  readonly log: Logger;
  /** Named readiness checks; /readyz is 200 only when all pass. Omit for a listener without probes and /metrics. */
  readonly readiness?: Readonly<Record<string, () => boolean>>;
  /** Read-only JSON views mounted under /debug/<name>, mesh-wide (the cluster-wide right); omit for a listener without them. */
  readonly debug?: Readonly<Record<string, () => unknown>>;
  /** Views under /debug/<name> answered for the caller's namespaces (e.g. proxies, a proxy's config). */
  readonly scopedDebug?: Readonly<Record<string, ScopedView>>;
  /** The mesh view (/mesh and /mesh/api/*), served with the debug views. */
  readonly meshView?: MeshViewSource;
  /** Who may read /debug/* and /mesh/api/* (default: anyone who reaches the listener). */
  readonly access?: Authorizer;
  /** Request and idle bounds (defaults: src/base/listener-timeouts.ts; plain HTTP, no handshake). */
  readonly timeouts?: ListenerTimeouts;
}

export interface ScopedRequest {
  readonly scope: ReadScope;
  /** The query string's parameters (the first value of each). */
  readonly query: Readonly<Record<string, string | undefined>>;
}

export interface ScopedAnswer {
  readonly status: number;
  readonly body: unknown;
}

export type ScopedView = (req: ScopedRequest) => Promise<ScopedAnswer>;

export interface RunningMonitoring {
  readonly port: number;
  close(): Promise<void>;
}

export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`invalid address "${address}": expected host:port`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port: Number(m[3]) };
}

const guarded = (url: string): boolean => url.startsWith('/debug/') || url.startsWith('/mesh/api/');

function firstValues(query: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string') out[k] = first;
  }
  return out;
}

export async function startMonitoring(opts: MonitoringOptions): Promise<RunningMonitoring> {
  const timeouts = opts.timeouts ?? defaultListenerTimeouts;
  const access = opts.access ?? listenerBoundary;
  const app: FastifyInstance = Fastify({ logger: false, http: nodeServerTimeouts(timeouts, false), ...fastifyTimeouts(timeouts) });
  if (opts.readiness) {
    const readiness = opts.readiness;
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (_req, reply) => {
      const checks = Object.fromEntries(Object.entries(readiness).map(([name, check]) => [name, check()]));
      const ready = Object.values(checks).every(Boolean);
      return reply.code(ready ? 200 : 503).send({ ready, checks });
    });
    app.get('/metrics', async (_req, reply) => {
      reply.header('content-type', metricsRegistry.contentType);
      return (await processMetrics()).metrics(); // xDS worker threads' series included
    });
  }
  const scoped = new Set([...Object.keys(opts.scopedDebug ?? {}).map((n) => `/debug/${n}`), ...(opts.meshView ? ['/mesh/api/graph'] : [])]);
  const scopes = new WeakMap<object, ReadScope>();
  if (opts.debug || opts.scopedDebug || opts.meshView) {
    app.addHook('onRequest', async (req, reply) => {
      if (!guarded(req.url)) return;
      const path = req.url.split('?')[0] ?? '';
      const decision = await resolveScope(access, req.headers.authorization, scoped.has(path));
      meshViewMetrics.access.inc({ status: !decision.ok ? String(decision.status) : decision.scope.all ? '200' : 'scoped' });
      if (decision.ok) {
        scopes.set(req.raw, decision.scope);
        return;
      }
      opts.log.debug({ path, status: decision.status, reason: decision.reason }, 'debug API: request refused');
      if (decision.status === 401) reply.header('www-authenticate', 'Bearer realm="weft"');
      return reply.code(decision.status).send({ error: decision.reason });
    });
  }
  for (const [name, view] of Object.entries(opts.debug ?? {})) app.get(`/debug/${name}`, async () => view());
  for (const [name, view] of Object.entries(opts.scopedDebug ?? {})) {
    app.get(`/debug/${name}`, async (req, reply) => {
      const scope = scopes.get(req.raw) ?? nothing;
      const answer = await view({ scope, query: firstValues(req.query) });
      // Says a list was narrowed to the caller's namespaces, so a CLI can tell "none" from "none you may see".
      return reply
        .code(answer.status)
        .header('cache-control', 'no-store')
        .header(SCOPE_HEADER, scope.all ? 'all' : 'namespaces')
        .send(answer.body);
    });
  }
  if (opts.meshView) meshViewRoutes(app, opts.meshView, (req) => scopes.get(req.raw) ?? nothing);
  const { host, port } = splitHostPort(opts.address);
  await app.listen({ host, port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  opts.log.info(
    { address: `${host}:${bound}`, debugAccess: opts.debug || opts.scopedDebug || opts.meshView ? access.describe : undefined },
    'monitoring listening',
  );
  return { port: bound, close: () => app.close() };
}
