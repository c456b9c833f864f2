// The mesh view narrowed to the namespaces a caller may read (access/scope.ts): their Services,
// their proxies, the edges between two of their nodes (an edge into a namespace they may not
// read would name it), their workload certificates. The serving certificate, the model version
// and the scrape counters are the mesh's, not a namespace's: only the cluster-wide right sees
// them as they are; a narrowed view counts its own proxies.
import { readable, type ReadScope } from '../access/scope.ts';
import type { MeshView } from './shape.ts';

const namespaceOf = (id: string): string => id.slice(0, Math.max(0, id.indexOf('/')));

/** `spiffe://<td>/ns/<ns>/sa/<sa>` → ns; undefined for any other subject. */
function spiffeNamespace(subject: string): string | undefined {
  return /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/.exec(subject)?.[1];
}

export async function scopeMeshView(view: MeshView, scope: ReadScope): Promise<MeshView> {
  if (scope.all) return view;
  const named = [
    ...view.services.map((s) => s.namespace),
    ...view.proxies.map((p) => p.namespace),
    ...view.edges.flatMap((e) => [namespaceOf(e.source), namespaceOf(e.destination)]),
    ...view.certificates.flatMap((c) => spiffeNamespace(c.subject) ?? []),
  ];
  const ok = await readable(scope, named);
  const proxies = view.proxies.filter((p) => ok.has(p.namespace));
  const { modelVersion: _hidden, ...rest } = view;
  return {
    ...rest,
    signals: {
      ...view.signals,
      targets: proxies.filter((p) => p.scrape.state !== 'none').length,
      failed: proxies.filter((p) => p.scrape.state === 'error').length,
    },
    services: view.services.filter((s) => ok.has(s.namespace)),
    edges: view.edges.filter((e) => ok.has(namespaceOf(e.source)) && ok.has(namespaceOf(e.destination))),
    proxies,
    certificates: view.certificates.filter((c) => c.kind === 'workload' && ok.has(spiffeNamespace(c.subject) ?? '')),
  };
}
