// TrafficSplit end to end: weft serve reads examples/mesh, a real Envoy routes ≥ 2000
// requests 90/10 between two real backends, and an edit of trafficsplit.yaml to 50/50
// reaches Envoy's routing while it runs. Envoy must never reject an update on the way.
// Runs over State-of-the-World and Delta ADS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectedUpdates, waitForRoute, weightPercent } from '../support/envoy-routes.ts';
import { CHECKOUT_HOST, CHECKOUT_URL, startMeshWithEnvoy, type MeshEnvoy } from '../support/mesh-envoy.ts';
import { percentOf, sendThroughProxy } from '../support/proxy-load.ts';

describe.each([
  ['SotW', false],
  ['delta', true],
])('TrafficSplit through a real Envoy (%s ADS)', (api, delta) => {
  let h: MeshEnvoy;
  beforeAll(async () => {
    h = await startMeshWithEnvoy({ delta });
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** Sends `requests` through Envoy; all must succeed. Returns the percentage served by v2. */
  async function measure(label: string, requests: number): Promise<number> {
    const r = await sendThroughProxy({ proxyPort: h.outboundPort, url: CHECKOUT_URL, requests, concurrency: 8 });
    const v2 = percentOf(r, 'v2');
    console.log(`[split ${api}] ${label}: ${r.ok}/${r.total} ok, v1 ${percentOf(r, 'v1').toFixed(1)}%, v2 ${v2.toFixed(1)}% (${Math.round(r.elapsedMs)} ms)`);
    expect(r.errors).toBe(0);
    expect(r.ok).toBe(requests);
    expect(r.byBackend.get('?')).toBeUndefined();
    return v2;
  }

  it('splits 90/10 within ±3 points', { timeout: 120_000 }, async () => {
    // Envoy picks by weighted random: over 2000 requests ±3 points is 4.5 standard deviations.
    const v2 = await measure('90/10', 2000);
    expect(v2).toBeGreaterThanOrEqual(7);
    expect(v2).toBeLessThanOrEqual(13);
  });

  it('follows an edit of trafficsplit.yaml to 50/50', { timeout: 120_000 }, async () => {
    const text = await h.mesh.read('trafficsplit.yaml');
    const edited = text.replace(/weight:\s*90\b/, 'weight: 50').replace(/weight:\s*10\b/, 'weight: 50');
    expect(edited).not.toBe(text);
    const written = performance.now();
    await h.mesh.write('trafficsplit.yaml', edited);
    await waitForRoute(h.envoy, CHECKOUT_HOST, (v) => Math.abs(weightPercent(v, 'checkout-v2.') - 50) < 0.01);
    console.log(`[split ${api}] file write -> Envoy routing 50/50: ${Math.round(performance.now() - written)} ms`);

    // 50/50 varies most (σ = 1.1 points at 2000); 4000 requests keep ±3 points at 3.8 σ.
    const v2 = await measure('50/50', 4000);
    expect(v2).toBeGreaterThanOrEqual(47);
    expect(v2).toBeLessThanOrEqual(53);
  });

  it('never had an xDS update rejected by Envoy', async () => {
    const rejected = await rejectedUpdates(h.envoy);
    expect(rejected.get('cluster_manager.cds.update_rejected')).toBe(0);
    expect(rejected.get('listener_manager.lds.update_rejected')).toBe(0);
    // RDS (http.<prefix>.rds.<route>.update_rejected) and EDS (cluster.<name>.update_rejected) ones too.
    expect([...rejected.keys()].some((k) => /\.rds\..*update_rejected$/.test(k))).toBe(true);
    expect([...rejected.keys()].some((k) => /^cluster\.outbound.*\.update_rejected$/.test(k))).toBe(true);
    expect(Object.fromEntries([...rejected].filter(([, v]) => v !== 0))).toEqual({});
  });
});
