// BackendPolicy resolution: one policy per target Service (oldest wins, as for RetryPolicy);
// the target must exist in the policy's namespace. Translation reads the resolved form only.
import type { BackendPolicyObject } from '../api/objects.ts';
import { accepted, condition, conflicted, groupByPrecedence, refsResolved, statusOf } from './conditions.ts';
import { byPrecedence } from './order.ts';
import { serviceKey } from './services.ts';
import type { HashKey, MeshService, ObjectKey, PolicyStatus, ResolvedBackend } from './types.ts';

type Spec = BackendPolicyObject['spec'];

function hashKeyOf(h: NonNullable<NonNullable<Spec['loadBalancer']>['hashKey']>): HashKey | undefined {
  // Header names are case-insensitive: Envoy matches them lowercased.
  if (h.header !== undefined) return { header: h.header.toLowerCase() };
  if (h.cookie !== undefined) {
    const { name, ttl, path } = h.cookie;
    return { cookie: { name, ...(ttl === undefined ? {} : { ttlMs: ttl }), ...(path === undefined ? {} : { path }) } };
  }
  return h.sourceIP ? { sourceIP: true } : undefined;
}

function resolved(bp: BackendPolicyObject): ResolvedBackend {
  const s = bp.spec;
  const hashKey = s.loadBalancer?.hashKey ? hashKeyOf(s.loadBalancer.hashKey) : undefined;
  const pool = s.connectionPool ?? {};
  return {
    policy: `${bp.metadata.namespace}/${bp.metadata.name}`,
    algorithm: s.loadBalancer?.algorithm ?? 'RoundRobin',
    ...(hashKey ? { hashKey } : {}),
    zoneFailover: s.locality?.mode === 'Failover',
    connectionPool: {
      ...(pool.maxConnections === undefined ? {} : { maxConnections: pool.maxConnections }),
      ...(pool.maxPendingRequests === undefined ? {} : { maxPendingRequests: pool.maxPendingRequests }),
      ...(pool.maxRequests === undefined ? {} : { maxRequests: pool.maxRequests }),
      ...(pool.maxRequestsPerConnection === undefined ? {} : { maxRequestsPerConnection: pool.maxRequestsPerConnection }),
    },
  };
}

export function resolveBackends(
  policies: readonly BackendPolicyObject[],
  services: ReadonlyMap<ObjectKey, MeshService>,
): { applied: Map<ObjectKey, ResolvedBackend>; statuses: PolicyStatus[] } {
  const applied = new Map<ObjectKey, ResolvedBackend>();
  const statuses: PolicyStatus[] = [];
  const groups = groupByPrecedence(policies, (bp) => serviceKey(bp.metadata.namespace, bp.spec.targetRef.name), byPrecedence);
  for (const [target, group] of groups) {
    const [winner] = group;
    const exists = services.has(target as ObjectKey);
    for (const bp of group) {
      const refs = exists
        ? refsResolved(`Target Service ${target} exists`)
        : condition('ResolvedRefs', false, 'TargetNotFound', `Service ${target} not found; the policy is not applied`);
      const acc =
        bp === winner
          ? exists
            ? accepted(`BackendPolicy applies to every caller of Service ${target}`)
            : condition('Accepted', false, 'TargetNotFound', `Service ${target} not found; the policy is applied once the Service exists`)
          : conflicted(
              `Service ${target} is already targeted by BackendPolicy ${bp.metadata.namespace}/${winner?.metadata.name} (older, or first by name); this policy is not applied`,
            );
      if (bp === winner && exists) applied.set(target as ObjectKey, resolved(bp));
      statuses.push(statusOf(bp, [acc, refs]));
    }
  }
  return { applied, statuses };
}
