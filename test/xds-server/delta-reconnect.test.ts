// A Delta client reconnecting with initial_resource_versions: a cluster that changed while
// it was away is sent, and so is its CLA even though the client's copy is current (Envoy
// re-warms the changed cluster and waits for its endpoints).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { deltaJson } from './support/client.ts';
import { deltaResponse, startHarness, type Harness } from './support/harness.ts';
import { cla, cluster, resourceSet, resourceVersion, versionOf } from './support/resources.ts';

const a = cluster('a.shop');
const a2 = cluster('a.shop', { connectTimeoutMs: 4000 });
const b = cluster('b.shop');
const claA = cla('a.shop', '10.0.0.1');
const claB = cla('b.shop', '10.0.0.2');

describe('Delta reconnect', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [a2, b], endpoints: [claA, claB] }));
  });
  afterEach(() => h.close());

  it('resends the CLA of a cluster that changed while the client was away', async () => {
    const c = h.delta();
    c.send({ typeUrl: TypeUrl.Cluster, initialResourceVersions: { 'a.shop': resourceVersion(a), 'b.shop': resourceVersion(b) } });
    c.send({
      typeUrl: TypeUrl.Endpoint,
      resourceNamesSubscribe: ['a.shop', 'b.shop'],
      initialResourceVersions: { 'a.shop': resourceVersion(claA), 'b.shop': resourceVersion(claB) },
    });
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a2, b), [a2]));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(claA, claB), [claA]));
    await c.silence();
  });

  it('resends it too when the EDS request comes first', async () => {
    const c = h.delta();
    c.send({
      typeUrl: TypeUrl.Endpoint,
      resourceNamesSubscribe: ['a.shop', 'b.shop'],
      initialResourceVersions: { 'a.shop': resourceVersion(claA), 'b.shop': resourceVersion(claB) },
    });
    c.send({ typeUrl: TypeUrl.Cluster, initialResourceVersions: { 'a.shop': resourceVersion(a), 'b.shop': resourceVersion(b) } });
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a2, b), [a2]));
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(claA, claB), [claA]));
    await c.silence();
  });

  it('sends nothing more than the empty wildcard answer when everything is current', async () => {
    const c = h.delta();
    c.send({ typeUrl: TypeUrl.Cluster, initialResourceVersions: { 'a.shop': resourceVersion(a2), 'b.shop': resourceVersion(b) } });
    c.send({
      typeUrl: TypeUrl.Endpoint,
      resourceNamesSubscribe: ['a.shop', 'b.shop'],
      initialResourceVersions: { 'a.shop': resourceVersion(claA), 'b.shop': resourceVersion(claB) },
    });
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a2, b), []));
    await c.silence();
  });
});
