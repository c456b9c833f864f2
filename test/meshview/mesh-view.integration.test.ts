// The mesh view's JSON API against real Envoy stats: weft serve on examples/mesh, a real
// Envoy (its admin port announced as WEFT_STATS_PORT) sending known traffic to checkout
// through the 90/10 TrafficSplit. The API must report the request rate and success rate per
// edge within tolerance, p99 from the histogram, the split as programmed, and follow an edit
// of trafficsplit.yaml.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshViewSchema, type MeshView, type MeshViewEdgeT } from '../../src/runtime/meshview/shape.ts';
import { CHECKOUT_URL, startMeshWithEnvoy, type MeshEnvoy } from '../support/mesh-envoy.ts';
import { emptyLoadResult, sendThroughProxy, type LoadResult } from '../support/proxy-load.ts';
import { thirtyPercent } from '../support/backends.ts';

const CLIENT = 'shop/e2e-client';
const V1 = 'shop/checkout-v1';
const V2 = 'shop/checkout-v2';
const RPS = 100;

async function graph(h: MeshEnvoy): Promise<MeshView> {
  const res = await fetch(`${h.weft.monitoringUrl}/mesh/api/graph`);
  expect(res.status).toBe(200);
  return MeshViewSchema.parse(await res.json());
}

function edge(v: MeshView, kind: 'traffic' | 'split', source: string, destination: string): MeshViewEdgeT | undefined {
  return v.edges.find((e) => e.kind === kind && e.source === source && e.destination === destination);
}

