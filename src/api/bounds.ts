// Every limit and vocabulary the Weft schemas enforce, in one place, so the CRD
// OpenAPI + CEL schemas (crds/) can mirror them exactly. Durations are written as Go
// duration strings so they paste straight into CEL (`duration(self) <= duration('1h')`).

/** DNS-1035 label: Service names (and so every Service reference). */
export const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 label: namespaces, port names. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 subdomain: names of EndpointSlices and of Weft custom resources. */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS_LABEL_MAX = 63;
export const DNS_SUBDOMAIN_MAX = 253;
/** HTTP header field name (RFC 7230 token). */
export const HTTP_HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
export const HTTP_HEADER_NAME_MAX = 256;

/** Go duration syntax restricted to ASCII units: `250ms`, `5s`, `1m30s`, `1.5s`. */
export const DURATION_PATTERN = /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/;
export const DURATION_MAX_LENGTH = 32;

export const PORT_MIN = 1;
export const PORT_MAX = 65535;
/** A port number as a map key: decimal, no leading zero ("080" and "80" would be one port twice). */
export const PORT_KEY = /^[1-9][0-9]{0,4}$/;

/**
 * Kubernetes label key: an optional DNS-1123 subdomain prefix and "/", then a name. A
 * string (RegExp.source would escape the "/") so it pastes into CEL as r'...'.
 */
export const LABEL_KEY_PATTERN = `^(${DNS1123_SUBDOMAIN.source.slice(1, -1)}/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`;
export const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN);
export const LABEL_PREFIX_MAX = DNS_SUBDOMAIN_MAX;
export const LABEL_NAME_MAX = 63;
/** Kubernetes label value: empty, or a label name. */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
export const LABEL_VALUE_MAX = 63;

export const TrafficSplitBounds = {
  backendsMin: 1,
  backendsMax: 64,
  weightMin: 0,
  weightMax: 10_000,
  matchesMax: 8,
  headersPerMatchMax: 16,
  valueMaxLength: 1024,
} as const;
export const PATH_MATCH_TYPES = ['Exact', 'PathPrefix', 'RegularExpression'] as const;
export const HEADER_MATCH_TYPES = ['Exact', 'RegularExpression'] as const;

/** The retryOn vocabulary; each maps to the Envoy retry_on token of the same name. */
export const RETRY_ON = [
  '5xx',
  'gateway-error',
  'reset',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'envoy-ratelimited',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
] as const;
export type RetryOn = (typeof RETRY_ON)[number];

export const RetryPolicyBounds = {
  attemptsMin: 0,
  attemptsMax: 10,
  attemptsDefault: 2, // Istio's default
  retryOnDefault: ['5xx', 'connect-failure', 'reset'] as readonly RetryOn[],
  timeoutMin: '1ms', // perTryTimeout and timeout
  timeoutMax: '1h',
  backoffMin: '1ms', // baseInterval and maxInterval
  backoffMax: '1m',
  statusCodeMin: 100,
  statusCodeMax: 599,
  statusCodesMax: 16,
  budgetPercentMin: 0,
  budgetPercentMax: 100,
  budgetPercentDefault: 20, // Envoy's default
  minRetryConcurrencyMin: 1,
  minRetryConcurrencyMax: 10_000,
  minRetryConcurrencyDefault: 3, // Envoy's default
  exemptPathsMax: 32,
  pathMaxLength: 1024,
  consecutive5xxMin: 1,
  consecutive5xxMax: 1000,
  consecutive5xxDefault: 5,
  outlierIntervalMin: '100ms', // interval and baseEjectionTime
  outlierIntervalMax: '1h',
  outlierIntervalDefault: '10s',
  baseEjectionTimeDefault: '30s',
  maxEjectionPercentMin: 0,
  maxEjectionPercentMax: 100,
  maxEjectionPercentDefault: 10, // Envoy's default
} as const;

export const MTLS_MODES = ['STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET'] as const;
export const PeerAuthBounds = {
  matchLabelsMax: 64,
  portLevelMtlsMax: 64,
} as const;

/** BackendPolicy load-balancing algorithms; each maps to the Envoy lb_policy of the same meaning. */
export const LB_ALGORITHMS = ['RoundRobin', 'LeastRequest', 'Random', 'RingHash', 'Maglev'] as const;
export type LbAlgorithm = (typeof LB_ALGORITHMS)[number];
/** The algorithms that pick an endpoint from a request hash (and so need spec.loadBalancer.hashKey). */
export const HASH_LB_ALGORITHMS = ['RingHash', 'Maglev'] as const satisfies readonly LbAlgorithm[];
export const LOCALITY_MODES = ['Failover'] as const;

export const BackendPolicyBounds = {
  /** Connection-pool limits: Envoy's circuit-breaker thresholds are uint32 (max = no limit). */
  limitMin: 1,
  limitMax: 4_294_967_295,
  cookieTtlMin: '1s',
  cookieTtlMax: '8760h',
  cookiePathMaxLength: 1024,
} as const;

/** AuthorizationPolicy: HTTP methods a rule may name (RFC 9110 plus PATCH). */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
export const AUTHZ_ACTIONS = ['Allow', 'Deny'] as const;
/** `<namespace>/<service account>`: a namespace (DNS-1123 label), a service account name (DNS-1123 subdomain). */
export const SERVICE_ACCOUNT_REF = new RegExp(`^${DNS1123_LABEL.source.slice(1, -1)}/${DNS1123_SUBDOMAIN.source.slice(1, -1)}$`);
/** An Istio-style path: exact `/a`, prefix `/a/*`, suffix `*.json`, or `*` (any). */
export const AUTHZ_PATH = /^(\*|\/[^*]*\*?|\*[^*]+)$/;
export const AuthorizationBounds = {
  rulesMax: 32, // allow and deny, each
  listMax: 32, // serviceAccounts, namespaces, paths, ports
  headersMax: 16,
  serviceAccountMaxLength: DNS_LABEL_MAX + 1 + DNS_SUBDOMAIN_MAX,
  pathMaxLength: 1024,
  valueMaxLength: 1024,
} as const;

/** RateLimitPolicy rules may match a request method too: the same list (HTTP_METHODS). */
export const RateLimitPolicyBounds = {
  requestsMin: 1,
  requestsMax: 1_000_000,
  burstMin: 1,
  burstMax: 1_000_000,
  intervalMin: '50ms', // Envoy's local_ratelimit refuses a shorter fill_interval
  intervalMax: '24h',
  intervalDefault: '1s',
  rulesMax: 32,
  pathMaxLength: 1024,
} as const;

export const FaultPolicyBounds = {
  percentMin: 0,
  percentMax: 100,
  percentDefault: 100,
  delayMin: '1ms',
  delayMax: '1h',
  httpStatusMin: 200, // Envoy's FaultAbort accepts [200, 600)
  httpStatusMax: 599,
  grpcStatusMin: 0,
  grpcStatusMax: 16,
  headersMax: 16,
} as const;
