// SPIFFE IDs for Kubernetes workloads: spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>.
// The only identity form Weft issues or accepts (architecture.md "workload identity").

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

export interface WorkloadIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

// SPIFFE spec: trust domain is lowercase letters, digits, '.', '-', '_'. Kubernetes namespace and
// ServiceAccount names are DNS-1123 (a subset of SPIFFE's path segment characters), so we
// require that here: an identity that Kubernetes could not have produced is refused.
const TRUST_DOMAIN_RE = /^[a-z0-9._-]{1,255}$/;
const K8S_NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function isValidTrustDomain(td: string): boolean {
  return TRUST_DOMAIN_RE.test(td);
}

/** Why `id` is not a valid identity, or undefined when it is. */
export function identityProblem(id: WorkloadIdentity): string | undefined {
  if (!isValidTrustDomain(id.trustDomain)) return `trust domain "${id.trustDomain}" must be lowercase letters, digits, '.', '-' or '_'`;
  if (!K8S_NAME_RE.test(id.namespace)) return `namespace "${id.namespace}" is not a valid Kubernetes name`;
  if (!K8S_NAME_RE.test(id.serviceAccount)) return `service account "${id.serviceAccount}" is not a valid Kubernetes name`;
  return undefined;
}

/** The SPIFFE ID string. Throws RangeError on names Kubernetes would reject (a programming error). */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  const problem = identityProblem({ trustDomain, namespace, serviceAccount });
  if (problem) throw new RangeError(problem);
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export type ParsedSpiffeId = { ok: true; identity: WorkloadIdentity } | { ok: false; reason: string };

/** Parses a SPIFFE ID of the Kubernetes workload form; anything else is a reason, not a throw. */
export function parseSpiffeId(uri: string): ParsedSpiffeId {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return { ok: false, reason: 'expected spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>' };
  const identity = { trustDomain: m[1] ?? '', namespace: m[2] ?? '', serviceAccount: m[3] ?? '' };
  const problem = identityProblem(identity);
  return problem ? { ok: false, reason: problem } : { ok: true, identity };
}
