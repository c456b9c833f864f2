// Delta wildcard mixed with names: leaving `*` drops what only `*` brought (the client
// forgets it, as for a named unsubscribe), and subscribing to `*` again brings it back.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { deltaJson } from './support/client.ts';
import { deltaResponse, startHarness, type Harness } from './support/harness.ts';
import { cluster, resourceSet, versionOf } from './support/resources.ts';

const a = cluster('a.shop');
const b = cluster('b.shop');

describe('Delta wildcard and names', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [a, b] }));
  });
  afterEach(() => h.close());

  it('resends what only the wildcard brought when `*` is subscribed again', async () => {
    const c = h.delta();
    c.send({ typeUrl: TypeUrl.Cluster, resourceNamesSubscribe: ['a.shop'] });
    const first = await c.next();
    expect(deltaJson(first)).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a), [a]));
    c.ack(first);
    c.send({ typeUrl: TypeUrl.Cluster, resourceNamesSubscribe: ['*'] });
    const wild = await c.next();
    expect(deltaJson(wild)).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, b), [b]));
    c.ack(wild);

    c.send({ typeUrl: TypeUrl.Cluster, resourceNamesUnsubscribe: ['*'] });
    await c.silence();
    c.send({ typeUrl: TypeUrl.Cluster, resourceNamesSubscribe: ['*'] });
    expect(deltaJson(await c.next())).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, b), [b]));
    await c.silence();
  });
});
