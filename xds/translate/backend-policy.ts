// BackendPolicy in Envoy terms: the cluster's lb_policy and connection-pool thresholds, the
// routes' hash policies, and the priority of each locality relative to the caller's zone.
//
// One owner per field. BackendPolicy owns lb_policy, the circuit breakers' max_connections,
// max_pending_requests and max_requests, and max_requests_per_connection; RetryPolicy owns
// max_retries / retry_budget (same thresholds entry) and outlier_detection. They compose:
// ejected endpoints leave the balancer's set (ring hash re-maps only their keys) and count as
// unhealthy for zone failover, so a zone whose endpoints are mostly ejected spills over.
// Requests refused by a pool limit get 503 with x-envoy-overloaded and are counted in the
// cluster's upstream_rq_pending_overflow (pending/requests) and upstream_cx_overflow
// (connections) stats; Envoy never retries them.
//
// Model inputs: services[].backend. Not inherited through TrafficSplit: a backend Service is
// balanced by its own policy (the routes to a split root hash on every destination's key).
import { create } from '@bufbuild/protobuf';
import { Cluster_LbPolicy } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { RouteAction_HashPolicySchema, type RouteAction_HashPolicy } from '../gen/envoy/config/route/v3/route_components_pb.js';
import { HashPolicySchema, type HashPolicy } from '../gen/envoy/type/v3/hash_policy_pb.js';
import type { MeshService, ResolvedBackend } from '../../src/model/types.ts';
import { duration } from './common.ts';

const LB_POLICY: Readonly<Record<ResolvedBackend['algorithm'], Cluster_LbPolicy>> = {
  RoundRobin: Cluster_LbPolicy.ROUND_ROBIN,
  LeastRequest: Cluster_LbPolicy.LEAST_REQUEST,
  Random: Cluster_LbPolicy.RANDOM,
  RingHash: Cluster_LbPolicy.RING_HASH,
  Maglev: Cluster_LbPolicy.MAGLEV,
};

/**
 * The cluster's lb_policy. Proxyless gRPC clients implement only ROUND_ROBIN and RING_HASH
 * of the legacy enum and reject a cluster with any other: they get round robin instead.
 */
export function lbPolicy(backend: ResolvedBackend | undefined, proxyless = false): Cluster_LbPolicy {
  const algorithm = backend?.algorithm ?? 'RoundRobin';
  if (proxyless && algorithm !== 'RingHash') return Cluster_LbPolicy.ROUND_ROBIN;
  return LB_POLICY[algorithm];
}

/** Route hash policies for requests that may go to any of `destinations` (deduplicated, in order). */
export function routeHashPolicies(destinations: readonly (MeshService | undefined)[]): RouteAction_HashPolicy[] {
  const seen = new Set<string>();
  const out: RouteAction_HashPolicy[] = [];
  for (const svc of destinations) {
    const key = svc?.backend?.hashKey;
    if (!key) continue;
    const id = JSON.stringify(key);
    if (seen.has(id)) continue;
    seen.add(id);
    if ('header' in key) {
      out.push(create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'header', value: { headerName: key.header } } }));
    } else if ('cookie' in key) {
      const { name, ttlMs, path } = key.cookie;
      out.push(
        create(RouteAction_HashPolicySchema, {
          policySpecifier: { case: 'cookie', value: { name, ...(ttlMs === undefined ? {} : { ttl: duration(ttlMs) }), ...(path ? { path } : {}) } },
        }),
      );
    } else {
      out.push(create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'connectionProperties', value: { sourceIp: true } } }));
    }
  }
  return out;
}

/** tcp_proxy can hash only connection properties: the source IP, when the policy asks for it. */
export function tcpHashPolicies(svc: MeshService): HashPolicy[] {
  const key = svc.backend?.hashKey;
  return key && 'sourceIP' in key ? [create(HashPolicySchema, { policySpecifier: { case: 'sourceIp', value: {} } })] : [];
}
