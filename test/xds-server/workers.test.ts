// xDS worker threads (xds/server/workers.ts): streams on several connections land on different
// workers, each worker gets its groups' snapshots from the primary and pushes changes, the
// primary admits proxies, and the primary's views (connected, debug, metrics) sum the workers.
// The protocol suites run through workers too: WEFT_TEST_XDS_WORKERS=2 npx vitest run test/xds-server.
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import { DeltaClient, envoyNode, newGrpcClient, SotwClient, sotwJson } from './support/client.ts';
import { eventually, metricValue, sotwResponse, startHarness, type Harness } from './support/harness.ts';
import { cluster, resourceSet } from './support/resources.ts';

const a = cluster('a.shop');
const b = cluster('b.shop');

describe('xDS worker threads', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('serves SotW and Delta streams on many connections, pushes changes, and sums the workers in the primary', async () => {
    h = await startHarness({
      workers: 2,
      authenticate: (call, node) =>
        call.metadata.get('authorization').length > 0
          ? { ok: false, reason: 'no tokens here' }
          : { ok: true, identity: `spiffe://cluster.local/ns/shop/sa/${node.id}` },
    });
    h.world.set(resourceSet({ clusters: [a] }));
    const acksBefore = await metricValue('weft_xds_acks_total', { type: 'cds' });
    // Eight connections: with SO_REUSEPORT both workers get some (the kernel hashes the ports).
    const connections = Array.from({ length: 8 }, () => newGrpcClient(h.server.port));
    const sotw = connections.slice(0, 4).map((c, i) => new SotwClient(c, envoyNode(`sotw-${i}`)));
    const delta = connections.slice(4).map((c, i) => new DeltaClient(c, envoyNode(`delta-${i}`)));
    try {
      for (const c of sotw) c.request(TypeUrl.Cluster);
      for (const c of delta) c.send({ typeUrl: TypeUrl.Cluster, resourceNamesSubscribe: ['*'] });
      for (const c of sotw) {
        const r = await c.next(10_000);
        expect(sotwJson(r)).toEqual(sotwResponse(TypeUrl.Cluster, [a]));
        c.ack(r);
      }
      for (const c of delta) {
        const r = await c.next(10_000);
        expect(r.resources.map((x) => x.name)).toEqual(['a.shop']);
        c.ack(r);
      }
      await eventually(() => expect(h.server.streams.connected).toBe(8), 5000);
      const proxies = debugProxies(await h.server.streams.debug());
      expect(proxies.map((p) => p.id).sort()).toEqual([...sotw.map((_, i) => `sotw-${i}`), ...delta.map((_, i) => `delta-${i}`)].sort());
      expect(proxies.every((p) => p.identity === `spiffe://cluster.local/ns/shop/sa/${p.id}`)).toBe(true); // admitted by the primary
      await eventually(async () => expect(await metricValue('weft_xds_acks_total', { type: 'cds' })).toBe(acksBefore + 8), 5000);

      h.world.set(resourceSet({ clusters: [a, b] })); // a change: every stream is pushed the delta
      for (const c of sotw) expect(sotwJson(await c.next(10_000))).toEqual(sotwResponse(TypeUrl.Cluster, [a, b]));
      for (const c of delta) expect((await c.next(10_000)).resources.map((x) => x.name)).toEqual(['b.shop']);
    } finally {
      for (const c of [...sotw, ...delta]) c.close();
      for (const c of connections) c.close();
    }
  });

  it('refuses what the primary refuses, with its reason', async () => {
    h = await startHarness({ workers: 1, authenticate: () => ({ ok: false, reason: 'token missing or invalid' }) });
    h.world.set(resourceSet({ clusters: [a] }));
    const denied = h.sotw();
    denied.request(TypeUrl.Cluster);
    expect(await denied.status).toMatchObject({ code: status.UNAUTHENTICATED, details: 'token missing or invalid' });
  });
});
