// Route configuration boundaries (xds/translate/outbound-ports.ts): in capture mode each
// service port with a ClusterIP has a route config of its own, named by its listener chain,
// so a split in one namespace changes that one config — the small push of issue 11, and the
// blast radius of issue 13 (a config Envoy rejects stays within its service).
import { toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { translate } from '../../xds/translate/index.ts';
import { model, service, sidecar, split } from './fixtures.ts';

const mesh = (weights: Record<string, number>) =>
  model(
    service('web', [{ name: 'http', port: 8080 }], { ns: 'shop', clusterIP: '10.96.0.1' }),
    service('web-v2', [{ name: 'http', port: 8080 }], { ns: 'shop', clusterIP: '10.96.0.2' }),
    service('pay', [{ name: 'http', port: 8080 }], { ns: 'bank', clusterIP: '10.96.1.1' }),
    service('ledger', [{ name: 'http', port: 8080 }], { ns: 'bank' }), // headless: routed by Host
    split('web', 'web', weights, { ns: 'shop' }),
  );

const bytes = (routes: readonly RouteConfiguration[]) =>
  new Map(routes.map((r) => [r.name, Buffer.from(toBinary(RouteConfigurationSchema, r)).toString('hex')]));

describe('capture-mode route boundaries', () => {
  it('gives each ClusterIP service port its own config, taking any Host; Host routing only for the rest', () => {
    const set = translate(mesh({ web: 90, 'web-v2': 10 }), sidecar('bank'));
    expect(set.routes.map((r) => r.name)).toEqual([
      '8080',
      'outbound|8080||pay.bank.svc.cluster.local',
      'outbound|8080||web-v2.shop.svc.cluster.local',
      'outbound|8080||web.shop.svc.cluster.local',
    ]);
    const port = set.routes.find((r) => r.name === '8080')!;
    expect(port.virtualHosts.map((v) => v.name)).toEqual(['ledger.bank.svc.cluster.local:8080', 'allow_any']);
    const web = set.routes.find((r) => r.name === 'outbound|8080||web.shop.svc.cluster.local')!;
    expect(web.virtualHosts.map((v) => v.domains)).toEqual([['*']]);
    // Each chain of the port listener names the config of its ClusterIP's service.
    const listener = set.listeners.find((l) => l.name === '0.0.0.0_8080')!;
    const chains = listener.filterChains.map((c) => {
      const cfg = c.filters[0]?.configType;
      const hcm = cfg?.case === 'typedConfig' ? anyUnpack(cfg.value, HttpConnectionManagerSchema) : undefined;
      const rds = hcm?.routeSpecifier.case === 'rds' ? hcm.routeSpecifier.value.routeConfigName : undefined;
      return [c.filterChainMatch?.prefixRanges[0]?.addressPrefix ?? '(unmatched)', rds];
    });
    expect(chains).toEqual([
      ['10.96.0.1', 'outbound|8080||web.shop.svc.cluster.local'],
      ['10.96.0.2', 'outbound|8080||web-v2.shop.svc.cluster.local'],
      ['10.96.1.1', 'outbound|8080||pay.bank.svc.cluster.local'],
      ['(unmatched)', '8080'],
    ]);
  });

  it('a split flip changes one route config, the same for callers of every namespace', () => {
    for (const ns of ['shop', 'bank']) {
      const before = bytes(translate(mesh({ web: 90, 'web-v2': 10 }), sidecar(ns)).routes);
      const after = bytes(translate(mesh({ web: 0, 'web-v2': 100 }), sidecar(ns)).routes);
      const changed = [...after].filter(([name, b]) => before.get(name) !== b).map(([name]) => name);
      expect(changed).toEqual(['outbound|8080||web.shop.svc.cluster.local']);
    }
    const m = mesh({ web: 90, 'web-v2': 10 });
    const shop = translate(m, sidecar('shop')).routes.find((r) => r.name.startsWith('outbound|'));
    const bank = translate(m, sidecar('bank')).routes.find((r) => r.name.startsWith('outbound|'));
    expect(shop).toBe(bank); // one message: encoded once for the whole mesh
  });
});
