// Nonces are unique per stream and type: content that comes back (X → Y → X) gets a fresh
// nonce, so a late answer to the first X is stale, not taken for an answer to the second.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import { envoyNode } from './support/client.ts';
import { eventually, startHarness, type Harness } from './support/harness.ts';
import { cluster, resourceSet } from './support/resources.ts';

const a = cluster('a.shop');
const b = cluster('b.shop');
const X = resourceSet({ clusters: [a] });
const Y = resourceSet({ clusters: [a, b] });

describe('nonces', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('never re-uses a nonce on a stream when content comes back', async () => {
    h.world.set(X);
    // Another proxy of the same group ACKs X and keeps it (and its encoded response) alive.
    const keeper = h.sotw(envoyNode('keeper'));
    keeper.request(TypeUrl.Cluster);
    keeper.ack(await keeper.next());
    const c = h.sotw(envoyNode('slow'));
    c.request(TypeUrl.Cluster);
    const x1 = await c.next();
    h.world.set(Y);
    const y = await c.next();
    h.world.set(X);
    const x2 = await c.next();
    expect(x2.versionInfo).toBe(x1.versionInfo);
    expect(x2.nonce).not.toBe(x1.nonce);
    expect(x2.nonce).not.toBe(y.nonce);

    // The slow client answers all three in order: only the last answer counts.
    c.nack(x1, 'late rejection of the first X');
    c.ack(y);
    c.ack(x2);
    const slow = async () => debugProxies(await h.server.streams.debug()).find((p) => p.id === 'slow')?.types[TypeUrl.Cluster];
    await eventually(async () => expect((await slow())?.versionAcked).toBe(x2.versionInfo));
    expect((await slow())?.lastNack).toBeUndefined();
  });
});
