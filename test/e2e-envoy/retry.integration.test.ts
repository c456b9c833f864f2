// RetryPolicy end to end: both checkout backends fail 30 % of requests with 503 (never twice
// in a row); with examples/mesh's policy of 3 retries a real Envoy turns that into ≥ 99 %
// success. Removing the policy file shows the raw rate for contrast.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectedUpdates, waitForRoute } from '../support/envoy-routes.ts';
import { CHECKOUT_HOST, CHECKOUT_URL, startMeshWithEnvoy, type MeshEnvoy } from '../support/mesh-envoy.ts';
import { sendThroughProxy } from '../support/proxy-load.ts';

const REQUESTS = 2000;
let h: MeshEnvoy;

beforeAll(async () => {
  h = await startMeshWithEnvoy({ failing: true });
});
afterAll(async () => {
  await h?.stop();
});

async function successRate(label: string, concurrency: number): Promise<number> {
  h.v1.resetCounts();
  h.v2.resetCounts();
  const r = await sendThroughProxy({ proxyPort: h.outboundPort, url: CHECKOUT_URL, requests: REQUESTS, concurrency });
  const rate = (100 * r.ok) / r.total;
  const tries = h.v1.requests + h.v2.requests;
  console.log(
    `[retry] ${label}, ${concurrency} in flight: ${rate.toFixed(2)}% success (${r.ok}/${r.total}), ${tries} tries reached the backends, statuses ${JSON.stringify(Object.fromEntries(r.byStatus))}`,
  );
  expect(r.errors).toBe(0);
  return rate;
}

describe('RetryPolicy through a real Envoy', () => {
  it('retries 503s: ≥ 99 % success with backends failing 30 %', { timeout: 120_000 }, async () => {
    await waitForRoute(h.envoy, CHECKOUT_HOST, (v) => v.retryPolicy !== undefined);
    const rate = await successRate('with RetryPolicy (3 retries)', 3);
    expect(rate).toBeGreaterThanOrEqual(99);
  });

  // More callers at once: Envoy's default circuit breaker allows only 3 concurrent retries per
  // cluster, which once capped this at ~76 %; clusters now lift it (xds/translate/cluster-policy.ts).
  it('retries 503s: ≥ 99 % success with 8 requests in flight, no retry refused', { timeout: 120_000 }, async () => {
    await waitForRoute(h.envoy, CHECKOUT_HOST, (v) => v.retryPolicy !== undefined);
    const rate = await successRate('with RetryPolicy (3 retries)', 8);
    const overflow = [...(await h.envoy.stats('upstream_rq_retry_overflow$')).values()].reduce((a, b) => a + b, 0);
    expect(overflow).toBe(0);
    expect(rate).toBeGreaterThanOrEqual(99);
  });

  it('fails about 30 % without the policy', { timeout: 120_000 }, async () => {
    await h.mesh.remove('retrypolicy.yaml');
    // Translation may keep a default retry policy that does not cover 5xx; what matters is that 5xx is no longer retried.
    await waitForRoute(h.envoy, CHECKOUT_HOST, (v) => !String(v.retryPolicy?.retry_on ?? '').includes('5xx'));
    const rate = await successRate('without RetryPolicy', 3);
    expect(rate).toBeLessThan(80);
    expect(rate).toBeGreaterThan(60);
  });

  it('never had an xDS update rejected by Envoy', async () => {
    const rejected = await rejectedUpdates(h.envoy);
    expect(rejected.get('cluster_manager.cds.update_rejected')).toBe(0);
    expect(rejected.get('listener_manager.lds.update_rejected')).toBe(0);
    expect(Object.fromEntries([...rejected].filter(([, v]) => v !== 0))).toEqual({});
  });
});
