// SotW subscriptions: wildcard vs named, names that do not exist yet, full state for
// LDS/CDS versus only-what-changed for EDS/RDS, and re-subscribing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { sotwJson } from './support/client.ts';
import { sotwResponse, startHarness, type Harness } from './support/harness.ts';
import { cla, cluster, listener, resourceSet, route, versionOf } from './support/resources.ts';

const a = cluster('a.shop');
const b = cluster('b.shop');
const c = cluster('c.shop');
const claA = cla('a.shop', '10.0.0.1');
const claB = cla('b.shop', '10.0.0.2');

describe('SotW subscriptions', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [a, b], endpoints: [claA, claB] }));
  });
  afterEach(() => h.close());

  it('gives a wildcard subscription everything and a named one only its names', async () => {
    const wild = h.sotw();
    const named = h.sotw();
    const both = h.sotw();
    wild.request(TypeUrl.Cluster);
    named.request(TypeUrl.Cluster, ['b.shop', 'missing.shop']);
    both.request(TypeUrl.Cluster, ['*', 'b.shop']);
    const [w, n, x] = await Promise.all([wild.next(), named.next(), both.next()]);
    expect(sotwJson(w)).toEqual(sotwResponse(TypeUrl.Cluster, [a, b]));
    expect(sotwJson(n)).toEqual(sotwResponse(TypeUrl.Cluster, [b]));
    expect(sotwJson(x)).toEqual(sotwResponse(TypeUrl.Cluster, [a, b]));
    for (const [client, res] of [
      [wild, w],
      [named, n],
      [both, x],
    ] as const)
      client.ack(res);

    // A new cluster reaches wildcard subscribers only.
    h.world.set(resourceSet({ clusters: [a, b, c], endpoints: [claA, claB] }));
    expect(sotwJson(await wild.next())).toEqual(sotwResponse(TypeUrl.Cluster, [a, b, c]));
    expect(sotwJson(await both.next())).toEqual(sotwResponse(TypeUrl.Cluster, [a, b, c]));
    await named.silence();
  });

  it('remembers a requested name that does not exist yet and sends it when it appears', async () => {
    const client = h.sotw();
    client.request(TypeUrl.Endpoint, ['a.shop', 'later.shop']);
    const first = await client.next();
    expect(sotwJson(first)).toEqual(sotwResponse(TypeUrl.Endpoint, [claA]));
    client.ack(first);

    const claLater = cla('later.shop', '10.0.0.7');
    h.world.set(resourceSet({ clusters: [a, b], endpoints: [claA, claB, claLater] }));
    // Only the new resource; the version covers everything the subscription now holds.
    expect(sotwJson(await client.next())).toEqual(sotwResponse(TypeUrl.Endpoint, [claLater], versionOf(claA, claLater)));
  });

  it('sends the full state for LDS and CDS but only changed resources for EDS and RDS', async () => {
    const l80 = listener('outbound-80', 80, 'route-80');
    const l81 = listener('outbound-81', 81, 'route-81');
    const r80 = route('route-80', 'a.shop');
    const r81 = route('route-81', 'b.shop');
    h.world.set(resourceSet({ clusters: [a, b], endpoints: [claA, claB], listeners: [l80, l81], routes: [r80, r81] }));
    const client = h.sotw();
    for (const [type, names] of [
      [TypeUrl.Cluster, []],
      [TypeUrl.Endpoint, ['a.shop', 'b.shop']],
      [TypeUrl.Listener, []],
      [TypeUrl.Route, ['route-80', 'route-81']],
    ] as const) {
      client.request(type, [...names]);
      client.ack(await client.next());
    }

    const b2 = cluster('b.shop', { connectTimeoutMs: 3000 });
    const claA2 = cla('a.shop', '10.0.0.1', '10.0.0.11');
    const l81b = listener('outbound-81', 8081, 'route-81');
    const r80b = route('route-80', 'a.shop', 'b.shop');
    h.world.set(resourceSet({ clusters: [a, b2], endpoints: [claA2, claB], listeners: [l80, l81b], routes: [r80b, r81] }));
    expect(sotwJson(await client.next())).toEqual(sotwResponse(TypeUrl.Cluster, [a, b2]));
    // EDS: the changed CLA, plus b's CLA because cluster b changed (Envoy re-warms it).
    expect(sotwJson(await client.next())).toEqual(sotwResponse(TypeUrl.Endpoint, [claA2, claB], versionOf(claA2, claB)));
    expect(sotwJson(await client.next())).toEqual(sotwResponse(TypeUrl.Listener, [l80, l81b]));
    expect(sotwJson(await client.next())).toEqual(sotwResponse(TypeUrl.Route, [r80b], versionOf(r80b, r81)));
    await client.silence();
  });

  it('resends a resource when it is requested again after being dropped from the names', async () => {
    const client = h.sotw();
    client.request(TypeUrl.Endpoint, ['a.shop', 'b.shop']);
    const both = await client.next();
    client.ack(both);
    client.request(TypeUrl.Endpoint, ['a.shop'], both.nonce);
    await client.silence();
    client.request(TypeUrl.Endpoint, ['a.shop', 'b.shop'], both.nonce);
    expect(sotwJson(await client.next())).toEqual(sotwResponse(TypeUrl.Endpoint, [claB], versionOf(claA, claB)));
  });

  it('answers a repeated initial request again, under a new nonce', async () => {
    const client = h.sotw();
    client.request(TypeUrl.Cluster);
    const first = await client.next();
    client.ack(first);
    client.request(TypeUrl.Cluster); // empty nonce: the client starts over for this type
    const again = await client.next();
    expect(sotwJson(again)).toEqual(sotwResponse(TypeUrl.Cluster, [a, b]));
    expect(again.nonce).not.toBe(first.nonce);
  });
});
