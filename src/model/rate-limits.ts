// RateLimitPolicy → ResolvedRateLimit. Rules are ordered most specific first (longer path
// prefix, then a method before none), so Envoy's first-match route order picks the rule a
// reader would expect whatever order the rules were written in; exact duplicates are
// refused by the schema, so no two rules can tie.
import type { RateLimitPolicyObject } from '../api/objects.ts';
import { compareStrings } from '../base/order.ts';
import { resolveTargeted } from './targeted.ts';
import type { MeshService, ObjectKey, PolicyStatus, RateLimitRule, ResolvedRateLimit, TokenBucket } from './types.ts';

type Bucket = { requests: number; interval: number; burst?: number | undefined };

function bucketOf(b: Bucket): TokenBucket {
  return { requests: b.requests, intervalMs: b.interval, burst: b.burst ?? b.requests };
}

function segments(prefix: string): number {
  return prefix === '/' ? 0 : prefix.split('/').length - 1;
}

/** Most specific first: more path segments, longer prefix, a method before none; then by text. */
export function compareRules(a: RateLimitRule, b: RateLimitRule): number {
  return (
    segments(b.pathPrefix) - segments(a.pathPrefix) ||
    b.pathPrefix.length - a.pathPrefix.length ||
    Number(b.method !== undefined) - Number(a.method !== undefined) ||
    compareStrings(a.pathPrefix, b.pathPrefix) ||
    compareStrings(a.method ?? '', b.method ?? '')
  );
}

function resolved(rl: RateLimitPolicyObject): ResolvedRateLimit {
  const rules: RateLimitRule[] = rl.spec.rules.map((r) => ({
    pathPrefix: r.match.pathPrefix,
    ...(r.match.method ? { method: r.match.method } : {}),
    limit: bucketOf(r.limit),
    perCaller: r.perCaller,
  }));
  return {
    policy: `${rl.metadata.namespace}/${rl.metadata.name}`,
    ...(rl.spec.limit ? { limit: bucketOf(rl.spec.limit) } : {}),
    rules: rules.sort(compareRules),
  };
}

export function resolveRateLimits(
  policies: readonly RateLimitPolicyObject[],
  services: ReadonlyMap<ObjectKey, MeshService>,
): { applied: Map<ObjectKey, ResolvedRateLimit>; statuses: PolicyStatus[] } {
  return resolveTargeted(policies, services, {
    effect: (target) => `limits the requests each Pod behind Service ${target} accepts`,
    resolve: resolved,
  });
}
