// The API resources Weft reads and writes, and their REST paths.

export interface ResourceRef {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export function apiVersionOf(r: ResourceRef): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

function prefix(r: ResourceRef): string {
  return r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
}

/** The collection across all namespaces (what informers list and watch). */
export function collectionPath(r: ResourceRef): string {
  return `${prefix(r)}/${r.plural}`;
}

/** One object, or one of its subresources (`status`). */
export function objectPath(r: ResourceRef, namespace: string | undefined, name: string, subresource?: string): string {
  const ns = r.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
  return `${prefix(r)}${ns}/${r.plural}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

export function namespacedCollectionPath(r: ResourceRef, namespace: string): string {
  return `${prefix(r)}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`;
}

const WEFT_GROUP = 'mesh.weft.dev';

export const Resources = {
  TrafficSplit: { group: WEFT_GROUP, version: 'v1alpha1', plural: 'trafficsplits', kind: 'TrafficSplit', namespaced: true },
  RetryPolicy: { group: WEFT_GROUP, version: 'v1alpha1', plural: 'retrypolicies', kind: 'RetryPolicy', namespaced: true },
  PeerAuth: { group: WEFT_GROUP, version: 'v1alpha1', plural: 'peerauths', kind: 'PeerAuth', namespaced: true },
  BackendPolicy: { group: WEFT_GROUP, version: 'v1alpha1', plural: 'backendpolicies', kind: 'BackendPolicy', namespaced: true },
  AuthorizationPolicy: { group: WEFT_GROUP, version: 'v1alpha1', plural: 'authorizationpolicies', kind: 'AuthorizationPolicy', namespaced: true },
  FaultPolicy: { group: WEFT_GROUP, version: 'v1alpha1', plural: 'faultpolicies', kind: 'FaultPolicy', namespaced: true },
  RateLimitPolicy: { group: WEFT_GROUP, version: 'v1alpha1', plural: 'ratelimitpolicies', kind: 'RateLimitPolicy', namespaced: true },
  Service: { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  EndpointSlice: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  Pod: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  Namespace: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  Lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
} as const satisfies Record<string, ResourceRef>;
