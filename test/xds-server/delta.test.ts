// Delta (incremental) ADS: initial state, initial_resource_versions, subscribe/unsubscribe,
// removals in removed_resources after additions, NACK without re-push.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import { deltaJson } from './support/client.ts';
import { deltaResponse, eventually, metricValue, startHarness, type Harness } from './support/harness.ts';
import { cla, cluster, resourceSet, resourceVersion, versionOf } from './support/resources.ts';

const a = cluster('a.shop');
const b = cluster('b.shop');
const claA = cla('a.shop', '10.0.0.1');
const claB = cla('b.shop', '10.0.0.2');

describe('Delta ADS', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [a, b], endpoints: [claA, claB] }));
  });
  afterEach(() => h.close());

  it('answers a wildcard CDS and a named EDS subscription, reporting names that do not exist', async () => {
    const c = h.delta();
    c.send({ typeUrl: TypeUrl.Cluster });
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, b), [a, b]));
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: ['a.shop', 'later.shop'] });
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(claA), [claA]));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(claA), [], ['later.shop']));
    await c.silence();

    const claLater = cla('later.shop', '10.0.0.5');
    h.world.set(resourceSet({ clusters: [a, b], endpoints: [claA, claB, claLater] }));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(claA, claLater), [claLater]));
  });

  it('does not resend what initial_resource_versions says the client has', async () => {
    const c = h.delta();
    c.send({
      typeUrl: TypeUrl.Cluster,
      initialResourceVersions: { 'a.shop': resourceVersion(a), 'b.shop': 'stale', 'gone.shop': 'x' },
    });
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, b), [b]));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, b), [], ['gone.shop']));

    // Fully up to date: an empty answer completes the client's initial fetch.
    const upToDate = h.delta();
    upToDate.send({ typeUrl: TypeUrl.Cluster, initialResourceVersions: { 'a.shop': resourceVersion(a), 'b.shop': resourceVersion(b) } });
    expect(deltaJson(await upToDate.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, b), []));
    await upToDate.silence();
  });

  it('stops sending a resource once unsubscribed', async () => {
    const c = h.delta();
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: ['a.shop', 'b.shop'] });
    const first = await c.next();
    expect(deltaJson(first)).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(claA, claB), [claA, claB]));
    c.ack(first);
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNamesUnsubscribe: ['b.shop'] });
    await c.silence();

    const claA2 = cla('a.shop', '10.0.0.1', '10.0.0.11');
    h.world.set(resourceSet({ clusters: [a, b], endpoints: [claA2, cla('b.shop', '10.0.0.9')] }));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(claA2), [claA2]));
    await c.silence();

    // Subscribing again resends it even though the client once had it.
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: ['b.shop'] });
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(claA2, cla('b.shop', '10.0.0.9')), [cla('b.shop', '10.0.0.9')]));
  });

  it('reports deletions in removed_resources, after the additions', async () => {
    const c = h.delta();
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    const n = cluster('n.shop');
    h.world.set(resourceSet({ clusters: [a, n], endpoints: [claA] }));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, n), [n]));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, n), [], ['b.shop']));
    await c.silence();
  });

  it('resends the CLA of a changed cluster', async () => {
    const c = h.delta();
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: ['a.shop', 'b.shop'] });
    c.ack(await c.next());
    const a2 = cluster('a.shop', { connectTimeoutMs: 4000 });
    h.world.set(resourceSet({ clusters: [a2, b], endpoints: [claA, claB] }));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a2, b), [a2]));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(claA, claB), [claA]));
    await c.silence();
  });

  it('counts a NACK, does not re-push the rejected content, pushes new content', async () => {
    const c = h.delta();
    c.send({ typeUrl: TypeUrl.Cluster });
    const good = await c.next();
    c.ack(good);
    const nacksBefore = await metricValue('weft_xds_nacks_total', { type: 'cds' });
    const bad = cluster('b.shop', { connectTimeoutMs: 1 });
    h.world.set(resourceSet({ clusters: [a, bad], endpoints: [claA, claB] }));
    const rejected = await c.next();
    c.nack(rejected, 'b.shop: invalid');
    await eventually(async () => expect(await metricValue('weft_xds_nacks_total', { type: 'cds' })).toBe(nacksBefore + 1));
    h.world.set(resourceSet({ clusters: [a, bad], endpoints: [claA] }));
    await c.silence();
    expect(debugProxies(await h.server.streams.debug())[0]?.types[TypeUrl.Cluster]).toEqual({
      versionSent: versionOf(a, bad),
      versionAcked: versionOf(a, b),
      subscribed: '*',
      lastNack: { nonce: rejected.nonce, version: versionOf(a, bad), message: 'b.shop: invalid', at: expect.any(String) },
    });

    const fixed = cluster('b.shop', { connectTimeoutMs: 2500 });
    h.world.set(resourceSet({ clusters: [a, fixed], endpoints: [claA, claB] }));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, fixed), [fixed]));
  });
});
