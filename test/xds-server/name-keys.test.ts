// Names are opaque strings: one client's odd names (with the separators memo keys use) must
// not change what another client is subscribed to or sent.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { deltaJson, sotwJson } from './support/client.ts';
import { deltaResponse, sotwResponse, startHarness, type Harness } from './support/harness.ts';
import { cla, cluster, resourceSet, versionOf } from './support/resources.ts';

const claA = cla('a.shop', '10.0.0.1');
const claB = cla('b.shop', '10.0.0.2');

describe('names with separator characters', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [cluster('a.shop'), cluster('b.shop')], endpoints: [claA, claB] }));
  });
  afterEach(() => h.close());

  it('SotW: a subscription to "a\\0b" is not one to "a" and "b"', async () => {
    const odd = h.sotw();
    odd.request(TypeUrl.Endpoint, ['a.shop\u0000b.shop']);
    await odd.silence();
    const c = h.sotw();
    c.request(TypeUrl.Endpoint, ['a.shop', 'b.shop']);
    expect(sotwJson(await c.next())).toEqual(sotwResponse(TypeUrl.Endpoint, [claA, claB]));
  });

  it('Delta: names reported missing are the names asked for', async () => {
    const odd = h.delta();
    odd.send({ typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: ['x.shop\u0000y.shop'] });
    expect(deltaJson(await odd.next())).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(), [], ['x.shop\u0000y.shop']));
    const c = h.delta();
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: ['x.shop', 'y.shop'] });
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Endpoint, versionOf(), [], ['x.shop', 'y.shop']));
  });
});
