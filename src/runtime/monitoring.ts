// The control plane's operator HTTP endpoints: liveness, readiness, Prometheus metrics and
// read-only debug views. Bound to loopback by default; nothing here mutates state.
import Fastify, { type FastifyInstance } from 'fastify';
import { metricsRegistry } from '../base/metrics.ts';
import type { Logger } from '../base/log.ts';

export interface MonitoringOptions {
  readonly address: string; // host:port
  readonly log: Logger;
  /** Named readiness checks; /readyz is 200 only when all pass. */
  readonly readiness: Readonly<Record<string, () => boolean>>;
  /** Read-only JSON views mounted under /debug/<name>. */
  readonly debug: Readonly<Record<string, () => unknown>>;
}

export interface RunningMonitoring {
  readonly port: number;
  close(): Promise<void>;
}

export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`invalid address "${address}": expected host:port`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port: Number(m[3]) };
}

export async function startMonitoring(opts: MonitoringOptions): Promise<RunningMonitoring> {
  const app: FastifyInstance = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = Object.fromEntries(Object.entries(opts.readiness).map(([name, check]) => [name, check()]));
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metricsRegistry.contentType);
    return metricsRegistry.metrics();
  });
  for (const [name, view] of Object.entries(opts.debug)) app.get(`/debug/${name}`, async () => view());
  const { host, port } = splitHostPort(opts.address);
  await app.listen({ host, port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  opts.log.info({ address: `${host}:${bound}` }, 'monitoring listening');
  return { port: bound, close: () => app.close() };
}
