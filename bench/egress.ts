// `npm run bench -- egress [--namespaces N] [--services-per-namespace M]`: the bytes one
// sidecar is sent (SotW response bodies of LDS + CDS + RDS + EDS, as the server encodes them)
// in a mesh of N × M Services, unscoped and with a weft.dev/egress scope (docs/scale.md,
// "Egress scope"). Sizes are deterministic; the translate + encode time of one new group is
// printed too (taken on a shared machine: indicative only).
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseEgress, resolveEgress } from '../src/api/egress.ts';
import { buildModel } from '../src/model/build.ts';
import { proxyFromNode } from '../xds/resources/node-info.ts';
import type { ProxyInfo } from '../xds/resources/proxy.ts';
import { pushOrder, TypeUrl } from '../xds/resources/type-urls.ts';
import { typeLabel } from '../xds/server/metrics.ts';
import { sotwBody } from '../xds/server/responses.ts';
import { SnapshotCache } from '../xds/snapshot/cache.ts';
import { checkConsistency, translate } from '../xds/translate/index.ts';
import { BenchMesh, namespaceName, serviceName } from './support/mesh.ts';
import { sidecarNode } from './support/sim-proxy.ts';

interface Row {
  readonly scope: string;
  readonly bytes: Record<string, number>;
  readonly total: number;
  readonly resources: number;
  readonly ms: number;
}

function sidecar(scope: string | undefined): ProxyInfo {
  const ns = namespaceName(0);
  const r = proxyFromNode(sidecarNode({ id: `bench-${scope ?? 'all'}`, namespace: ns, service: serviceName(0) }));
  if (!r.ok) throw new Error(r.reason);
  // A sidecar in Kubernetes has a workload certificate: its clusters carry auto-mTLS.
  const proxy: ProxyInfo = { ...r.proxy, identity: `spiffe://cluster.local/ns/${ns}/sa/${serviceName(0)}` };
  if (scope === undefined) return proxy;
  const p = parseEgress(scope);
  if (!p.ok) throw new Error(p.reason);
  const hosts = resolveEgress(p.spec, ns);
  return hosts === undefined ? proxy : { ...proxy, egress: hosts };
}

export async function runEgressBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { namespaces: { type: 'string', default: '20' }, 'services-per-namespace': { type: 'string', default: '50' } },
  });
  const shape = { namespaces: Number(values.namespaces), servicesPerNamespace: Number(values['services-per-namespace']), endpointsPerService: 4 };
  const objects = new BenchMesh(shape).state().objects;
  const services = shape.namespaces * shape.servicesPerNamespace;
  console.log(
    `mesh: ${services} Services (${shape.namespaces} namespaces × ${shape.servicesPerNamespace}; ports http 8080 + grpc 9090, ${shape.endpointsPerService} endpoints each, a TrafficSplit and a RetryPolicy per namespace); the sidecar of ns-00/svc-0 with a certificate`,
  );
  const scopes: (string | undefined)[] = [undefined, './*', './svc-0, ./svc-3, ns-01/svc-4', 'ns-01/svc-4'];
  const rows: Row[] = [];
  for (const scope of scopes) {
    // A fresh model per row: nothing memoized from the previous one.
    const cache = new SnapshotCache({ generate: translate, checkConsistency, model: buildModel(objects), log: pino({ level: 'silent' }) });
    const t = performance.now();
    const snap = cache.snapshotFor(sidecar(scope));
    if (snap === undefined) throw new Error('no snapshot');
    const bytes: Record<string, number> = {};
    let resources = 0;
    for (const type of pushOrder) {
      const held = snap.resources.get(type);
      if (!held || type === TypeUrl.Secret) continue;
      resources += held.size;
      bytes[typeLabel(type)] = sotwBody(type, snap.typeVersions.get(type) ?? '', held.values()).length;
    }
    const ms = performance.now() - t;
    rows.push({ scope: scope ?? '(none: every Service)', bytes, total: Object.values(bytes).reduce((a, b) => a + b, 0), resources, ms });
  }
  // What one more distinct scope costs once the model's shared outbound lists exist (a new
  // Pod scope joining a running mesh): translate, consistency check and encoding of its group.
  const cache = new SnapshotCache({ generate: translate, checkConsistency, model: buildModel(objects), log: pino({ level: 'silent' }) });
  cache.snapshotFor(sidecar(undefined));
  cache.snapshotFor(sidecar('ns-01/svc-4'));
  const t = performance.now();
  cache.snapshotFor(sidecar('ns-02/svc-7, ./svc-5'));
  const furtherScopeMs = performance.now() - t;
  const base = rows[0]?.total ?? 1;
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const r of rows) {
    const parts = Object.entries(r.bytes)
      .map(([k, v]) => `${k} ${kb(v)}`)
      .join(', ');
    console.log(
      `weft.dev/egress ${JSON.stringify(r.scope)}: ${kb(r.total)} (${((100 * r.total) / base).toFixed(1)} %), ${r.resources} resources [${parts}]; translate + encode ${r.ms.toFixed(0)} ms`,
    );
  }
  console.log(`one more distinct scope on a model already served: ${furtherScopeMs.toFixed(1)} ms (translate, consistency check, encoding of its group)`);
}
