// RetryPolicy resolution: one policy per target Service (oldest wins); the target must
// exist in the policy's namespace. retryOn is mapped to Envoy retry_on tokens here so
// translation never sees Weft's vocabulary.
import type { RetryPolicyObject } from '../api/objects.ts';
import { RETRY_ON, type RetryOn } from '../api/bounds.ts';
import { accepted, condition, conflicted, groupByPrecedence, refsResolved, statusOf } from './conditions.ts';
import { byPrecedence } from './order.ts';
import { serviceKey } from './services.ts';
import type { MeshService, ObjectKey, PolicyStatus, ResolvedRetry } from './types.ts';

/** Weft retryOn → Envoy retry_on (x-envoy-retry-on / x-envoy-retry-grpc-on tokens). */
export const ENVOY_RETRY_ON: Readonly<Record<RetryOn, string>> = {
  '5xx': '5xx',
  'gateway-error': 'gateway-error',
  reset: 'reset',
  'connect-failure': 'connect-failure',
  'retriable-4xx': 'retriable-4xx',
  'refused-stream': 'refused-stream',
  'retriable-status-codes': 'retriable-status-codes',
  'envoy-ratelimited': 'envoy-ratelimited',
  cancelled: 'cancelled',
  'deadline-exceeded': 'deadline-exceeded',
  internal: 'internal',
  'resource-exhausted': 'resource-exhausted',
  unavailable: 'unavailable',
};

function resolved(rp: RetryPolicyObject): ResolvedRetry {
  const s = rp.spec;
  return {
    policy: `${rp.metadata.namespace}/${rp.metadata.name}`,
    attempts: s.attempts,
    ...(s.perTryTimeout === undefined ? {} : { perTryTimeoutMs: s.perTryTimeout }),
    ...(s.timeout === undefined ? {} : { timeoutMs: s.timeout }),
    // Vocabulary order, not user order: reordering the list is not a change.
    retryOn: RETRY_ON.filter((r) => s.retryOn.includes(r)).map((r) => ENVOY_RETRY_ON[r]),
    retriableStatusCodes: [...s.retriableStatusCodes].sort((a, b) => a - b),
    ...(s.backoff
      ? // Envoy's own default for max_interval is 10 × base_interval.
        { backoff: { baseIntervalMs: s.backoff.baseInterval, maxIntervalMs: s.backoff.maxInterval ?? s.backoff.baseInterval * 10 } }
      : {}),
    ...(s.budget ? { budget: { percent: s.budget.percent, minRetryConcurrency: s.budget.minRetryConcurrency } } : {}),
    retryNonIdempotent: s.retryNonIdempotent,
    exemptPaths: [...s.exemptPaths].sort(),
    ...(s.outlierDetection
      ? {
          outlierDetection: {
            consecutive5xxErrors: s.outlierDetection.consecutive5xxErrors,
            intervalMs: s.outlierDetection.interval,
            baseEjectionTimeMs: s.outlierDetection.baseEjectionTime,
            maxEjectionPercent: s.outlierDetection.maxEjectionPercent,
          },
        }
      : {}),
  };
}

export function resolveRetries(
  policies: readonly RetryPolicyObject[],
  services: ReadonlyMap<ObjectKey, MeshService>,
): { applied: Map<ObjectKey, ResolvedRetry>; statuses: PolicyStatus[] } {
  const applied = new Map<ObjectKey, ResolvedRetry>();
  const statuses: PolicyStatus[] = [];
  const groups = groupByPrecedence(policies, (rp) => serviceKey(rp.metadata.namespace, rp.spec.targetRef.name), byPrecedence);
  for (const [target, group] of groups) {
    const [winner] = group;
    const exists = services.has(target as ObjectKey);
    for (const rp of group) {
      const refs = exists
        ? refsResolved(`Target Service ${target} exists`)
        : condition('ResolvedRefs', false, 'TargetNotFound', `Service ${target} not found; the policy is not applied`);
      // Policy attachment (Gateway API GEP-713): a policy whose target is missing is not Accepted.
      const acc =
        rp === winner
          ? exists
            ? accepted(`RetryPolicy applies to every caller of Service ${target}`)
            : condition('Accepted', false, 'TargetNotFound', `Service ${target} not found; the policy is applied once the Service exists`)
          : conflicted(
              `Service ${target} is already targeted by RetryPolicy ${rp.metadata.namespace}/${winner?.metadata.name} (older, or first by name); this policy is not applied`,
            );
      if (rp === winner && exists) applied.set(target as ObjectKey, resolved(rp));
      statuses.push(statusOf(rp, [acc, refs]));
    }
  }
  return { applied, statuses };
}
