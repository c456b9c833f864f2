// `weftctl describe pod` and the egress scope: the Pod's scope is printed with where it came
// from, and only the splits and retries of Services in it are listed as shaping its calls.
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.ts';
import { describePod, formatPodDescription } from '../../src/runtime/pod-description.ts';
import { retry, service, split } from '../model/fixtures.ts';

const model = buildModel([
  service('checkout', [{ name: 'http', port: 8080 }]),
  service('checkout-v2', [{ name: 'http', port: 8080 }]),
  service('cart', [{ name: 'http', port: 8080 }]),
  split('checkout-canary', 'checkout', { checkout: 90, 'checkout-v2': 10 }),
  retry('cart-retries', 'cart'),
]);
const pod = { namespace: 'shop', name: 'web-1', labels: {}, identity: 'spiffe://cluster.local/ns/shop/sa/web', sidecar: true };

describe('weftctl describe pod: egress scope', () => {
  it('without a scope lists every Service the mesh routes by', () => {
    const d = describePod(model, pod);
    expect(d.egress).toEqual({ scope: '*/*', source: 'none' });
    expect(d.outbound.map((o) => o.policy)).toEqual(['RetryPolicy shop/cart-retries', 'TrafficSplit shop/checkout-canary']);
    expect(formatPodDescription(d)).toContain('Egress:    every Service (no weft.dev/egress on the Pod or its Namespace');
  });

  it("with the Pod's scope lists only its Services, and says where the scope came from", () => {
    const d = describePod(model, { ...pod, egress: { source: 'pod', hosts: ['shop/checkout'] } });
    expect(d.outbound.map((o) => o.policy)).toEqual(['TrafficSplit shop/checkout-canary']);
    const text = formatPodDescription(d);
    expect(text).toContain("Egress:    shop/checkout (the Pod's weft.dev/egress)");
    expect(text).toContain('Outbound (the Services in its egress scope):');
  });
});
