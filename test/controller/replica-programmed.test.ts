// Programmed across replicas, the pure parts: which Services' routes a proxy receives (from
// real translation and the real snapshot cache), the configuration version that endpoint
// churn leaves alone, the compact report and its annotation, and the leader's aggregation of
// live reports (stale ones wait, a peer's rejection names proxy and replica). The API side
// runs in e2e/controller/replicas.test.ts.
import { describe, expect, it } from 'vitest';
import { configVersion } from '../../src/model/config-version.ts';
import { meshTally, programmedCondition } from '../../src/runtime/controller/aggregate.ts';
import { decodeReport, encodeReport, reportLeaseName, type ReplicaReport, type Tally } from '../../src/runtime/controller/replica-report.ts';
import { decisive } from '../../src/runtime/controller/report-publisher.ts';
import { serviceKeyOfName } from '../../xds/resources/names.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { SnapshotCache } from '../../xds/snapshot/cache.ts';
import { receivedServices } from '../../xds/snapshot/received.ts';
import { checkConsistency, translate } from '../../xds/translate/index.ts';
import type { PolicyStatus } from '../../src/model/types.ts';
import { explicitProxy, model, proxylessClient, retry, service, sidecar, slice, split } from '../translate/fixtures.ts';

const grpc = [{ name: 'grpc', port: 50051 }];
const mesh = (endpoint = '10.0.0.1') =>
  model(
    service('front', [{ name: 'http', port: 80 }], { clusterIP: '10.96.0.10' }),
    service('front-v2', [{ name: 'http', port: 80 }], { clusterIP: '10.96.0.11' }),
    service('greeter', grpc, { clusterIP: '10.96.0.12' }),
    slice('front', 'front', [{ name: 'http', port: 8080 }], [{ ip: endpoint }]),
    split('front', 'front', { front: 90, 'front-v2': 10 }),
    retry('greeter', 'greeter'),
  );

describe('what a proxy receives', () => {
  it('names route configurations and virtual hosts after their Service', () => {
    expect(serviceKeyOfName('outbound|80||front.shop.svc.cluster.local')).toBe('shop/front');
    expect(serviceKeyOfName('greeter.shop.svc.cluster.local:50051')).toBe('shop/greeter');
    expect(serviceKeyOfName('explicitOutbound')).toBeUndefined();
    expect(serviceKeyOfName('80')).toBeUndefined();
    expect(serviceKeyOfName('greeter.shop:50051')).toBeUndefined();
  });

  it('a captured sidecar receives the routes it subscribes to; a proxyless client only those of what it calls', () => {
    const m = mesh();
    const cache = new SnapshotCache({ generate: translate, checkConsistency, model: m });
    const side = cache.snapshotFor(sidecar('shop', undefined, 'side'))!;
    const routeNames = [...side.resources.get(TypeUrl.Route)!.keys()];
    expect([...receivedServices(side, routeNames)].sort()).toEqual(['shop/front', 'shop/front-v2', 'shop/greeter']);
    expect([...receivedServices(side, ['outbound|80||front.shop.svc.cluster.local'])]).toEqual(['shop/front']);
    const explicit = cache.snapshotFor(explicitProxy('shop', 'exp'))!;
    expect([...receivedServices(explicit, '*')].sort()).toEqual(['shop/front', 'shop/front-v2', 'shop/greeter']);
    const grpcClient = cache.snapshotFor(proxylessClient('shop', 'g'))!;
    expect([...receivedServices(grpcClient, ['greeter.shop.svc.cluster.local:50051'])]).toEqual(['shop/greeter']);
    expect([...receivedServices(grpcClient, ['nothing:1'])]).toEqual([]);
  });

  it('the configuration version ignores endpoints and follows policies', () => {
    expect(configVersion(mesh('10.0.0.1'))).toBe(configVersion(mesh('10.0.0.2')));
    expect(mesh('10.0.0.1').version).not.toBe(mesh('10.0.0.2').version);
    const other = model(service('front', [{ name: 'http', port: 80 }], { clusterIP: '10.96.0.10' }));
    expect(configVersion(other)).not.toBe(configVersion(mesh()));
  });
});

