// BackendPolicy resolution: one policy per target (oldest wins), the missing target, the
// resolved form translation reads (hash keys lowercased, ttl in ms), status.summary, and
// EndpointAddress.zone filled from the EndpointSlice endpoint's zone.
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.ts';
import { must, service, slice } from './fixtures.ts';

const bp = (name: string, spec: Record<string, unknown>, created?: string) =>
  must({
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'BackendPolicy',
    metadata: { name, namespace: 'shop', generation: 3, ...(created ? { creationTimestamp: created } : {}) },
    spec: { targetRef: { kind: 'Service', name: 'reviews' }, ...spec },
  });

describe('BackendPolicy resolution', () => {
  it('resolves the oldest policy per Service; the newer one is Conflicted', () => {
    const model = buildModel([
      service('reviews'),
      bp('late', { loadBalancer: { algorithm: 'Random' } }, '2026-02-01T00:00:00Z'),
      bp(
        'first',
        {
          loadBalancer: { algorithm: 'RingHash', hashKey: { cookie: { name: 'session', ttl: '1m30s' } } },
          locality: { mode: 'Failover' },
          connectionPool: { maxRequests: 2, maxRequestsPerConnection: 10 },
        },
        '2026-01-01T00:00:00Z',
      ),
    ]);
    expect(model.services.get('shop/reviews')?.backend).toEqual({
      policy: 'shop/first',
      algorithm: 'RingHash',
      hashKey: { cookie: { name: 'session', ttlMs: 90_000 } },
      zoneFailover: true,
      connectionPool: { maxRequests: 2, maxRequestsPerConnection: 10 },
    });
    const byName = Object.fromEntries(model.statuses.map((s) => [s.key, s]));
    expect(byName['shop/first']?.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Accepted=True', 'ResolvedRefs=True']);
    expect(byName['shop/first']?.summary).toBe('RingHash on cookie session; zone failover; pool 2 requests, 10 per connection');
    expect(byName['shop/late']?.conditions[0]).toMatchObject({ status: 'False', reason: 'Conflicted' });
    expect(byName['shop/late']?.generation).toBe(3);
  });

  it('is not applied while its target Service is missing', () => {
    const model = buildModel([bp('p', { connectionPool: { maxConnections: 1 } })]);
    const [status] = model.statuses;
    expect(status?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(['Accepted=False/TargetNotFound', 'ResolvedRefs=False/TargetNotFound']);
    expect(status?.summary).toBe('pool 1 connection');
  });

  it('lowercases a header hash key (Envoy matches header names lowercased)', () => {
    const model = buildModel([service('reviews'), bp('p', { loadBalancer: { algorithm: 'Maglev', hashKey: { header: 'X-User' } } })]);
    expect(model.services.get('shop/reviews')?.backend?.hashKey).toEqual({ header: 'x-user' });
  });

  it('fills EndpointAddress.zone from the EndpointSlice', () => {
    const model = buildModel([
      service('reviews'),
      slice('reviews-1', 'reviews', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.1', zone: 'zone-a' }, { ip: '10.0.0.2' }]),
    ]);
    expect(model.services.get('shop/reviews')?.ports[0]?.endpoints.map((e) => e.zone)).toEqual(['zone-a', undefined]);
  });
});
