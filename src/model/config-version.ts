// The configuration version Programmed compares across controller replicas: the model's
// content hash without endpoint addresses. Endpoint churn (Pods coming and going) changes
// the model version many times a minute but not what a TrafficSplit, a RetryPolicy or a
// PeerAuth makes a proxy do, so a proxy that acknowledged config version C still has the
// resources of C while it takes an endpoint update, and replica reports do not change (nor
// get rewritten) on endpoint churn. Deterministic: replicas that see the same objects
// compute the same version.
import { endpointFree } from './endpoint-free.ts';
import type { MeshModel } from './types.ts';

/** The endpoint-free view's content hash (endpoint target ports count: they resolve named targetPorts). */
export function configVersion(model: MeshModel): string {
  return endpointFree(model).version.slice(0, 16);
}
