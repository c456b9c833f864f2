// The model without endpoints (only their target ports), interned by content. Translation builds
// everything but endpoints from it (xds/translate/index.ts), and its version is the configuration
// version replicas compare for Programmed (config-version.ts): one hash per model for both. Endpoint churn (Pods starting, stopping, turning ready) is the most frequent change
// of a real mesh, and it changes the model — so with per-model memos (memo.ts) each one used to
// re-translate, re-encode and re-check every cluster, listener and route of every proxy group
// (≈ 110 ms of a 10k-proxy endpoint push, issue 11). Models that differ only in endpoints map
// to the very same view object, so those memos hit and hand out the same message objects, whose
// encodings and consistency facts are memoized on them in turn; only the ClusterLoadAssignments
// are built again.
//
// The view keeps of each port's endpoints only what non-EDS translation may read: the distinct
// target ports (a named targetPort is resolved through them, model-view.ts inboundPorts), as
// stub entries without address, workload, zone or readiness. Translation outside endpoints.ts
// cannot see those fields at all, so it cannot come to depend on them unnoticed.
import { contentHash } from './canonical.ts';
import type { EndpointAddress, MeshModel, MeshService, ServicePort } from './types.ts';

/**
 * Distinct views kept: the current one and the one before it (a rollback reuses its output).
 * Each holds its translation output (and, through the message objects, their encodings), so
 * this bounds what config no snapshot serves any more can keep alive.
 */
const KEEP = 2;

const viewOfModel = new WeakMap<MeshModel, MeshModel>();
const interned = new Map<string, MeshModel>();

function portStubs(p: ServicePort): readonly EndpointAddress[] {
  const ports = [...new Set(p.endpoints.map((e) => e.port))].sort((a, b) => a - b);
  return ports.map((port) => ({ address: '', port, ready: true }));
}

function endpointFreeService(s: MeshService): MeshService {
  return { ...s, ports: s.ports.map((p) => ({ ...p, endpoints: portStubs(p) })) };
}

/** The model without endpoints (but their target ports); equal for models that differ only there. */
export function endpointFree(model: MeshModel): MeshModel {
  let view = viewOfModel.get(model);
  if (view !== undefined) return view;
  const services = new Map([...model.services].map(([k, s]) => [k, endpointFreeService(s)] as const));
  const content = { services, peerAuths: model.peerAuths, authorizations: model.authorizations, statuses: model.statuses };
  const version = contentHash(content);
  view = interned.get(version);
  if (view === undefined) {
    view = { ...content, version };
    if (interned.size >= KEEP) interned.delete(interned.keys().next().value!);
  } else interned.delete(version); // re-inserted below: most recently used last
  interned.set(version, view);
  viewOfModel.set(model, view);
  return view;
}
