// The validated mesh model: what translation reads. Built from config objects by
// src/model/build.ts; immutable once built. Nothing here knows which source ran.
import type { PolicyKind } from '../api/objects.ts';

/** `namespace/name` of a namespaced object. */
export type ObjectKey = `${string}/${string}`;

export interface EndpointAddress {
  /** IP address of the endpoint (pod IP or VM address). */
  readonly address: string;
  /** The target port on that address for the service port this list belongs to. */
  readonly port: number;
  readonly ready: boolean;
  /** Pod (or workload) name the endpoint belongs to, when known. */
  readonly workload?: string;
  readonly zone?: string;
  /**
   * The endpoint's workload runs a Weft sidecar that accepts mutual TLS on this port (its
   * effective PeerAuth mode is STRICT or PERMISSIVE), so clients originate mTLS to it.
   * Absent means plaintext: no sidecar, unknown, or DISABLE. See src/model/meshed.ts.
   */
  readonly meshed?: boolean;
}

/**
 * What the control plane knows about one workload (a Pod) behind endpoints, keyed by the
 * EndpointSlice targetRef: its labels (for PeerAuth selectors) and whether it runs a sidecar
 * (the injection status annotation). Supplied by the Kubernetes source; the file source has
 * none and uses the Service annotation `weft.dev/mtls` instead.
 */
export interface WorkloadFacts {
  readonly namespace: string;
  /** Pod name, as in EndpointSlice `endpoints[].targetRef.name`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly sidecar: boolean;
}

export interface ServicePort {
  readonly name: string; // '' when the Service has a single unnamed port
  readonly port: number;
  readonly targetPort: number | string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  /** `http` unless appProtocol or the port name says otherwise (grpc, http2, tcp, tls). */
  readonly appProtocol: 'http' | 'http2' | 'grpc' | 'tcp';
  /** Endpoints for this port, sorted by address then port. */
  readonly endpoints: readonly EndpointAddress[];
}

export interface MeshService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP?: string;
  readonly selector?: Readonly<Record<string, string>>;
  readonly ports: readonly ServicePort[];
  /** The TrafficSplit whose spec.service is this service, if any (resolved, valid). */
  readonly split?: ResolvedSplit;
  /** The RetryPolicy targeting this service, if any. */
  readonly retry?: ResolvedRetry;
  /** The BackendPolicy targeting this service, if any. */
  readonly backend?: ResolvedBackend;
  /** The RateLimitPolicy targeting this service (enforced by the Pods behind it), if any. */
  readonly rateLimit?: ResolvedRateLimit;
  /** The FaultPolicy targeting this service (injected by its callers), if any. */
  readonly fault?: ResolvedFault;
}

export interface StringMatch {
  readonly type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  readonly value: string;
}

export interface HeaderMatch {
  readonly name: string;
  readonly type: 'Exact' | 'RegularExpression';
  readonly value: string;
}

/** Gateway API HTTPRouteMatch subset: all given conditions must hold. */
export interface RouteMatch {
  readonly path?: StringMatch;
  readonly headers: readonly HeaderMatch[];
}

export interface ResolvedSplit {
  readonly policy: ObjectKey; // the TrafficSplit's namespace/name
  readonly backends: readonly { readonly service: string; readonly weight: number }[]; // same namespace; weight > 0 only
  /** Empty: every request is split. Otherwise only matching requests; the rest go to the root service. */
  readonly matches: readonly RouteMatch[];
}

export interface ResolvedRetry {
  readonly policy: ObjectKey;
  readonly attempts: number; // retries after the first try
  readonly perTryTimeoutMs?: number;
  readonly timeoutMs?: number;
  readonly retryOn: readonly string[]; // Envoy retry_on tokens, already mapped
  readonly retriableStatusCodes: readonly number[];
  readonly backoff?: { readonly baseIntervalMs: number; readonly maxIntervalMs: number };
  readonly budget?: { readonly percent: number; readonly minRetryConcurrency: number };
  readonly retryNonIdempotent: boolean;
  readonly exemptPaths: readonly string[];
  readonly outlierDetection?: {
    readonly consecutive5xxErrors: number;
    readonly intervalMs: number;
    readonly baseEjectionTimeMs: number;
    readonly maxEjectionPercent: number;
  };
}

/** What a ring hash or Maglev balancer hashes: exactly one key. */
export type HashKey =
  { readonly header: string } | { readonly cookie: { readonly name: string; readonly ttlMs?: number; readonly path?: string } } | { readonly sourceIP: true };

