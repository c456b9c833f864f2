// Encode cost, measured in-process on the pure parts: how long one distinct config (a proxy
// group's snapshot: translate, consistency check, resource encoding, response bodies) takes,
// and what one more proxy of an existing group adds (a cache lookup and a nonce; no
// encoding). Each repetition starts from a freshly built model, so nothing is memoized.
import { pino } from 'pino';
import { buildModel } from '../../src/model/build.ts';
import { proxyFromNode } from '../../xds/resources/node-info.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import { pushOrder } from '../../xds/resources/type-urls.ts';
import { sotwBody, withNonce } from '../../xds/server/responses.ts';
import { SnapshotCache } from '../../xds/snapshot/cache.ts';
import { snapshotMetrics } from '../../xds/snapshot/metrics.ts';
import type { CachedSnapshot } from '../../xds/snapshot/types.ts';
import { checkConsistency, translate } from '../../xds/translate/index.ts';
import { median } from './figures.ts';
import { BenchMesh, namespaceName, serviceName, type MeshShape } from './mesh.ts';
import { sidecarNode } from './sim-proxy.ts';

export interface EncodeCost {
  readonly modelBuildMs: number;
  /** The first group of a new model: includes the config every group shares (outbound clusters, endpoints). */
  readonly firstGroupMs: number;
  readonly firstGroupEncodes: number;
  /** One more distinct group (other namespace and service): its own routes and inbound config, and the bodies that differ. */
  readonly nextGroupMs: number;
  readonly nextGroupEncodes: number;
  /** Every group of the mesh (namespaces × services), from a fresh model. */
  readonly allGroupsMs: number;
  readonly groups: number;
  /** One more proxy of an existing group: snapshot lookup plus nonce-stamping its four responses. */
  readonly sharingProxyUs: number;
  readonly sharingProxyEncodes: number;
  readonly snapshotBytes: number;
  readonly resources: number;
}

function proxy(ns: number, svc: number, id: string): ProxyInfo {
  const r = proxyFromNode(sidecarNode({ id, namespace: namespaceName(ns), service: serviceName(svc) }));
  if (!r.ok) throw new Error(r.reason);
  return r.proxy;
}

const encodes = async (): Promise<number> => (await snapshotMetrics.encodes.get()).values[0]?.value ?? 0;

/**
 * The response bodies for a snapshot (one per type), encoded once per distinct type content
 * as the server does: groups that agree on a type's resources share its body.
 */
function bodiesWith(memo: Map<string, Uint8Array>): (snap: CachedSnapshot) => Uint8Array[] {
  return (snap) =>
    pushOrder.map((t) => {
      const version = snap.typeVersions.get(t) ?? '';
      const key = `${t}|${version}`;
      let body = memo.get(key);
      if (body === undefined) memo.set(key, (body = sotwBody(t, version, snap.resources.get(t)?.values() ?? [])));
      return body;
    });
}

export async function measureEncodeCost(shape: MeshShape, reps = 5): Promise<EncodeCost> {
  const objects = new BenchMesh(shape).state().objects;
  const log = pino({ level: 'silent' });
  const runs: Omit<EncodeCost, 'groups' | 'snapshotBytes' | 'resources'>[] = [];
  let snapshotBytes = 0;
  let resources = 0;
  const groups = shape.namespaces * shape.servicesPerNamespace;
  for (let r = 0; r < reps + 1; r++) {
    let t = performance.now();
    const model = buildModel(objects);
    const modelBuildMs = performance.now() - t;
    const cache = new SnapshotCache({ generate: translate, checkConsistency, model, log });
    const bodies = bodiesWith(new Map());

    let e = await encodes();
    t = performance.now();
    const first = cache.snapshotFor(proxy(0, 0, 'a'))!;
    const firstBodies = bodies(first);
    const firstGroupMs = performance.now() - t;
    const firstGroupEncodes = (await encodes()) - e;

    e = await encodes();
    t = performance.now();
    bodies(cache.snapshotFor(proxy(1 % shape.namespaces, 1 % shape.servicesPerNamespace, 'b'))!);
    const nextGroupMs = performance.now() - t;
    const nextGroupEncodes = (await encodes()) - e;

    // A proxy joining group a: the server finds the snapshot and reuses the memoized bodies.
    const sharing = proxy(0, 0, 'c');
    e = await encodes();
    const loops = 1000;
    t = performance.now();
    for (let i = 0; i < loops; i++) {
      cache.snapshotFor(sharing);
      for (const b of firstBodies) withNonce(b, String(i));
    }
    const sharingProxyUs = ((performance.now() - t) * 1000) / loops;
    const sharingProxyEncodes = ((await encodes()) - e) / loops;

    const fresh = new SnapshotCache({ generate: translate, checkConsistency, model: buildModel(objects), log });
    const freshBodies = bodiesWith(new Map());
    t = performance.now();
    for (let n = 0; n < shape.namespaces; n++) {
      for (let s = 0; s < shape.servicesPerNamespace; s++) freshBodies(fresh.snapshotFor(proxy(n, s, `g-${n}-${s}`))!);
    }
    const allGroupsMs = performance.now() - t;

    snapshotBytes = firstBodies.reduce((a, b) => a + b.length, 0);
    resources = [...first.resources.values()].reduce((a, m) => a + m.size, 0);
    if (r > 0) runs.push({ modelBuildMs, firstGroupMs, firstGroupEncodes, nextGroupMs, nextGroupEncodes, allGroupsMs, sharingProxyUs, sharingProxyEncodes }); // r = 0 warms the JIT
  }
  const med = (k: keyof (typeof runs)[number]): number => median(runs.map((x) => x[k]));
  return {
    modelBuildMs: med('modelBuildMs'),
    firstGroupMs: med('firstGroupMs'),
    firstGroupEncodes: med('firstGroupEncodes'),
    nextGroupMs: med('nextGroupMs'),
    nextGroupEncodes: med('nextGroupEncodes'),
    allGroupsMs: med('allGroupsMs'),
    groups,
    sharingProxyUs: med('sharingProxyUs'),
    sharingProxyEncodes: med('sharingProxyEncodes'),
    snapshotBytes,
    resources,
  };
}
