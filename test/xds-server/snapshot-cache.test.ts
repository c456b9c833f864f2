// The snapshot cache: one generation per proxy group and model, shared config encoded once
// mesh-wide, content-hash versions, and a failing snapshot never replacing the last good one.
import { create, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { SnapshotCache } from '../../xds/snapshot/cache.ts';
import { hashBytes } from '../../xds/snapshot/hash.ts';
import { metricValue } from './support/harness.ts';
import { cla, cluster, listener, resourceSet, versionOf } from './support/resources.ts';
import { meshModel } from './support/world.ts';

function proxy(id: string, namespace = 'shop', service = 'web'): ProxyInfo {
  return { id, kind: 'sidecar', namespace, service, labels: { app: service }, capture: true };
}

describe('SnapshotCache', () => {
  it('generates once per proxy group and model version', () => {
    let generations = 0;
    const cache = new SnapshotCache({
      generate: () => {
        generations++;
        return resourceSet({ clusters: [cluster('a.shop')] });
      },
      model: meshModel('m1'),
    });
    const snaps = Array.from({ length: 50 }, (_, i) => cache.snapshotFor(proxy(`web-${i}`)));
    expect(generations).toBe(1);
    expect(new Set(snaps).size).toBe(1);
    cache.setModel(meshModel('m1')); // same version: a no-op
    cache.snapshotFor(proxy('web-0'));
    expect(generations).toBe(1);
    cache.setModel(meshModel('m2'));
    for (let i = 0; i < 50; i++) cache.snapshotFor(proxy(`web-${i}`));
    expect(generations).toBe(2);
  });

  it('encodes a message shared by many groups once, and shares equal type maps', async () => {
    const shared = cluster('shared.shop', { connectTimeoutMs: 1234 });
    const cache = new SnapshotCache({
      generate: (_m, p) => resourceSet({ clusters: [shared], listeners: [listener(`in-${p.service ?? ''}`, 15006, 'r')] }),
      model: meshModel('m1'),
    });
    const before = await metricValue('weft_xds_resources_encoded_total');
    const snaps = ['web', 'cart', 'pay'].map((s) => cache.snapshotFor(proxy(`${s}-1`, 'shop', s))!);
    expect(await metricValue('weft_xds_resources_encoded_total')).toBe(before + 1 + 3);
    expect(snaps[0]!.resources.get(TypeUrl.Cluster)).toBe(snaps[1]!.resources.get(TypeUrl.Cluster));
    expect(snaps[0]!.resources.get(TypeUrl.Listener)).not.toBe(snaps[1]!.resources.get(TypeUrl.Listener));
    const encoded = snaps[2]!.resources.get(TypeUrl.Cluster)!.get('shared.shop')!;
    expect(encoded).toEqual({
      name: 'shared.shop',
      typeUrl: TypeUrl.Cluster,
      bytes: toBinary(ClusterSchema, shared),
      version: hashBytes(toBinary(ClusterSchema, shared)),
    });
  });

  it('versions by content: equal resources give equal versions whatever the model version', () => {
    const sets = new Map([
      ['m1', resourceSet({ clusters: [cluster('a.shop')], endpoints: [cla('a.shop', '10.0.0.1')] })],
      ['m2', resourceSet({ clusters: [cluster('a.shop')], endpoints: [cla('a.shop', '10.0.0.1')] })],
      ['m3', resourceSet({ clusters: [cluster('a.shop')], endpoints: [cla('a.shop', '10.0.0.2')] })],
    ]);
    const cache = new SnapshotCache({ generate: (m) => sets.get(m.version)!, model: meshModel('m1') });
    const s1 = cache.snapshotFor(proxy('p'))!;
    cache.setModel(meshModel('m2'));
    const s2 = cache.snapshotFor(proxy('p'))!;
    cache.setModel(meshModel('m3'));
    const s3 = cache.snapshotFor(proxy('p'))!;
    expect(s2.version).toBe(s1.version);
    expect(s3.version).not.toBe(s1.version);
    expect(s3.typeVersions.get(TypeUrl.Cluster)).toBe(s1.typeVersions.get(TypeUrl.Cluster));
    expect(s3.typeVersions.get(TypeUrl.Endpoint)).toBe(versionOf(cla('a.shop', '10.0.0.2')));
    expect(s3.edsNames).toEqual(new Map([['a.shop', 'a.shop']]));
  });

  it('keeps serving the last good snapshot when a new one fails its check or its generator', async () => {
    const good = resourceSet({ clusters: [cluster('a.shop')] });
    const cache = new SnapshotCache({
      generate: (m) => {
        if (m.version === 'throws') throw new Error('boom');
        if (m.version === 'dupes') return resourceSet({ clusters: [cluster('a.shop'), cluster('a.shop', { connectTimeoutMs: 5 })] });
        return m.version === 'bad' ? resourceSet({ clusters: [cluster('b.shop')] }) : good;
      },
      checkConsistency: (set) => (set.clusters.some((c) => c.name === 'b.shop') ? ['cluster b.shop: EDS name has no ClusterLoadAssignment'] : []),
      model: meshModel('good'),
    });
    const p = proxy('p');
    const last = cache.snapshotFor(p)!;
    for (const [version, reason, problem] of [
      ['bad', 'inconsistent', 'cluster b.shop: EDS name has no ClusterLoadAssignment'],
      ['throws', 'generate_failed', 'generator threw: boom'],
      ['dupes', 'inconsistent', `${TypeUrl.Cluster}: duplicate resource name "a.shop"`],
    ] as const) {
      const before = await metricValue('weft_xds_snapshot_rejected_total', { reason });
      cache.setModel(meshModel(version));
      expect(cache.snapshotFor(p)).toBe(last);
      expect(await metricValue('weft_xds_snapshot_rejected_total', { reason })).toBe(before + 1);
      expect(cache.groups()).toEqual([expect.objectContaining({ problems: [problem], snapshotVersion: last.version, modelVersion: 'good' })]);
    }
    cache.setModel(meshModel('good-again'));
    expect(cache.snapshotFor(p)).toMatchObject({ version: last.version, modelVersion: 'good-again' });
    expect(cache.groups()[0]!.problems).toEqual([]);
  });

  it('notifies watchers on model changes until cancelled', () => {
    const cache = new SnapshotCache({ generate: () => resourceSet({ clusters: [create(ClusterSchema, { name: 'x' })] }) });
    let calls = 0;
    const w = cache.watch(proxy('p'), () => calls++);
    expect(w.snapshot()).toBeUndefined(); // no model yet
    cache.setModel(meshModel('m1'));
    cache.setModel(meshModel('m1'));
    expect(calls).toBe(1);
    expect(w.snapshot()?.modelVersion).toBe('m1');
    w.cancel();
    cache.setModel(meshModel('m2'));
    expect(calls).toBe(1);
  });
});

describe('SnapshotCache group lifetime', () => {
  it('drops groups nobody watched for idleGroupTtlMs at the next model change', () => {
    let generations = 0;
    const cache = new SnapshotCache({
      generate: () => {
        generations++;
        return resourceSet();
      },
      model: meshModel('m1'),
      idleGroupTtlMs: 0,
    });
    const w = cache.watch(proxy('kept', 'shop', 'kept'), () => {});
    w.snapshot();
    cache.snapshotFor(proxy('gone', 'shop', 'gone'));
    cache.setModel(meshModel('m2'));
    expect(cache.groups().map((g) => g.group)).toEqual([expect.stringContaining('|kept|')]);
    w.cancel();
    cache.setModel(meshModel('m3'));
    expect(cache.groups()).toEqual([]);
    expect(generations).toBe(2);
  });
});
