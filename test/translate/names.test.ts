// Resource names are wire contract (Envoy stats, warming, gRPC listener lookups): pin them.
import { describe, expect, it } from 'vitest';
import {
  CLUSTER_DOMAIN,
  inboundClusterName,
  outboundClusterName,
  outboundPortListenerName,
  outboundPortRouteName,
  proxylessListenerNames,
  serviceDomains,
  serviceFqdn,
  serviceHosts,
} from '../../xds/resources/names.ts';

const checkout = { namespace: 'shop', name: 'checkout' };

describe('resource names', () => {
  it('names clusters Istio-style by port and FQDN', () => {
    expect(CLUSTER_DOMAIN).toBe('cluster.local');
    expect(serviceFqdn(checkout)).toBe('checkout.shop.svc.cluster.local');
    expect(outboundClusterName(checkout, 8080)).toBe('outbound|8080||checkout.shop.svc.cluster.local');
    expect(inboundClusterName(9091)).toBe('inbound|9091||');
  });

  it('names per-port listeners and their route configs', () => {
    expect(outboundPortListenerName(8080)).toBe('0.0.0.0_8080');
    expect(outboundPortRouteName(8080)).toBe('8080');
  });

  it('offers the short name only to callers in the same namespace', () => {
    expect(serviceHosts(checkout, 'shop')).toEqual(['checkout', 'checkout.shop', 'checkout.shop.svc', 'checkout.shop.svc.cluster.local']);
    expect(serviceHosts(checkout, 'billing')).toEqual(['checkout.shop', 'checkout.shop.svc', 'checkout.shop.svc.cluster.local']);
  });

  it('lists every host with and without the port', () => {
    const domains = serviceDomains(checkout, 8080, 'shop');
    expect(domains).toHaveLength(8);
    expect(domains).toContain('checkout:8080');
    expect(domains).toContain('checkout.shop.svc.cluster.local');
    expect([...domains].sort()).toEqual(domains);
  });

  it('names proxyless API listeners by what grpc-js-xds dials (xds:///checkout.shop:50051)', () => {
    expect(proxylessListenerNames(checkout, 50051, 'shop')).toEqual([
      'checkout.shop.svc.cluster.local:50051',
      'checkout.shop.svc:50051',
      'checkout.shop:50051',
      'checkout:50051',
    ]);
    expect(proxylessListenerNames(checkout, 50051, 'billing')).not.toContain('checkout:50051');
  });
});
