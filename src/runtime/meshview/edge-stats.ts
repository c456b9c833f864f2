// From two readings of a proxy's cumulative cluster counters to what the mesh view shows per
// edge: request rate, success rate and p99 over the interval between them. Several proxies of
// one service add up (counts are summed, histograms merged before the quantile is taken).
import type { ClusterCounters } from './prom-text.ts';

/** What happened on one cluster between two readings. */
export interface Delta {
  seconds: number;
  requests: number;
  /** Answers returned downstream (a retried attempt's response is not one), and the 5xx among them. */
  responses: number;
  errors: number;
  retries: number;
  /** Per-bucket (not cumulative) counts, same bounds as the reading. */
  buckets: Array<[le: number, count: number]>;
}

export function emptyDelta(): Delta {
  return { seconds: 0, requests: 0, responses: 0, errors: 0, retries: 0, buckets: [] };
}

function classTotal(byClass: Record<string, number>): number {
  return Object.values(byClass).reduce((a, b) => a + b, 0);
}

/** undefined when a counter went backwards (the proxy restarted): that interval says nothing. */
export function deltaOf(prev: ClusterCounters | undefined, cur: ClusterCounters, seconds: number): Delta | undefined {
  const p = prev ?? { total: 0, byClass: {}, retries: 0, buckets: [] };
  const requests = cur.total - p.total;
  const responses = classTotal(cur.byClass) - classTotal(p.byClass);
  const errors = (cur.byClass['5'] ?? 0) - (p.byClass['5'] ?? 0);
  const retries = cur.retries - p.retries;
  if (requests < 0 || responses < 0 || errors < 0 || retries < 0) return undefined;
  const before = new Map(p.buckets);
  const buckets: Array<[number, number]> = [];
  let lastCum = 0;
  for (const [le, cum] of cur.buckets) {
    const d = cum - (before.get(le) ?? 0);
    if (d < 0) return undefined;
    buckets.push([le, Math.max(0, d - lastCum)]);
    lastCum = Math.max(lastCum, d);
  }
  return { seconds, requests, responses, errors, retries, buckets };
}

/** Adds `b` into `a` (rates of several proxies add; the interval is the longest of them). */
export function addDelta(a: Delta, b: Delta): Delta {
  const buckets = new Map(a.buckets);
  for (const [le, n] of b.buckets) buckets.set(le, (buckets.get(le) ?? 0) + n);
  return {
    seconds: Math.max(a.seconds, b.seconds),
    requests: a.requests + b.requests,
    responses: a.responses + b.responses,
    errors: a.errors + b.errors,
    retries: a.retries + b.retries,
    buckets: [...buckets].sort((x, y) => x[0] - y[0]),
  };
}

/**
 * The q-quantile of per-bucket counts, interpolated linearly inside the bucket as Prometheus'
 * histogram_quantile does; undefined without observations. A quantile in the +Inf bucket is the
 * largest finite bound.
 */
export function quantile(buckets: ReadonlyArray<readonly [number, number]>, q: number): number | undefined {
  const total = buckets.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  let lower = 0;
  for (const [le, n] of buckets) {
    if (seen + n >= rank && n > 0) {
      if (!Number.isFinite(le)) return lower;
      return lower + (le - lower) * ((rank - seen) / n);
    }
    seen += n;
    if (Number.isFinite(le)) lower = le;
  }
  return lower;
}

export interface EdgeSignals {
  /** Requests per second (attempts: a retried request counts once per try). */
  requestRate: number;
  /** Share of answers returned to callers (after retries) that were not 5xx; null when nothing was answered. */
  successRate: number | null;
  /** Milliseconds; null without observations in the interval. */
  p99Ms: number | null;
  retryRate: number;
}

export function signalsOf(d: Delta): EdgeSignals {
  const per = (n: number): number => (d.seconds > 0 ? n / d.seconds : 0);
  const p99 = quantile(d.buckets, 0.99);
  return {
    requestRate: per(d.requests),
    successRate: d.responses > 0 ? 1 - d.errors / d.responses : null,
    p99Ms: p99 ?? null,
    retryRate: per(d.retries),
  };
}