export interface ResolvedBackend {
  readonly policy: ObjectKey;
  readonly algorithm: 'RoundRobin' | 'LeastRequest' | 'Random' | 'RingHash' | 'Maglev';
  /** Set exactly when algorithm is RingHash or Maglev. */
  readonly hashKey?: HashKey;
  /** Prefer endpoints in the caller's zone; other zones only when it has no ready endpoint. */
  readonly zoneFailover: boolean;
  /** Connection-pool limits per caller proxy and cluster; absent = unlimited. */
  readonly connectionPool: {
    readonly maxConnections?: number;
    readonly maxPendingRequests?: number;
    readonly maxRequests?: number;
    readonly maxRequestsPerConnection?: number;
  };
}

/** `requests` tokens every `intervalMs`, at most `burst` held (Envoy's token bucket). */
export interface TokenBucket {
  readonly requests: number;
  readonly intervalMs: number;
  readonly burst: number;
}

export interface RateLimitRule {
  /** Segment-wise prefix (`/api` matches `/api` and `/api/x`, not `/apix`); `/` matches every path. */
  readonly pathPrefix: string;
  readonly method?: string;
  readonly limit: TokenBucket;
  /** One bucket per caller identity (SPIFFE ID) instead of one for every caller. */
  readonly perCaller: boolean;
}

export interface ResolvedRateLimit {
  readonly policy: ObjectKey;
  /** Requests matching no rule; absent: they are not limited. */
  readonly limit?: TokenBucket;
  /** Most specific first (longer prefix, then with a method), so the first match is the best one. */
  readonly rules: readonly RateLimitRule[];
}

export interface ResolvedFault {
  readonly policy: ObjectKey;
  readonly delay?: { readonly fixedDelayMs: number; readonly percent: number };
  readonly abort?: { readonly httpStatus?: number; readonly grpcStatus?: number; readonly percent: number };
  /** Only requests with all of these headers are affected; empty: every request. */
  readonly headers: readonly HeaderMatch[];
}

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export interface PeerAuthPolicy {
  readonly policy: ObjectKey;
  readonly namespace: string;
  /** True when the policy lives in the control-plane namespace and has no selector. */
  readonly meshWide: boolean;
  readonly selector?: Readonly<Record<string, string>>;
  readonly mode?: MtlsMode; // unset: inherit from the less specific policy
  readonly portModes: Readonly<Record<number, MtlsMode>>;
}

/** Who an authorization rule matches. Absent on a rule: every caller with a verified mesh identity. */
export interface AuthzFrom {
  /** `namespace/name` service accounts, sorted. */
  readonly serviceAccounts: readonly string[];
  readonly namespaces: readonly string[];
  /** Any verified identity in the mesh's trust domain. */
  readonly mesh: boolean;
  /** Callers without a verified identity (plaintext under PERMISSIVE or DISABLE). */
  readonly unauthenticated: boolean;
}

/** What an authorization rule matches; every given condition must hold, each list is any-of. */
export interface AuthzTo {
  /** Istio-style: `/a` exact, `/a/*` prefix, `*.json` suffix, `*` any. */
  readonly paths: readonly string[];
  readonly methods: readonly string[];
  readonly headers: readonly HeaderMatch[];
  /** The workload's (target) ports. */
  readonly ports: readonly number[];
}

export interface AuthzRule {
  readonly from?: AuthzFrom;
  readonly to?: AuthzTo;
}

/** An accepted AuthorizationPolicy. */
export interface AuthzPolicy {
  readonly policy: ObjectKey;
  readonly namespace: string;
  /** No targetRef in the control-plane namespace: every workload of the mesh. */
  readonly meshWide: boolean;
  /** The target Service (same namespace); absent: every workload of the namespace (or mesh). */
  readonly service?: string;
  readonly dryRun: boolean;
  /** defaultAction: Deny (an allow rule implies it too; see src/model/authz.ts). */
  readonly defaultDeny: boolean;
  readonly deny: readonly AuthzRule[];
  readonly allow: readonly AuthzRule[];
}

export type ConditionType = 'Accepted' | 'ResolvedRefs' | 'Programmed';

export interface Condition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** Status the model computed for one Weft custom resource. */
export interface PolicyStatus {
  readonly kind: PolicyKind;
  readonly key: ObjectKey;
  readonly generation?: number;
  readonly conditions: readonly Condition[];
  /** One readable line for `kubectl get -o wide` (status.summary). */
  readonly summary: string;
}

export interface MeshModel {
  /** Services by `namespace/name`, sorted by key. */
  readonly services: ReadonlyMap<ObjectKey, MeshService>;
  readonly peerAuths: readonly PeerAuthPolicy[];
  /** Accepted AuthorizationPolicies, sorted by key. */
  readonly authorizations: readonly AuthzPolicy[];
  readonly statuses: readonly PolicyStatus[];
  /** Content hash of everything above: equal hashes mean equal models. */
  readonly version: string;
}
