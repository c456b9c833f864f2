// Telemetry end to end on loopback (docs/telemetry.md): a real Prometheus scrapes two real
// Envoys (client "web" → server "checkout") carrying test traffic while the backend fails 10 %
// of requests; a real OpenTelemetry Collector receives their spans. Proves the golden-signal
// queries, every dashboard panel's query, one trace across two Envoys, and the access log fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_LOG_FIELDS } from '../../xds/translate/telemetry.ts';
import { listenerPorts } from '../support/mesh-envoy.ts';
import { sendThroughProxy } from '../support/proxy-load.ts';
import { startCollector, startPrometheus, type Collector, type Prometheus } from '../support/telemetry-backends.ts';
import { startControlPlaneMetrics, type ControlPlaneMetrics } from './control-plane.ts';
import { dashboardQueries, GOLDEN_SIGNALS, substitute } from './dashboards.ts';
import { CHECKOUT_URL, identityOf, startTelemetryMesh, type TelemetryMesh } from './mesh.ts';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

/** One GET through the client Envoy carrying a W3C traceparent we chose. */
function tracedRequest(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: CHECKOUT_URL,
        headers: { host: 'checkout.shop:8080', traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('telemetry from real Envoys into a real Prometheus and OpenTelemetry Collector', () => {
  let collector: Collector;
  let mesh: TelemetryMesh;
  let prom: Prometheus;
  let controlPlane: ControlPlaneMetrics;

  beforeAll(async () => {
    collector = await startCollector();
    // Every 10th request the backend answers 503: an error rate of exactly 0.1.
    mesh = await startTelemetryMesh({ sidecars: 2, failPattern: (n) => n % 10 === 0, accessLog: true, traceSampling: 100, otlpAddress: collector.otlpGrpc });
    const inbound = mesh.server ? await listenerPorts(mesh.server) : [];
    expect(inbound.length).toBeGreaterThan(0);
    controlPlane = await startControlPlaneMetrics();
    prom = await startPrometheus([
      ...mesh.scrapeTargets,
      { job: 'weft-serve', address: new URL(mesh.weft.monitoringUrl).host, path: '/metrics' },
      { job: 'webhook', address: controlPlane.address, path: '/metrics' },
    ]);
    // Warm-up: every series exists before the measured traffic (Envoy creates per-code stats
    // lazily, and Prometheus counts a counter's increase only from its first sample).
    const warm = await sendThroughProxy({ proxyPort: mesh.outboundPort, url: CHECKOUT_URL, requests: 20, concurrency: 2 });
    expect(warm.errors).toBe(0);
    await prom.waitForScrapes(2);
    const r = await sendThroughProxy({ proxyPort: mesh.outboundPort, url: CHECKOUT_URL, requests: 1000, concurrency: 8 });
    console.log(`[telemetry] 1000 requests: ${r.ok} ok, 503s ${r.byStatus.get(503) ?? 0}, ${Math.round(r.elapsedMs)} ms`);
    expect(r.errors).toBe(0);
    expect(r.byStatus.get(503)).toBe(100);
    expect(await tracedRequest(mesh.outboundPort)).toBe(200);
    await prom.waitForScrapes(3);
  }, 240_000);

  afterAll(async () => {
    await prom?.stop();
    await mesh?.stop();
    await collector?.stop();
    await controlPlane?.stop();
  });

  it('error rate of the web → checkout pair is 0.1 ± 0.02', async () => {
    const samples = await prom.query(substitute(GOLDEN_SIGNALS.errorRate));
    console.log('[telemetry] error rate', JSON.stringify(samples));
    const pair = samples.find((s) => s.metric.source_workload === 'web' && s.metric.destination_service === 'checkout');
    expect(pair).toBeDefined();
    expect(pair?.value).toBeGreaterThanOrEqual(0.08);
    expect(pair?.value).toBeLessThanOrEqual(0.12);
  });

  it('request rate, latency and bytes carry the pair labels', async () => {
    for (const [name, expr] of Object.entries(GOLDEN_SIGNALS)) {
      const samples = await prom.query(substitute(expr));
      expect(samples.length, `${name}: ${expr}`).toBeGreaterThan(0);
      // Every sidecar reports every outbound cluster (the server's own, idle ones too): pick the caller.
      const s = samples.find((x) => x.metric.source_workload === 'web' && x.metric.destination_service === 'checkout');
      expect(s?.metric).toMatchObject({ source_workload: 'web', destination_service: 'checkout', destination_namespace: 'shop' });
      expect(Number.isFinite(s?.value), `${name} = ${s?.value}`).toBe(true);
    }
    const raw = await prom.query('envoy_cluster_upstream_rq_total{destination_service="checkout",source_workload="web"}');
    expect(raw[0]?.metric).toMatchObject({
      source_workload: 'web',
      source_namespace: 'shop',
      source_identity: identityOf('web'),
      destination_namespace: 'shop',
      destination_port: '8080',
      envoy_cluster_name: 'outbound|8080||checkout.shop.svc.cluster.local',
    });
    // The destination's view: requests its sidecar accepted, by how they arrived.
    const inbound = await prom.query('sum by (source_workload, security) (envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix=~"inbound_.*"})');
    expect(inbound).toEqual([expect.objectContaining({ metric: { source_workload: 'checkout', security: 'plaintext' } })]);
  });

  it('every dashboard panel query returns series', async () => {
    const queries = await dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    const empty: string[] = [];
    for (const q of queries) {
      const samples = await prom.query(substitute(q.expr));
      if (samples.length === 0) empty.push(`${q.dashboard} / ${q.panel}: ${q.expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('one request leaves spans from both Envoys under one trace id, service and identity set', async () => {
    const deadline = Date.now() + 30_000;
    const ours = () => collector.spans.filter((s) => s.traceId.toLowerCase() === TRACE_ID);
    while (new Set(ours().map((s) => s.resource['service.name'])).size < 2 && Date.now() < deadline) await sleep(250);
    const spans = ours();
    expect(new Set(spans.map((s) => s.resource['service.name']))).toEqual(new Set(['web.shop', 'checkout.shop']));
    const web = spans.find((s) => s.resource['service.name'] === 'web.shop');
    const checkout = spans.find((s) => s.resource['service.name'] === 'checkout.shop');
    expect(web?.attributes['weft.identity']).toBe(identityOf('web'));
    expect(checkout?.attributes['weft.identity']).toBe(identityOf('checkout'));
    // W3C propagation: the server's span is a child of the client's.
    expect(checkout?.parentSpanId).toBe(web?.spanId);
  });

  it('access log lines are JSON with every documented field', { timeout: 40_000 }, async () => {
    // Envoy flushes access logs every 10 s (--file-flush-interval-msec): wait for the last lines.
    const count = (e: typeof mesh.client | undefined) => (e?.stdout() ?? '').split('\n').filter((l) => l.trim() !== '').length;
    const until = Date.now() + 25_000;
    while ((count(mesh.client) < 1021 || count(mesh.server) < 1021) && Date.now() < until) await sleep(250);
    for (const [who, envoy, direction] of [
      ['web', mesh.client, 'outbound'],
      ['checkout', mesh.server, 'inbound'],
    ] as const) {
      const lines = (envoy?.stdout() ?? '').split('\n').filter((l) => l.trim() !== '');
      expect(lines.length, who).toBeGreaterThanOrEqual(1021);
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const e of entries) expect(Object.keys(e).sort()).toEqual(Object.keys(ACCESS_LOG_FIELDS).sort());
      const traced = entries.find((e) => e.trace_id === TRACE_ID);
      expect(traced, who).toMatchObject({ direction, method: 'GET', path: '/', response_code: 200 });
      // 2 of the 20 warm-up requests and 100 of the 1000 measured ones.
      expect(entries.filter((e) => e.response_code === 503).length, who).toBe(102);
      expect(typeof traced?.duration_ms).toBe('number');
      expect(traced?.upstream_cluster).toMatch(direction === 'outbound' ? /^outbound\|8080\|\|checkout\.shop\.svc\.cluster\.local$/ : /^inbound\|\d+\|\|$/);
    }
  });
});
