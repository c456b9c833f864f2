// Snapshots to xDS worker threads (xds/server/snapshot-wire.ts): what a worker rebuilds equals
// what the primary holds, a change carries only changed resources, and a worker that no
// longer holds the base a change refers to asks for the whole snapshot instead of guessing.
import { describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { decodeSnapshot, encodeSnapshot } from '../../xds/server/snapshot-wire.ts';
import type { CachedSnapshot, EncodedResource } from '../../xds/snapshot/types.ts';

function res(typeUrl: TypeUrl, name: string, version: string): EncodedResource {
  return { name, typeUrl, version, bytes: new TextEncoder().encode(`${name}@${version}`) };
}

function snap(version: string, clusters: EncodedResource[], routes: EncodedResource[]): CachedSnapshot {
  const byName = (rs: EncodedResource[]) => new Map(rs.map((r) => [r.name, r]));
  return {
    version,
    modelVersion: `m-${version}`,
    resources: new Map([
      [TypeUrl.Cluster, byName(clusters)],
      [TypeUrl.Route, byName(routes)],
    ]),
    typeVersions: new Map([
      [TypeUrl.Cluster, `c-${clusters.map((r) => r.version).join('.')}`],
      [TypeUrl.Route, `r-${routes.map((r) => r.version).join('.')}`],
    ]),
    edsNames: new Map([['a', 'a']]),
  };
}

const plain = (s: CachedSnapshot | undefined) =>
  s && { ...s, resources: [...s.resources].map(([t, m]) => [t, [...m.values()].map((r) => ({ ...r, bytes: Buffer.from(r.bytes).toString() }))]) };

describe('snapshots to worker threads', () => {
  const a1 = res(TypeUrl.Cluster, 'a', '1');
  const b1 = res(TypeUrl.Cluster, 'b', '1');
  const r1 = res(TypeUrl.Route, 'r', '1');
  const first = snap('s1', [a1, b1], [r1]);
  const second = { ...snap('s2', [a1, res(TypeUrl.Cluster, 'b', '2')], [r1]) };
  (second.resources as Map<TypeUrl, unknown>).set(TypeUrl.Route, first.resources.get(TypeUrl.Route));

  it('rebuilds a whole snapshot, then a change from only what changed', () => {
    const w1 = encodeSnapshot('g', first, undefined);
    expect(w1.full).toBe(true);
    const got1 = decodeSnapshot(w1, undefined);
    expect(plain(got1)).toEqual(plain(first));

    const w2 = encodeSnapshot('g', second, first);
    expect(w2.full).toBe(false);
    expect(w2.types.find((t) => t.typeUrl === TypeUrl.Route)?.names).toBeUndefined(); // the same map: not sent
    expect(w2.types.find((t) => t.typeUrl === TypeUrl.Cluster)?.changed?.map((c) => c[0])).toEqual([1]); // b only
    expect(w2.packed.byteLength).toBe('b@2'.length);
    const got2 = decodeSnapshot(w2, got1);
    expect(plain(got2)).toEqual(plain(second));
    expect(got2?.resources.get(TypeUrl.Route)).toBe(got1?.resources.get(TypeUrl.Route)); // shared, as in the primary
    expect(got2?.resources.get(TypeUrl.Cluster)?.get('a')).toBe(got1?.resources.get(TypeUrl.Cluster)?.get('a'));
  });

  it('asks for the whole snapshot when it does not hold the base of a change', () => {
    const w2 = encodeSnapshot('g2', second, first);
    expect(decodeSnapshot(w2, undefined)).toBeUndefined();
  });
});