const report = (replica: string, config: string, resources: Record<string, Tally>, proxies = 1): ReplicaReport => ({
  replica,
  configVersion: config,
  modelVersion: `${config}-m`,
  proxies,
  resources: new Map(Object.entries(resources)),
});
const KEY = 'TrafficSplit shop/front';
const accepted: PolicyStatus = {
  kind: 'TrafficSplit',
  key: 'shop/front',
  conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '' }],
  summary: '',
};

describe('replica reports', () => {
  it('round-trip through the annotation, and stay small at many proxies', () => {
    const r = report('weft-7d9f-abc', 'c1', {
      [KEY]: { affected: 9000, acked: 8999, rejected: 1, first: { proxy: 'web-1.shop', type: 'rds', message: 'bad regex' } },
      'RetryPolicy shop/greeter': { affected: 10_000, acked: 10_000, rejected: 0 },
    });
    const text = encodeReport(r);
    expect(decodeReport(text)).toEqual(r);
    expect(text.length).toBeLessThan(300);
    const many = report(
      'r',
      'c',
      Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`RetryPolicy ns-${i}/service-${i}`, { affected: 10_000, acked: 10_000, rejected: 0 }])),
    );
    const size = encodeReport(many).length;
    console.log(`report of 1000 resources over 10,000 proxies: ${size} bytes (annotations are capped at 262,144 bytes per object)`);
    expect(size).toBeLessThan(100_000);
    expect(decodeReport('{"v":1}')).toBeUndefined();
    expect(decodeReport('not json')).toBeUndefined();
    expect(reportLeaseName('weft-6c9b7_1234')).toBe('weft-replica-weft-6c9b7-1234');
  });

  it('are rewritten at once only for what the leader decides on', () => {
    const base = report('a', 'c1', { [KEY]: { affected: 2, acked: 2, rejected: 0 } });
    expect(decisive(report('a', 'c1', { [KEY]: { affected: 3, acked: 3, rejected: 0 } }))).toBe(decisive(base)); // counts only
    expect(decisive(report('a', 'c1', { [KEY]: { affected: 3, acked: 2, rejected: 0 } }))).not.toBe(decisive(base));
    expect(decisive(report('a', 'c2', { [KEY]: { affected: 2, acked: 2, rejected: 0 } }))).not.toBe(decisive(base));
  });
});

describe('the leader’s aggregation', () => {
  const local = report('leader', 'c1', { [KEY]: { affected: 2, acked: 2, rejected: 0 } });

  it('adds the proxies of live reports for the same configuration', () => {
    const t = meshTally(KEY, local, [report('b', 'c1', { [KEY]: { affected: 3, acked: 3, rejected: 0 } }), report('c', 'c1', {})]);
    expect(programmedCondition(accepted, t)).toEqual({
      type: 'Programmed',
      status: 'True',
      reason: 'Programmed',
      message: '5/5 proxies acknowledged the current configuration',
    });
  });

  it('counts a report for another configuration as not acknowledged, and names the replica it waits for', () => {
    const t = meshTally(KEY, local, [report('b', 'c0', { [KEY]: { affected: 3, acked: 3, rejected: 0 } })]);
    expect(programmedCondition(accepted, t)).toMatchObject({
      status: 'False',
      reason: 'Pending',
      message: '2/5 proxies acknowledged the current configuration; waiting for the rest (replica b has not reported on the current configuration yet)',
    });
    // Not even a resource the peer has not heard of can read True meanwhile.
    expect(programmedCondition(accepted, meshTally('RetryPolicy shop/new', report('leader', 'c1', {}), [report('b', 'c0', {})])).reason).toBe('Pending');
    expect(programmedCondition(accepted, meshTally('RetryPolicy shop/new', report('leader', 'c1', {}), [])).reason).toBe('NoProxies');
  });

  it('names the proxy, its replica and Envoy’s message when a proxy on another replica rejects', () => {
    const t = meshTally(KEY, local, [
      report('b', 'c1', { [KEY]: { affected: 2, acked: 1, rejected: 1, first: { proxy: 'envoy-3', type: 'rds', message: 'RE2 program size of 23 > 16' } } }),
    ]);
    expect(programmedCondition(accepted, t)).toMatchObject({
      status: 'False',
      reason: 'Rejected',
      message: '3/4 proxies acknowledged the current configuration; proxy envoy-3 on replica b rejected rds: RE2 program size of 23 > 16',
    });
  });
});
