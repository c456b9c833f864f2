import { describe, expect, it } from 'vitest';
import { parseSpiffeId, spiffeId } from '../../src/ca/spiffe.ts';

describe('SPIFFE IDs', () => {
  it('round-trips the Kubernetes workload form', () => {
    const id = spiffeId('cluster.local', 'shop', 'checkout');
    expect(id).toBe('spiffe://cluster.local/ns/shop/sa/checkout');
    expect(parseSpiffeId(id)).toEqual({ ok: true, identity: { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'checkout' } });
  });

  it('refuses to build an ID from names Kubernetes would reject', () => {
    expect(() => spiffeId('cluster.local', 'a/b', 'c')).toThrow(RangeError);
    expect(() => spiffeId('UPPER', 'a', 'c')).toThrow(RangeError);
  });

  it.each([
    'spiffe://cluster.local/ns/shop',
    'spiffe://cluster.local/ns/shop/sa/web/extra',
    'https://cluster.local/ns/shop/sa/web',
    'spiffe://cluster.local/ns/Shop/sa/web',
    'spiffe://cluster.local/ns/../sa/web',
    'spiffe:///ns/a/sa/b',
    '',
  ])('parses %j as a reason, not a throw', (uri) => {
    expect(parseSpiffeId(uri).ok).toBe(false);
  });
});
