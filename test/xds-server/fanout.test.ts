// Pushing a model change to many proxies of one group costs one generation and encodes
// only the changed resources, however many streams there are (the 10,000-sidecar budget).
import { afterEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { sotwJson, type SotwClient } from './support/client.ts';
import { metricValue, sotwResponse, startHarness, type Harness } from './support/harness.ts';
import { cla, cluster, resourceSet, versionOf } from './support/resources.ts';

const clusters = Array.from({ length: 20 }, (_, i) => cluster(`svc-${i}.shop`));
const clas = clusters.map((c, i) => cla(c.name, `10.0.0.${i}`));

describe('fan-out', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('generates and encodes once per group, not per proxy', async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters, endpoints: clas }));
    const proxies: SotwClient[] = Array.from({ length: 200 }, () => h.sotw());
    await Promise.all(
      proxies.map(async (p) => {
        p.request(TypeUrl.Cluster);
        p.ack(await p.next());
        p.request(
          TypeUrl.Endpoint,
          clusters.map((c) => c.name),
        );
        p.ack(await p.next());
      }),
    );
    expect(h.world.generations).toBe(1);

    const encodesBefore = await metricValue('weft_xds_resources_encoded_total');
    const pushesBefore = await metricValue('weft_xds_pushes_total', { type: 'eds' });
    const changed = cla('svc-7.shop', '10.0.7.1', '10.0.7.2');
    h.world.set(resourceSet({ clusters, endpoints: clas.map((c, i) => (i === 7 ? changed : c)) }));
    const expected = sotwResponse(TypeUrl.Endpoint, [changed], versionOf(...clas.map((c, i) => (i === 7 ? changed : c))));
    for (const p of proxies) expect(sotwJson(await p.next())).toEqual(expected);

    expect(h.world.generations).toBe(2);
    expect(await metricValue('weft_xds_resources_encoded_total')).toBe(encodesBefore + 1);
    expect(await metricValue('weft_xds_pushes_total', { type: 'eds' })).toBe(pushesBefore + 200);
  });
});