/** Polls the API until `ok` holds for a view whose last scrape is newer than `after` (bounded). */
async function viewWhere(h: MeshEnvoy, ok: (v: MeshView) => boolean, after = '', timeoutMs = 30_000): Promise<MeshView> {
  const deadline = Date.now() + timeoutMs;
  let last: MeshView | undefined;
  while (Date.now() < deadline) {
    last = await graph(h);
    if ((last.signals.lastScrapeAt ?? '') > after && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`mesh view never matched; last: ${JSON.stringify({ signals: last?.signals, proxies: last?.proxies, edges: last?.edges })}`);
}

describe('mesh view JSON API over real Envoy stats', () => {
  let h: MeshEnvoy;
  let stop: AbortController;
  let load: Promise<LoadResult>;
  const live = emptyLoadResult();

  beforeAll(async () => {
    h = await startMeshWithEnvoy({ statsOnAdmin: true, weftArgs: ['--mesh-view-scrape-interval', '2s'] });
    stop = new AbortController();
    load = sendThroughProxy({ proxyPort: h.outboundPort, url: CHECKOUT_URL, requests: Infinity, maxRps: RPS, signal: stop.signal, into: live, concurrency: 4 });
  }, 120_000);
  afterAll(async () => {
    stop?.abort();
    await load;
    await h?.stop();
  });

  it('shows the caller, both backends, the split as programmed and the proxy in sync', { timeout: 60_000 }, async () => {
    const v = await viewWhere(h, (x) => edge(x, 'traffic', CLIENT, V1) !== undefined && edge(x, 'traffic', CLIENT, V2) !== undefined);
    expect(v.services.map((s) => s.id)).toEqual(expect.arrayContaining([CLIENT, 'shop/checkout', V1, V2]));
    expect(edge(v, 'split', 'shop/checkout', V1)?.weight).toBeCloseTo(90, 5);
    expect(edge(v, 'split', 'shop/checkout', V2)?.weight).toBeCloseTo(10, 5);
    expect(v.proxies).toHaveLength(1);
    expect(v.proxies[0]).toMatchObject({ namespace: 'shop', service: 'e2e-client', sync: 'synced', scrape: { state: 'ok' } });
    expect(v.proxies[0]!.types.map((t) => t.type)).toEqual(expect.arrayContaining(['Cluster', 'Listener']));
    // The example's loopback backends have no sidecar: callers reach them in plaintext.
    expect(edge(v, 'traffic', CLIENT, V1)?.mtls).toBe('plaintext');
    expect(v.signals.failed).toBe(0);
  });

  it('reports request rate, success rate and p99 within tolerance', { timeout: 60_000 }, async () => {
    const before = { total: live.total, at: performance.now() };
    // Envoy publishes histograms at its 5 s stats flush: p99 appears once one has happened.
    const v = await viewWhere(
      h,
      (x) =>
        (x.signals.windowSeconds ?? 0) > 1 &&
        (edge(x, 'traffic', CLIENT, V1)?.requestRate ?? 0) > 0 &&
        (edge(x, 'traffic', CLIENT, V1)?.p99Ms ?? null) !== null,
      new Date().toISOString(),
    );
    const sent = ((live.total - before.total) * 1000) / (performance.now() - before.at);
    const e1 = edge(v, 'traffic', CLIENT, V1)!;
    const e2 = edge(v, 'traffic', CLIENT, V2)!;
    const total = (e1.requestRate ?? 0) + (e2.requestRate ?? 0);
    console.log(
      `[mesh-view] sent ${sent.toFixed(1)} req/s; view: v1 ${e1.requestRate?.toFixed(1)}/s v2 ${e2.requestRate?.toFixed(1)}/s ` +
        `success ${e1.successRate} / ${e2.successRate}, p99 ${e1.p99Ms?.toFixed(2)} ms, window ${v.signals.windowSeconds?.toFixed(2)} s`,
    );
    expect(total).toBeGreaterThan(RPS * 0.75);
    expect(total).toBeLessThan(RPS * 1.25);
    expect(e1.successRate).toBe(1);
    expect(e1.p99Ms).not.toBeNull();
    expect(e1.p99Ms!).toBeGreaterThan(0);
    expect(e1.p99Ms!).toBeLessThan(1000);
    const share = edge(v, 'split', 'shop/checkout', V2)?.observedShare ?? -1;
    expect(share).toBeGreaterThanOrEqual(2);
    expect(share).toBeLessThanOrEqual(22);
  });

  it('follows an edit of the TrafficSplit: weights as programmed, then the observed share', { timeout: 90_000 }, async () => {
    const text = await h.mesh.read('trafficsplit.yaml');
    await h.mesh.write('trafficsplit.yaml', text.replace(/weight:\s*90\b/, 'weight: 50').replace(/weight:\s*10\b/, 'weight: 50'));
    const programmed = await viewWhere(h, (x) => Math.abs((edge(x, 'split', 'shop/checkout', V2)?.weight ?? 0) - 50) < 0.01);
    expect(edge(programmed, 'split', 'shop/checkout', V1)?.weight).toBeCloseTo(50, 5);
    // The window after the next full scrape interval holds only 50/50 traffic.
    await new Promise((r) => setTimeout(r, 2500));
    const v = await viewWhere(h, (x) => (x.signals.windowSeconds ?? 0) > 1, new Date().toISOString());
    const share = edge(v, 'split', 'shop/checkout', V2)?.observedShare ?? -1;
    console.log(`[mesh-view] after the edit to 50/50: observed v2 share ${share.toFixed(1)}%`);
    expect(share).toBeGreaterThanOrEqual(35);
    expect(share).toBeLessThanOrEqual(65);
  });

  it('shows retries recovering a failing backend, then its success rate without retries (0.7 ± 0.05)', { timeout: 90_000 }, async () => {
    h.v2.setFailPattern(thirtyPercent);
    try {
      await new Promise((r) => setTimeout(r, 2500));
      let v = await viewWhere(h, (x) => (edge(x, 'traffic', CLIENT, V2)?.requestRate ?? 0) > 0, new Date().toISOString());
      let e2 = edge(v, 'traffic', CLIENT, V2)!;
      console.log(`[mesh-view] v2 failing 30% with the RetryPolicy: success ${e2.successRate?.toFixed(3)}, retries ${e2.retryRate?.toFixed(1)}/s`);
      expect(e2.retryRate!).toBeGreaterThan(0);
      expect(e2.successRate!).toBeGreaterThan(0.95);

      // Without the RetryPolicy every failure reaches the caller.
      const version = v.modelVersion;
      await h.mesh.remove('retrypolicy.yaml');
      await viewWhere(h, (x) => x.modelVersion !== version);
      await new Promise((r) => setTimeout(r, 2500));
      v = await viewWhere(h, (x) => (edge(x, 'traffic', CLIENT, V2)?.requestRate ?? 0) > 0, new Date().toISOString());
      e2 = edge(v, 'traffic', CLIENT, V2)!;
      console.log(`[mesh-view] v2 failing 30% without retries: success ${e2.successRate?.toFixed(3)}, retries ${e2.retryRate?.toFixed(1)}/s`);
      expect(e2.successRate!).toBeGreaterThan(0.65);
      expect(e2.successRate!).toBeLessThan(0.75);
      expect(e2.retryRate).toBe(0);
      expect(edge(v, 'traffic', CLIENT, V1)?.successRate).toBe(1);
    } finally {
      h.v2.setFailPattern(false);
    }
  });
});
