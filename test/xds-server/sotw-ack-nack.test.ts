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

function cdsState(h: Harness) {
  return debugProxies(h.server.ads)[0]?.types[TypeUrl.Cluster];
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
    expect(cdsState(h)).toEqual({
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
    await eventually(() => expect(cdsState(h)?.versionAcked).toBe(next.versionInfo));
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
    expect(cdsState(h)).toEqual({ versionSent: second.versionInfo, versionAcked: '', subscribed: '*' });

    c.ack(second);
    await eventually(() => expect(cdsState(h)?.versionAcked).toBe(second.versionInfo));
  });
});
