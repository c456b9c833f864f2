// Translation is a pure function of the model: equal inputs give byte-identical output
// whatever the document order, and proxies that agree on what translation reads share
// the very same message objects (the snapshot cache encodes each object once).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.ts';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { translate } from '../../xds/translate/index.ts';
import type { ResourceSet } from '../../xds/translate/types.ts';
import { explicitProxy, model, proxylessClient, service, sidecar, slice } from './fixtures.ts';
import { loadScenario } from './support.ts';

const root = fileURLToPath(new URL('./golden', import.meta.url));
const scenarios = readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory());

function bytes<D extends DescMessage>(schema: D, list: readonly MessageShape<D>[]): string[] {
  return list.map((m) => Buffer.from(toBinary(schema, m)).toString('base64'));
}

function wire(set: ResourceSet): string[][] {
  return [
    bytes(ClusterSchema, set.clusters),
    bytes(ClusterLoadAssignmentSchema, set.endpoints),
    bytes(ListenerSchema, set.listeners),
    bytes(RouteConfigurationSchema, set.routes),
  ];
}

/** Deterministic shuffle (a fixed LCG): reproducible, yet far from the file order. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('determinism', () => {
  for (const name of scenarios) {
    it(`${name}: same bytes from a rebuilt model and from shuffled documents`, () => {
      const { objects: docs, workloads, proxy } = loadScenario(join(root, name));
      const first = wire(translate(buildModel(docs, { workloads }), proxy));
      expect(wire(translate(buildModel(docs, { workloads }), proxy))).toEqual(first);
      for (const seed of [1, 7, 42]) {
        expect(wire(translate(buildModel(shuffled(docs, seed), { workloads: shuffled(workloads, seed) }), proxy))).toEqual(first);
      }
    });
  }
});

describe('sharing across proxies', () => {
  const m = model(
    service('web', [{ name: 'http', port: 80 }]),
    service('api', [{ name: 'http', port: 8080 }], { ns: 'billing' }),
    slice('web-1', 'web', [{ name: 'http', port: 80 }], [{ ip: '10.244.0.1' }]),
  );

  it('returns the same set for proxies differing only in id, labels or identity (same trust domain, no PeerAuth)', () => {
    const a = translate(m, { ...sidecar('shop', undefined, 'a'), identity: 'spiffe://cluster.local/ns/shop/sa/a' });
    const b = translate(m, { ...sidecar('shop', undefined, 'b'), labels: { app: 'x' }, identity: 'spiffe://cluster.local/ns/shop/sa/x' });
    expect(b).toBe(a);
    expect(translate(m, sidecar('shop', undefined, 'c'))).toBe(translate(m, { ...sidecar('shop', undefined, 'd'), labels: { app: 'y' } }));
  });

  it('shares model-wide clusters and CLAs, and namespace-wide routes, as the same objects', () => {
    const shop = translate(m, sidecar('shop'));
    const fronting = translate(m, sidecar('shop', 'web'));
    const billing = translate(m, sidecar('billing'));
    const grpc = translate(m, proxylessClient('shop'));
    const explicit = translate(m, explicitProxy('shop'));
    const outbound = (set: ResourceSet) => set.clusters.filter((c) => c.name.startsWith('outbound|'));
    for (const other of [fronting, billing]) {
      outbound(other).forEach((c, i) => expect(c).toBe(outbound(shop)[i]));
      other.endpoints.forEach((e, i) => expect(e).toBe(shop.endpoints[i]));
    }
    outbound(grpc).forEach((c, i) => expect(c).toBe(outbound(shop)[i]));
    expect(explicit.endpoints).toBe(shop.endpoints);
    // Same namespace: same route messages, whatever service the proxy fronts.
    fronting.routes.forEach((r, i) => expect(r).toBe(shop.routes[i]));
    // Another namespace sees other short names: its own route messages.
    expect(billing.routes[0]).not.toBe(shop.routes[0]);
  });

  it('a new model with equal config shares its messages: endpoint churn rebuilds only the CLAs', () => {
    const build = (ip: string, port = 80) =>
      model(
        service('web', [{ name: 'http', port }]),
        service('api', [{ name: 'http', port: 8080 }], { ns: 'billing' }),
        slice('web-1', 'web', [{ name: 'http', port }], [{ ip }]),
      );
    const before = translate(m, sidecar('shop', 'web'));
    const same = translate(build('10.244.0.1'), sidecar('shop', 'web'));
    expect(same).not.toBe(before); // another model: another set…
    expect(same.clusters).toBe(before.clusters); // …holding the same config messages
    expect(same.listeners).toBe(before.listeners);
    expect(same.routes).toBe(before.routes);
    expect(wire(same)).toEqual(wire(before));

    const moved = translate(build('10.244.0.9'), sidecar('shop', 'web'));
    expect(moved.clusters).toBe(before.clusters);
    expect(moved.listeners).toBe(before.listeners);
    expect(moved.routes).toBe(before.routes);
    expect(wire(moved)[1]).not.toEqual(wire(before)[1]);
    expect(wire(moved).filter((_, i) => i !== 1)).toEqual(wire(before).filter((_, i) => i !== 1));

    const web = (set: ResourceSet) => set.clusters.find((c) => c.name.includes('web.shop'));
    const reconfigured = translate(build('10.244.0.1', 81), sidecar('shop', 'web'));
    expect(web(reconfigured)).toBeDefined();
    expect(web(reconfigured)).not.toBe(web(before));
  });
});
