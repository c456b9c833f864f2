// weftctl preview's diff (src/runtime/config-preview.ts): the same translation the control plane
// serves, before and after a change, grouped by proxies that receive the same change. Three
// changes a user previews most: a split's weights, a new RetryPolicy, a PeerAuth mode.
import { describe, expect, it } from 'vitest';
import type { ConfigObject } from '../../src/api/objects.ts';
import { buildModel } from '../../src/model/build.ts';
import { preview } from '../../src/runtime/config-preview.ts';
import { formatPreview } from '../../src/runtime/cli/preview.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import type { WorkloadFacts } from '../../src/model/types.ts';
import { peerAuth, retry, service, slice, split } from '../model/fixtures.ts';

const http = [{ name: 'http', port: 8080 }];
const sl = (svc: string, ip: string, pod: string) => slice(`${svc}-1`, svc, [{ name: 'http', port: 8080 }], [{ ip, ready: true, pod }]);
const mesh: ConfigObject[] = [
  service('web', http, { selector: { app: 'web' } }),
  service('web-v1', http, { selector: { app: 'web', v: '1' } }),
  service('web-v2', http, { selector: { app: 'web', v: '2' } }),
  service('shopper', http, { selector: { app: 'shopper' } }),
  sl('web', '10.0.0.1', 'web-1'),
  sl('web-v1', '10.0.0.1', 'web-1'),
  sl('web-v2', '10.0.0.2', 'web-2'),
  sl('shopper', '10.0.0.9', 'shopper-1'),
];
const workloads: WorkloadFacts[] = [
  { namespace: 'shop', name: 'web-1', labels: { app: 'web', v: '1' }, sidecar: true },
  { namespace: 'shop', name: 'web-2', labels: { app: 'web', v: '2' }, sidecar: true },
  { namespace: 'shop', name: 'shopper-1', labels: { app: 'shopper' }, sidecar: true },
];
const proxy = (name: string, labels: Record<string, string>): ProxyInfo => ({
  id: `shop/${name}`,
  kind: 'sidecar',
  namespace: 'shop',
  labels,
  capture: true,
  identity: `spiffe://cluster.local/ns/shop/sa/${name.replace(/-\d+$/, '')}`,
});
const proxies = [proxy('web-1', { app: 'web', v: '1' }), proxy('web-2', { app: 'web', v: '2' }), proxy('shopper-1', { app: 'shopper' })];
const model = (objects: ConfigObject[]) => buildModel(objects, { workloads });

describe('weftctl preview', () => {
  it('a split edit changes one route configuration, the same for every proxy: one group, the weights as patch', () => {
    const before = model([...mesh, split('web', 'web', { 'web-v1': 90, 'web-v2': 10 })]);
    const after = model([...mesh, split('web', 'web', { 'web-v1': 50, 'web-v2': 50 })]);
    const p = preview(before, after, proxies);
    expect(p.unaffected).toBe(0);
    expect(p.groups).toHaveLength(1);
    expect(p.groups[0]!.proxies).toEqual(['shop/shopper-1', 'shop/web-1', 'shop/web-2']);
    const changes = p.groups[0]!.changes;
    expect(changes.map((c) => `${c.change} ${c.type} ${c.name}`)).toEqual(['changed rds 8080']);
    const ops = changes[0]!.patch!.map((o) => `${o.op} ${o.path} ${'value' in o ? JSON.stringify(o.value) : ''}`);
    expect(ops.some((o) => /^replace \/virtualHosts\/\d+\/routes\/\d+\/route\/weightedClusters\/clusters\/0\/weight 50$/.test(o))).toBe(true);
    expect(ops.some((o) => /clusters\/1\/weight 50$/.test(o))).toBe(true);
  });

  it('a new RetryPolicy adds a retry policy to the target service route, nothing else', () => {
    const p = preview(model(mesh), model([...mesh, retry('web', 'web', { attempts: 3 })]), proxies);
    expect(p.groups).toHaveLength(1);
    expect(p.groups[0]!.changes.map((c) => `${c.change} ${c.type} ${c.name}`)).toEqual(['changed rds 8080']);
    expect(JSON.stringify(p.groups[0]!.changes[0]!.patch)).toContain('"retryPolicy"');
  });

  it('a PeerAuth mode change: the servers it selects change their inbound listener, callers their endpoints (mTLS or not)', () => {
    const before = model([...mesh, peerAuth('web', { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'STRICT' } })]);
    const after = model([...mesh, peerAuth('web', { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'DISABLE' } })]);
    const p = preview(before, after, proxies);
    const byProxy = new Map(p.groups.flatMap((g) => g.proxies.map((id) => [id, g.changes.map((c) => `${c.change} ${c.type} ${c.name}`)])));
    expect(byProxy.get('shop/web-1')).toContain('changed lds virtualInbound');
    expect(byProxy.get('shop/shopper-1')).not.toContain('changed lds virtualInbound');
    expect(byProxy.get('shop/shopper-1')).toEqual([
      'changed eds outbound|8080||web-v1.shop.svc.cluster.local',
      'changed eds outbound|8080||web-v2.shop.svc.cluster.local',
      'changed eds outbound|8080||web.shop.svc.cluster.local',
    ]);
  });

  it('no change, no groups; the table says so and counts the unaffected', () => {
    const p = preview(model(mesh), model(mesh), proxies);
    expect(p).toEqual({ groups: [], unaffected: 3 });
    expect(formatPreview(p, [])).toBe('No proxy configuration changes.\n3 proxies unaffected\n');
  });

  it('the table: statuses of the candidates, then each group with +/~/- and the patch', () => {
    const before = model([...mesh, split('web', 'web', { 'web-v1': 90, 'web-v2': 10 })]);
    const after = model([...mesh, split('web', 'web', { 'web-v1': 50, 'web-v2': 50 })]);
    const text = formatPreview(preview(before, after, proxies), after.statuses);
    expect(text).toMatch(
      /^TrafficSplit shop\/web: Accepted — TrafficSplit applies to Service shop\/web\n\n3 proxies: shop\/shopper-1, shop\/web-1, shop\/web-2\n {2}~ rds 8080\n {6}replace \/virtualHosts\//,
    );
  });
});
