// The configuration version Programmed compares across controller replicas: the model's
// content hash without endpoint addresses. Endpoint churn (Pods coming and going) changes
// the model version many times a minute but not what a TrafficSplit, a RetryPolicy or a
// PeerAuth makes a proxy do, so a proxy that acknowledged config version C still has the
// resources of C while it takes an endpoint update, and replica reports do not change (nor
// get rewritten) on endpoint churn. Deterministic: replicas that see the same objects
// compute the same version.
import { contentHash } from './canonical.ts';
import type { MeshModel } from './types.ts';

const memo = new WeakMap<MeshModel, string>();

export function configVersion(model: MeshModel): string {
  let v = memo.get(model);
  if (v === undefined) {
    const services = [...model.services.values()].map((s) => ({ ...s, ports: s.ports.map(({ endpoints: _e, ...p }) => p) }));
    v = contentHash({ services, peerAuths: model.peerAuths, authorizations: model.authorizations, statuses: model.statuses }).slice(0, 16);
    memo.set(model, v);
  }
  return v;
}
