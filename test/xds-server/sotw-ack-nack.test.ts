// SotW ACK/NACK: a NACK is logged and counted, the proxy keeps its last good config, the
// same content is never pushed again (no loop), and only new content is; answers to a
// superseded nonce are ignored.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import { sotwJson } from './support/client.ts';
import { eventually, metricValue, sotwResponse, startHarness, type Harness } from './support/harness.ts';
import { cla, cluster, resourceSet } from './support/resources.ts';

const a = cluster('a.shop');
const bad = cluster('bad.shop', { connectTimeoutMs: 1 });
const fixed = cluster('bad.shop', { connectTimeoutMs: 2000 });

async function cdsState(h: Harness) {
  return debugProxies(await h.server.streams.debug())[0]?.types[TypeUrl.Cluster];
}

describe('SotW ACK/NACK', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('counts a NACK, keeps the last good version, does not re-push it, and pushes the next new version', async () => {
    h.world.set(resourceSet({ clusters: [a] }));
    const c = h.sotw();
    c.request(TypeUrl.Cluster);
    const good = await c.next();
    c.ack(good);

    const nacksBefore = await metricValue('weft_xds_nacks_total', { type: 'cds' });
    h.world.set(resourceSet({ clusters: [a, bad] }));
    const rejected = await c.next();
    expect(sotwJson(rejected)).toEqual(sotwResponse(TypeUrl.Cluster, [a, bad]));
    c.nack(rejected, 'cluster bad.shop: connect_timeout too small');

    await eventually(async () => expect(await metricValue('weft_xds_nacks_total', { type: 'cds' })).toBe(nacksBefore + 1));
    expect(await cdsState(h)).toEqual({
      versionSent: rejected.versionInfo,
      versionAcked: good.versionInfo,
      subscribed: '*',
      lastNack: { nonce: rejected.nonce, version: rejected.versionInfo, message: 'cluster bad.shop: connect_timeout too small', at: expect.any(String) },
    });
    // A new model whose CDS content is the same NACKed content: nothing to push.
    h.world.set(resourceSet({ clusters: [a, bad], endpoints: [cla('a.shop', '10.0.0.9')] }));
    await c.silence(300);

    h.world.set(resourceSet({ clusters: [a, fixed] }));
    const next = await c.next();
    expect(sotwJson(next)).toEqual(sotwResponse(TypeUrl.Cluster, [a, fixed]));
    c.ack(next);
    await eventually(async () => expect((await cdsState(h))?.versionAcked).toBe(next.versionInfo));
  });

  it('ignores requests answering a superseded nonce', async () => {
    h.world.set(resourceSet({ clusters: [a], endpoints: [cla('a.shop', '10.0.0.1')] }));
    const c = h.sotw();
    c.request(TypeUrl.Cluster);
    const first = await c.next();
    h.world.set(resourceSet({ clusters: [a, fixed], endpoints: [cla('a.shop', '10.0.0.1')] }));
    const second = await c.next();

    const nacksBefore = await metricValue('weft_xds_nacks_total', { type: 'cds' });
    // A late NACK of the first response, and a late subscription change carrying its nonce.
    c.nack(first, 'late rejection of a superseded response');
    c.send({ typeUrl: TypeUrl.Cluster, resourceNames: ['a.shop'], responseNonce: first.nonce });
    await c.silence();
    expect(await metricValue('weft_xds_nacks_total', { type: 'cds' })).toBe(nacksBefore);
    expect(await cdsState(h)).toEqual({ versionSent: second.versionInfo, versionAcked: '', subscribed: '*' });

    c.ack(second);
    await eventually(async () => expect((await cdsState(h))?.versionAcked).toBe(second.versionInfo));
  });

  it('after a NACK, brings the client from its last ACKed config, not from the rejected one', async () => {
    const claA = cla('a.shop', '10.0.0.1');
    const claB = cla('b.shop', '10.0.0.2');
    h.world.set(resourceSet({ clusters: [a], endpoints: [claA, claB] }));
    const c = h.sotw();
    c.request(TypeUrl.Cluster);
    c.ack(await c.next());
    c.request(TypeUrl.Endpoint, ['a.shop', 'b.shop']);
    c.ack(await c.next());

    // Cluster a changes alongside a bad one; the CLAs change too. The client rejects both.
    const a2 = cluster('a.shop', { connectTimeoutMs: 4000 });
    const claA2 = cla('a.shop', '10.0.0.11');
    const claBad = cla('b.shop', '10.0.0.2', '10.0.0.2');
    h.world.set(resourceSet({ clusters: [a2, bad], endpoints: [claA2, claBad] }));
    c.nack(await c.next(), 'cluster bad.shop rejected');
    c.nack(await c.next(), 'duplicate endpoint in b.shop');

    // Fixed: CDS is full state anyway; EDS must carry a's CLA again (the client never took it,
    // and cluster a changes for it now, so it warms and waits for its CLA).
    const claB2 = cla('b.shop', '10.0.0.3');
    h.world.set(resourceSet({ clusters: [a2], endpoints: [claA2, claB2] }));
    expect(sotwJson(await c.next())).toEqual(sotwResponse(TypeUrl.Cluster, [a2]));
    expect(sotwJson(await c.next())).toEqual(sotwResponse(TypeUrl.Endpoint, [claA2, claB2]));
    await c.silence();
  });
});
