// One push may send two responses of a type (Delta: additions, then removals). A NACK of the
// first is a NACK, even though the second's nonce is the latest: counted, logged, recorded.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import { deltaJson } from './support/client.ts';
import { deltaResponse, eventually, metricValue, startHarness, type Harness } from './support/harness.ts';
import { cluster, resourceSet, versionOf } from './support/resources.ts';

const a = cluster('a.shop');
const b = cluster('b.shop');
const n = cluster('n.shop', { connectTimeoutMs: 1 });

describe('NACK of the first of two responses', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [a, b] }));
  });
  afterEach(() => h.close());

  it('Delta: counts and records a NACK of the additions when the removals follow', async () => {
    const c = h.delta();
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    const nacksBefore = await metricValue('weft_xds_nacks_total', { type: 'cds' });

    h.world.set(resourceSet({ clusters: [a, n] }));
    const added = await c.next();
    expect(deltaJson(added)).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, n), [n]));
    const removed = await c.next();
    expect(deltaJson(removed)).toEqual(deltaResponse(TypeUrl.Cluster, versionOf(a, n), [], ['b.shop']));
    c.nack(added, 'n.shop: connect_timeout too small');
    c.ack(removed);

    await eventually(async () => expect(await metricValue('weft_xds_nacks_total', { type: 'cds' })).toBe(nacksBefore + 1));
    expect(debugProxies(await h.server.streams.debug())[0]?.types[TypeUrl.Cluster]?.lastNack).toEqual({
      nonce: added.nonce,
      version: versionOf(a, n),
      message: 'n.shop: connect_timeout too small',
      at: expect.any(String),
    });
  });
});
