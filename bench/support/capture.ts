// What Weft serves each proxy group of the bench mesh, captured for the peer: for the initial
// state and after each mutation, one directory per state, one per group (`<ns>_<svc>`, as
// the peer keys nodes), and per type a DiscoveryResponse with the group's resources — the
// bytes Weft's snapshot cache holds for that group, so both servers serve proto-equal config.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel } from '../../src/model/build.ts';
import { SnapshotCache } from '../../xds/snapshot/cache.ts';
import { checkConsistency, translate } from '../../xds/translate/index.ts';
import { proxyFromNode } from '../../xds/resources/node-info.ts';
import { sotwBody } from '../../xds/server/responses.ts';
import { BenchMesh, namespaceName, serviceName, type MeshShape, type Mutation } from './mesh.ts';
import { sidecarNode } from './sim-proxy.ts';
import { CDS, EDS, LDS, RDS } from './wire.ts';
import type { TypeUrl } from '../../xds/resources/type-urls.ts';

const files: Record<string, string> = { [CDS]: 'cds.pb', [EDS]: 'eds.pb', [LDS]: 'lds.pb', [RDS]: 'rds.pb' };

/** Writes dir/v0 (initial) and dir/v<k> after the k-th of `mutations`; returns the bytes of v0. */
export function captureStates(shape: MeshShape, mutations: readonly Mutation[], dir: string): number {
  const mesh = new BenchMesh(shape);
  const cache = new SnapshotCache({ generate: translate, checkConsistency });
  let bytes = 0;
  const states = [mesh.state(), ...mutations.map((m) => mesh.mutate(m))];
  states.forEach((state, k) => {
    cache.setModel(buildModel(state.objects));
    for (let n = 0; n < shape.namespaces; n++) {
      for (let s = 0; s < shape.servicesPerNamespace; s++) {
        const spec = { id: `capture-${n}-${s}`, namespace: namespaceName(n), service: serviceName(s) };
        const parsed = proxyFromNode(sidecarNode(spec));
        if (!parsed.ok) throw new Error(parsed.reason);
        const snap = cache.snapshotFor(parsed.proxy);
        if (snap === undefined) throw new Error(`no snapshot for ${spec.namespace}/${spec.service}`);
        const groupDir = join(dir, `v${k}`, `${spec.namespace}_${spec.service}`);
        mkdirSync(groupDir, { recursive: true });
        for (const [typeUrl, file] of Object.entries(files)) {
          const resources = snap.resources.get(typeUrl as TypeUrl) ?? new Map();
          const body = sotwBody(typeUrl, snap.typeVersions.get(typeUrl as TypeUrl) ?? '', resources.values());
          if (k === 0) bytes += body.length;
          writeFileSync(join(groupDir, file), body);
        }
      }
    }
  });
  return bytes;
}
