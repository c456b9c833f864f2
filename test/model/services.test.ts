// Service ⋈ EndpointSlice: ports matched by name (or target number for unnamed slice
// ports), readiness, app protocol, ordering and determinism.
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.ts';
import { appProtocolOf } from '../../src/model/services.ts';
import { service, slice } from './fixtures.ts';

describe('buildModel services', () => {
  it('joins slices to their Service by label and namespace, per port name', () => {
    const model = buildModel([
      service('web', [
        { name: 'http', port: 80, targetPort: 'http' },
        { name: 'grpc-api', port: 9090 },
      ]),
      slice(
        'web-a',
        'web',
        [
          { name: 'http', port: 8080 },
          { name: 'grpc-api', port: 9091 },
        ],
        [
          { ip: '10.0.0.2', pod: 'web-2', zone: 'z1' },
          { ip: '10.0.0.1', ready: false },
        ],
      ),
      slice('web-b', 'web', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.3' }]),
      slice('web-other-ns', 'web', [{ name: 'http', port: 8080 }], [{ ip: '10.9.9.9' }], { ns: 'other' }),
      slice('unlabelled-owner', 'api', [{ name: 'http', port: 8080 }], [{ ip: '10.8.8.8' }]),
    ]);
    const web = model.services.get('shop/web');
    expect(web?.ports).toEqual([
      {
        name: 'http',
        port: 80,
        targetPort: 'http',
        protocol: 'TCP',
        appProtocol: 'http',
        endpoints: [
          { address: '10.0.0.1', port: 8080, ready: false },
          { address: '10.0.0.2', port: 8080, ready: true, workload: 'web-2', zone: 'z1' },
          { address: '10.0.0.3', port: 8080, ready: true },
        ],
      },
      {
        name: 'grpc-api',
        port: 9090,
        targetPort: 9090,
        protocol: 'TCP',
        appProtocol: 'grpc',
        endpoints: [
          { address: '10.0.0.1', port: 9091, ready: false },
          { address: '10.0.0.2', port: 9091, ready: true, workload: 'web-2', zone: 'z1' },
        ],
      },
    ]);
    expect([...model.services.keys()]).toEqual(['shop/web']);
  });

  it('matches unnamed slice ports to the service port by target number', () => {
    const model = buildModel([
      service('db', [
        { name: 'pg', port: 5432, targetPort: 15432 },
        { name: 'metrics', port: 9100 },
      ]),
      slice('db-manual', 'db', [{ port: 15432 }], [{ ip: '192.168.1.5' }]),
    ]);
    const [pg, metrics] = model.services.get('shop/db')?.ports ?? [];
    expect(pg?.endpoints).toEqual([{ address: '192.168.1.5', port: 15432, ready: true }]);
    expect(metrics?.endpoints).toEqual([]);
  });

  it('serves a single unnamed port from an unnamed slice port, skipping FQDN slices and merging duplicates', () => {
    const model = buildModel([
      service('cache', [{ port: 6379, targetPort: 'redis' }]),
      slice('cache-a', 'cache', [{ name: '', port: 16379 }], [{ ip: '10.0.0.7', ready: false }]),
      slice('cache-b', 'cache', [{ name: '', port: 16379 }], [{ ip: '10.0.0.7' }]), // mid-move duplicate
      slice('cache-dns', 'cache', [{ name: '', port: 16379 }], [{ ip: 'cache.example.com' }], { addressType: 'FQDN' }),
    ]);
    expect(model.services.get('shop/cache')?.ports[0]).toMatchObject({ name: '', endpoints: [{ address: '10.0.0.7', port: 16379, ready: true }] });
  });

  it('omits a headless clusterIP and keeps a real one', () => {
    const model = buildModel([service('a', undefined, { clusterIP: 'None' }), service('b', undefined, { clusterIP: '10.96.0.9' })]);
    expect(model.services.get('shop/a')).not.toHaveProperty('clusterIP');
    expect(model.services.get('shop/b')?.clusterIP).toBe('10.96.0.9');
  });

  it('is deterministic: input order does not change the model or its version', () => {
    const objects = [
      service('b'),
      service('a', [{ name: 'http', port: 80 }], { ns: 'zeta' }),
      service('c'),
      slice('b-1', 'b', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.2' }, { ip: '10.0.0.1' }]),
    ];
    const one = buildModel(objects);
    const two = buildModel([...objects].reverse());
    expect(two.version).toBe(one.version);
    expect(two).toEqual(one);
    expect([...one.services.keys()]).toEqual(['shop/b', 'shop/c', 'zeta/a']);
    expect(buildModel(objects.slice(1)).version).not.toBe(one.version);
    expect(one.version).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('appProtocolOf', () => {
  it.each([
    [{ name: 'http', protocol: 'TCP' }, 'http'],
    [{ name: 'web', protocol: 'TCP' }, 'http'],
    [{ name: 'grpc', protocol: 'TCP' }, 'grpc'],
    [{ name: 'grpc-web', protocol: 'TCP' }, 'grpc'],
    [{ name: 'http2-api', protocol: 'TCP' }, 'http2'],
    [{ name: 'httpx', protocol: 'TCP' }, 'http'], // not a prefix match: default
    [{ name: 'tcp-db', protocol: 'TCP' }, 'tcp'],
    [{ name: 'https', protocol: 'TCP' }, 'tcp'],
    [{ name: 'http', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' }, 'http2'],
    [{ name: 'http', protocol: 'TCP', appProtocol: 'grpc' }, 'grpc'],
    [{ name: 'grpc', protocol: 'TCP', appProtocol: 'mysql' }, 'grpc'], // unknown appProtocol: fall back to the name
    [{ name: 'dns', protocol: 'UDP' }, 'tcp'],
  ])('%j → %s', (port, expected) => {
    expect(appProtocolOf(port)).toBe(expected);
  });
});
