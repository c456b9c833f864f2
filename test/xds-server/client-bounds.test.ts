// Bounds on what one client may make the server hold, each ending only the offending stream
// and counted in weft_xds_limit_exceeded_total{limit}: streams per connection, node size.
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { envoyNode, sotwJson } from './support/client.ts';
import { metricValue, sotwResponse, startHarness, type Harness } from './support/harness.ts';
import { cluster, resourceSet } from './support/resources.ts';

const a = cluster('a.shop');

describe('per-client bounds', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('refuses a stream beyond maxStreamsPerConnection, keeps the others', async () => {
    h = await startHarness({ limits: { maxStreamsPerConnection: 3 } });
    h.world.set(resourceSet({ clusters: [a] }));
    const before = await metricValue('weft_xds_limit_exceeded_total', { limit: 'streams_per_connection' });
    const ok = [h.sotw(), h.sotw(), h.sotw()];
    for (const c of ok) c.request(TypeUrl.Cluster);
    for (const c of ok) expect(sotwJson(await c.next())).toEqual(sotwResponse(TypeUrl.Cluster, [a]));
    const fourth = h.sotw();
    fourth.request(TypeUrl.Cluster);
    expect(await fourth.status).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: 'at most 3 streams per connection' });
    expect(await metricValue('weft_xds_limit_exceeded_total', { limit: 'streams_per_connection' })).toBe(before + 1);
    ok[0]!.close();
    await new Promise((r) => setTimeout(r, 100));
    const fifth = h.sotw(); // a closed stream frees its place
    fifth.request(TypeUrl.Cluster);
    expect(sotwJson(await fifth.next())).toEqual(sotwResponse(TypeUrl.Cluster, [a]));
  });

  it('refuses a node of 200,000 metadata keys (under the 4 MiB message limit), before validating or logging it', async () => {
    h = await startHarness();
    const metadata = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, 'v']));
    const before = await metricValue('weft_xds_limit_exceeded_total', { limit: 'node_size' });
    const c = h.sotw(envoyNode('big', metadata));
    c.request(TypeUrl.Cluster);
    expect(await c.status).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'node: id, cluster and metadata over 65536 characters' });
    expect(await metricValue('weft_xds_limit_exceeded_total', { limit: 'node_size' })).toBe(before + 1);
  });
});
