// A NACK's error message is client text as long as a request may be (64 MiB): the stream
// keeps and logs a bounded prefix, not the whole of it per type for its lifetime.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import { eventually, startHarness, type Harness } from './support/harness.ts';
import { cluster, resourceSet } from './support/resources.ts';

describe('NACK messages', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [cluster('a.shop')] }));
  });
  afterEach(() => h.close());

  it('records a bounded prefix of a huge error message', async () => {
    const c = h.sotw();
    c.request(TypeUrl.Cluster);
    const res = await c.next();
    c.nack(res, 'x'.repeat(1_000_000));
    const nack = await eventually(async () => {
      const n = debugProxies(await h.server.streams.debug())[0]?.types[TypeUrl.Cluster]?.lastNack;
      expect(n).toBeDefined();
      return n!;
    });
    expect(nack.message.length).toBeLessThan(5000);
    expect(nack.message.startsWith('x'.repeat(4096))).toBe(true);
    expect(nack.message).toContain('more characters');
  });
});
