// One line per Weft resource for `kubectl get -o wide` (status.summary, a printer column).
// Printer columns are JSONPath: a list or map prints as raw JSON, and a [*] path shows only
// its first match, so the readable form is computed here and written with the conditions.
import type { BackendPolicyObject, WeftPolicyObject } from '../api/objects.ts';

/** Whole percentages that sum to 100 (largest remainder), for weights that need not. */
export function percentages(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w * 100) / total);
  const out = exact.map(Math.floor);
  const order = exact.map((e, i) => ({ i, rest: e - Math.floor(e) })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (let k = 0, left = 100 - out.reduce((a, b) => a + b, 0); k < left; k++) out[order[k]!.i]! += 1;
  return out;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : word.endsWith('h') ? 'es' : 's'}`;

export function summaryOf(o: WeftPolicyObject): string {
  switch (o.kind) {
    case 'TrafficSplit': {
      const pct = percentages(o.spec.backends.map((b) => b.weight));
      const split = o.spec.backends.map((b, i) => `${b.service} ${pct[i]}%`).join(', ');
      return o.spec.matches.length ? `${split}; ${plural(o.spec.matches.length, 'match')}` : split;
    }
    case 'RetryPolicy': {
      const codes = o.spec.retriableStatusCodes ?? [];
      return `${o.spec.retryOn.join(', ')}${codes.length ? ` (${codes.join(', ')})` : ''}`;
    }
    case 'RateLimitPolicy': {
      const rate = (b: { requests: number; interval: number }) => `${b.requests}/${b.interval < 1000 ? `${b.interval}ms` : `${b.interval / 1000}s`}`;
      const rules = o.spec.rules.map(
        (r) => `${r.match.method ? `${r.match.method} ` : ''}${r.match.pathPrefix} ${rate(r.limit)}${r.perCaller ? ' per caller' : ''}`,
      );
      return [...(o.spec.limit ? [`all ${rate(o.spec.limit)}`] : []), ...rules].join(', ');
    }
    case 'FaultPolicy': {
      const { delay, abort, headers } = o.spec;
      const parts = [
        ...(delay ? [`delay ${delay.fixedDelay}ms ${delay.percentage}%`] : []),
        ...(abort ? [`abort ${abort.httpStatus ?? `grpc ${abort.grpcStatus}`} ${abort.percentage}%`] : []),
      ];
      return `${parts.join(', ')}${headers.length ? `; when ${headers.map((h) => h.name).join(', ')} match` : ''}`;
    }
    case 'PeerAuth': {
      const labels = Object.entries(o.spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
      const ports = Object.entries(o.spec.portLevelMtls ?? {}).map(([p, m]) => `port ${p} ${m.mode}`);
      return [labels.length ? labels.join(',') : 'all workloads', ...ports].join('; ');
    }
    case 'BackendPolicy':
      return backendSummary(o.spec);
    case 'AuthorizationPolicy': {
      const s = o.spec;
      const rules = `${plural(s.allow?.length ?? 0, 'allow rule')}, ${plural(s.deny?.length ?? 0, 'deny rule')}`;
      const deny = s.defaultAction === 'Deny' || (s.allow?.length ?? 0) > 0;
      return `${rules}; default ${deny ? 'deny' : 'allow'}${s.dryRun ? '; dry run' : ''}`;
    }
  }
}

/** `RingHash on header x-user; zone failover; pool 100 connections, 2 requests`. */
function backendSummary(s: BackendPolicyObject['spec']): string {
  const parts: string[] = [];
  if (s.loadBalancer) {
    const h = s.loadBalancer.hashKey;
    const key = h?.header !== undefined ? `header ${h.header}` : h?.cookie !== undefined ? `cookie ${h.cookie.name}` : h?.sourceIP ? 'source IP' : '';
    parts.push(key ? `${s.loadBalancer.algorithm} on ${key}` : s.loadBalancer.algorithm);
  }
  if (s.locality?.mode === 'Failover') parts.push('zone failover');
  const p = s.connectionPool;
  if (p) {
    const limits = [
      p.maxConnections === undefined ? '' : plural(p.maxConnections, 'connection'),
      p.maxPendingRequests === undefined ? '' : `${p.maxPendingRequests} pending`,
      p.maxRequests === undefined ? '' : plural(p.maxRequests, 'request'),
      p.maxRequestsPerConnection === undefined ? '' : `${p.maxRequestsPerConnection} per connection`,
    ].filter(Boolean);
    parts.push(`pool ${limits.length ? limits.join(', ') : 'unlimited'}`);
  }
  return parts.join('; ');
}
