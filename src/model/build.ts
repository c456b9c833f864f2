// Config objects → MeshModel. Pure: no clock, no I/O; the same objects in any order
// give the same model and the same version.
import type {
  BackendPolicyObject,
  AuthorizationPolicyObject,
  ConfigObject,
  EndpointSliceObject,
  FaultPolicyObject,
  PeerAuthObject,
  RateLimitPolicyObject,
  RetryPolicyObject,
  ServiceObject,
  TrafficSplitObject,
} from '../api/objects.ts';
import { objectId } from '../api/objects.ts';
import { resolveAuthorizations } from './authz.ts';
import { resolveBackends } from './backends.ts';
import { contentHash } from './canonical.ts';
import { compareStrings } from '../base/order.ts';
import { resolveFaults } from './faults.ts';
import { markMeshed, meshedServiceKeys } from './meshed.ts';
import { resolvePeerAuths } from './peer-auths.ts';
import { resolveRateLimits } from './rate-limits.ts';
import { resolveRetries } from './retries.ts';
import { buildServices } from './services.ts';
import { resolveSplits } from './splits.ts';
import type { MeshModel, MeshService, ObjectKey, PolicyStatus, WorkloadFacts } from './types.ts';

export { effectiveMtls, DEFAULT_MTLS_MODE } from './mtls.ts';
export { MESHED_SERVICE_ANNOTATION, SIDECAR_STATUS_ANNOTATION, workloadFacts } from './meshed.ts';

export const DEFAULT_CONTROL_PLANE_NAMESPACE = 'weft-system';

export interface BuildOptions {
  /** Where a selector-less PeerAuth is mesh-wide. Default `weft-system`. */
  readonly controlPlaneNamespace?: string;
  /**
   * Pods behind endpoints (Kubernetes source): their labels and whether they run a
   * sidecar decide which endpoints get mTLS (src/model/meshed.ts). Order does not matter.
   */
  readonly workloads?: readonly WorkloadFacts[];
}

interface ByKind {
  Service: ServiceObject[];
  EndpointSlice: EndpointSliceObject[];
  TrafficSplit: TrafficSplitObject[];
  RetryPolicy: RetryPolicyObject[];
  PeerAuth: PeerAuthObject[];
  BackendPolicy: BackendPolicyObject[];
  AuthorizationPolicy: AuthorizationPolicyObject[];
  FaultPolicy: FaultPolicyObject[];
  RateLimitPolicy: RateLimitPolicyObject[];
}

/** Sorted by identity; a repeated kind/namespace/name keeps its first occurrence. */
function partition(objects: readonly ConfigObject[]): ByKind {
  const seen = new Set<string>();
  const out: ByKind = {
    Service: [],
    EndpointSlice: [],
    TrafficSplit: [],
    RetryPolicy: [],
    PeerAuth: [],
    BackendPolicy: [],
    AuthorizationPolicy: [],
    FaultPolicy: [],
    RateLimitPolicy: [],
  };
  const unique = objects.filter((o) => {
    const id = objectId(o);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  unique.sort((a, b) => compareStrings(objectId(a), objectId(b)));
  for (const o of unique) (out[o.kind] as ConfigObject[]).push(o);
  return out;
}

export function buildModel(objects: readonly ConfigObject[], opts: BuildOptions = {}): MeshModel {
  const byKind = partition(objects);
  const peer = resolvePeerAuths(byKind.PeerAuth, opts.controlPlaneNamespace ?? DEFAULT_CONTROL_PLANE_NAMESPACE);
  const base = markMeshed(buildServices(byKind.Service, byKind.EndpointSlice), peer.policies, meshedServiceKeys(byKind.Service), opts.workloads);
  const splits = resolveSplits(byKind.TrafficSplit, base);
  const retries = resolveRetries(byKind.RetryPolicy, base);
  const backends = resolveBackends(byKind.BackendPolicy, base);
  const authz = resolveAuthorizations(byKind.AuthorizationPolicy, base, opts.controlPlaneNamespace ?? DEFAULT_CONTROL_PLANE_NAMESPACE);
  const rateLimits = resolveRateLimits(byKind.RateLimitPolicy, base);
  const faults = resolveFaults(byKind.FaultPolicy, base);

  const services = new Map<ObjectKey, MeshService>();
  for (const [key, svc] of base) {
    const split = splits.applied.get(key);
    const retry = retries.applied.get(key);
    const backend = backends.applied.get(key);
    const rateLimit = rateLimits.applied.get(key);
    const fault = faults.applied.get(key);
    services.set(key, {
      ...svc,
      ...(split ? { split } : {}),
      ...(retry ? { retry } : {}),
      ...(backend ? { backend } : {}),
      ...(rateLimit ? { rateLimit } : {}),
      ...(fault ? { fault } : {}),
    });
  }
  const statuses: PolicyStatus[] = [
    ...splits.statuses,
    ...retries.statuses,
    ...peer.statuses,
    ...backends.statuses,
    ...authz.statuses,
    ...rateLimits.statuses,
    ...faults.statuses,
  ].sort((a, b) => compareStrings(a.kind, b.kind) || compareStrings(a.key, b.key));
  const content = { services, peerAuths: peer.policies, authorizations: authz.policies, statuses };
  return { ...content, version: contentHash(content) };
}
