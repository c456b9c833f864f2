// checkConsistency is the gate before publishing: every reference resolves and nothing
// Envoy rejects as a duplicate is present. Each case breaks one translated set one way.
import { clone, create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { FilterChainSchema } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { RouteConfigurationSchema } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { checkConsistency, translate } from '../../xds/translate/index.ts';
import type { ResourceSet } from '../../xds/translate/types.ts';
import { explicitProxy, model, proxylessClient, service, sidecar, slice, split } from './fixtures.ts';

const m = model(
  service('web', [{ name: 'http', port: 80 }]),
  service('web-v2', [{ name: 'http', port: 80 }]),
  service('db', [{ name: 'tcp-pg', port: 5432 }]),
  slice('web-1', 'web', [{ name: 'http', port: 80 }], [{ ip: '10.244.0.1' }]),
  split('web-canary', 'web', { web: 50, 'web-v2': 50 }),
);
const good = translate(m, sidecar('shop', 'web'));
const with_ = (patch: Partial<ResourceSet>): ResourceSet => ({ ...good, ...patch });

describe('checkConsistency', () => {
  it('accepts what translate produces, for every proxy kind', () => {
    expect(checkConsistency(good)).toEqual([]);
    expect(checkConsistency(translate(m, proxylessClient()))).toEqual([]);
  });

  it('is consistent for an empty model and for a proxy fronting an unknown service', () => {
    const empty = model();
    for (const proxy of [sidecar(), sidecar('shop', 'ghost'), proxylessClient(), explicitProxy()]) {
      expect(checkConsistency(translate(empty, proxy))).toEqual([]);
    }
    expect(checkConsistency(translate(m, sidecar('shop', 'ghost')))).toEqual([]);
  });

  it('reports an EDS cluster without its ClusterLoadAssignment', () => {
    const problems = checkConsistency(with_({ endpoints: good.endpoints.filter((e) => !e.clusterName.includes('web-v2')) }));
    expect(problems).toEqual(['cluster outbound|80||web-v2.shop.svc.cluster.local: no ClusterLoadAssignment "outbound|80||web-v2.shop.svc.cluster.local"']);
  });

  it('reports a listener whose RDS name has no route config', () => {
    expect(checkConsistency(with_({ routes: [] }))).toEqual(['listener 0.0.0.0_80 chain 0.0.0.0_80_http: route config "80" not found']);
  });

  it('reports routes and tcp proxies aimed at unknown clusters', () => {
    const problems = checkConsistency(with_({ clusters: good.clusters.filter((c) => !c.name.includes('web-v2') && c.name !== 'PassthroughCluster') }));
    expect(problems.some((p) => p.includes('targets unknown cluster "outbound|80||web-v2.shop.svc.cluster.local"'))).toBe(true);
    expect(problems.some((p) => p.includes('tcp_proxy targets unknown cluster "PassthroughCluster"'))).toBe(true);
    expect(problems.some((p) => p.includes('allow_any') && p.includes('"PassthroughCluster"'))).toBe(true);
  });

  it('reports a domain claimed by two virtual hosts of one route config', () => {
    const rc = clone(RouteConfigurationSchema, good.routes[0] ?? create(RouteConfigurationSchema));
    const [first, second] = rc.virtualHosts;
    if (!first || !second) throw new Error('fixture needs two virtual hosts');
    second.domains.push(first.domains[0] ?? '');
    expect(checkConsistency(with_({ routes: [rc] }))).toEqual([`route config 80: domain "${first.domains[0]}" in more than one virtual host`]);
  });

  it('reports two filter chains with the same match, and duplicate resource names', () => {
    const l = clone(ListenerSchema, good.listeners.find((x) => x.name === '0.0.0.0_80') ?? create(ListenerSchema));
    const chain = l.filterChains[0];
    if (!chain) throw new Error('fixture needs a chain');
    l.filterChains.push(clone(FilterChainSchema, chain));
    const problems = checkConsistency(with_({ listeners: [...good.listeners, l] }));
    expect(problems).toContain('duplicate listener "0.0.0.0_80"');
    expect(problems).toContain('listener 0.0.0.0_80: two filter chains with the same filter_chain_match');
  });
});
