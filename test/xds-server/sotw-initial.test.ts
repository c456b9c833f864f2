// SotW: an Envoy-like client's initial CDS → EDS → LDS → RDS exchange gets exactly the
// snapshot's resources, and its ACKs show up in the debug view.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import { envoyNode, sotwJson as sotwJsonOf } from './support/client.ts';
import { eventually, sotwResponse, startHarness, type Harness } from './support/harness.ts';
import { cla, cluster, listener, resourceSet, route } from './support/resources.ts';

const a = cluster('a.shop');
const b = cluster('b.shop');
const claA = cla('a.shop', '10.0.0.1');
const claB = cla('b.shop', '10.0.0.2', '10.0.0.3');
const l80 = listener('outbound-80', 80, 'route-80');
const r80 = route('route-80', 'a.shop', 'b.shop');

describe('SotW initial exchange', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [a, b], endpoints: [claA, claB], listeners: [l80], routes: [r80] }));
  });
  afterEach(() => h.close());

  it('answers CDS, EDS, LDS and RDS with the whole snapshot for the subscription', async () => {
    const c = h.sotw();
    c.request(TypeUrl.Cluster);
    const cds = await c.next();
    expect(cds).toMatchObject({ typeUrl: TypeUrl.Cluster });
    expect(sotwJsonOf(cds)).toEqual(sotwResponse(TypeUrl.Cluster, [a, b]));
    c.ack(cds);

    c.request(TypeUrl.Endpoint, ['a.shop', 'b.shop'], cds.nonce);
    const eds = await c.next();
    expect(sotwJsonOf(eds)).toEqual(sotwResponse(TypeUrl.Endpoint, [claA, claB]));
    c.ack(eds);

    c.request(TypeUrl.Listener);
    const lds = await c.next();
    expect(sotwJsonOf(lds)).toEqual(sotwResponse(TypeUrl.Listener, [l80]));
    c.ack(lds);

    c.request(TypeUrl.Route, ['route-80']);
    const rds = await c.next();
    expect(sotwJsonOf(rds)).toEqual(sotwResponse(TypeUrl.Route, [r80]));
    c.ack(rds);
    await c.silence();
  });

  it('records ACKed versions per type in the debug view', async () => {
    const c = h.sotw(envoyNode('web-7f9c', { WEFT_SERVICE: 'web', WEFT_LABELS: { app: 'web' } }));
    c.request(TypeUrl.Cluster);
    const cds = await c.next();
    c.request(TypeUrl.Listener);
    const lds = await c.next();
    c.ack(cds);
    const view = await eventually(async () => {
      const [p] = debugProxies(await h.server.streams.debug());
      expect(p?.types[TypeUrl.Cluster]?.versionAcked).toBe(cds.versionInfo);
      return p!;
    });
    expect(view).toEqual({
      id: 'web-7f9c',
      stream: expect.any(String),
      protocol: 'sotw',
      kind: 'sidecar',
      namespace: 'shop',
      service: 'web',
      group: expect.stringContaining('shop|web'),
      connectedSince: expect.any(String),
      snapshotVersion: expect.any(String),
      types: {
        [TypeUrl.Cluster]: { versionSent: cds.versionInfo, versionAcked: cds.versionInfo, subscribed: '*' },
        // Sent, not yet ACKed.
        [TypeUrl.Listener]: { versionSent: lds.versionInfo, versionAcked: '', subscribed: '*' },
      },
    });
  });

  it('waits for a model: a request before any snapshot is answered by the first push', async () => {
    const empty = await startHarness();
    try {
      const c = empty.sotw();
      c.request(TypeUrl.Cluster);
      await c.silence(100);
      empty.world.set(resourceSet({ clusters: [a] }));
      expect(sotwJsonOf(await c.next())).toEqual(sotwResponse(TypeUrl.Cluster, [a]));
    } finally {
      await empty.close();
    }
  });
});
