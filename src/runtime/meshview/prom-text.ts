// Reads the standard per-cluster upstream stats out of Envoy's Prometheus text
// (/stats/prometheus): request total, responses by class, retries and the upstream_rq_time
// histogram, per cluster. Only Envoy's own stats and its default `envoy_cluster_name` tag are
// used, and any other label on a series (a tag a deployment adds) is summed over.
//
// Envoy's default tag rule cuts the cluster name at its first dot, so
// `cluster.outbound|8080||checkout.shop.svc.cluster.local.upstream_rq_total` comes out as
// `envoy_cluster_shop_svc_cluster_local_upstream_rq_total{envoy_cluster_name="outbound|8080||checkout"}`.
// Both that and the whole name in the tag (a stats tag rule that keeps it) are read; the cut
// part is restored from the metric name, which is unambiguous for `<ns>.svc.<cluster domain>`
// (a namespace has no underscores, so `_` in it was `-`).

import { CLUSTER_DOMAIN } from '../../../xds/resources/names.ts';

/** Cumulative counters of one upstream cluster, as read from one proxy. */
export interface ClusterCounters {
  /** upstream_rq_total: requests sent upstream, retries included (one per attempt). */
  total: number;
  /** upstream_rq_xx by class ("2", "3", "4", "5"): answers returned downstream (Envoy does not count a response it retried). */
  byClass: Record<string, number>;
  /** upstream_rq_retry. */
  retries: number;
  /** upstream_rq_time cumulative buckets in ms, ascending `le`, the last one +Inf. */
  buckets: Array<[le: number, count: number]>;
}

export type ClusterStats = Map<string, ClusterCounters>;

const METRIC = /^envoy_cluster_(?:(.+)_)?(upstream_rq_total|upstream_rq_xx|upstream_rq_retry|upstream_rq_time_bucket)$/;

/** `shop_svc_cluster_local` → `shop.svc.cluster.local` when it ends in the sanitized `svc.<domain>`; else undefined. */
function restoreSuffix(cut: string, clusterDomain: string): string | undefined {
  const tail = `_svc_${clusterDomain.replace(/[^a-zA-Z0-9]/g, '_')}`;
  if (!cut.endsWith(tail) || cut.length === tail.length) return undefined;
  const ns = cut.slice(0, -tail.length);
  if (!/^[a-z0-9_]+$/.test(ns)) return undefined;
  return `${ns.replace(/_/g, '-')}.svc.${clusterDomain}`;
}

/** Labels of one series: `{a="x",b="y\"z"}` (Prometheus text escaping: \\, \", \n). */
function parseLabels(text: string): Map<string, string> | undefined {
  const labels = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (text[i] === ',' || text[i] === ' ') i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq < 0 || text[eq + 1] !== '"') return undefined;
    const name = text.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\' && j + 1 < text.length) {
        j++;
        value += text[j] === 'n' ? '\n' : text[j];
      } else value += text[j];
    }
    if (j >= text.length) return undefined;
    labels.set(name, value);
    i = j + 1;
  }
  return labels;
}

function counters(stats: ClusterStats, cluster: string): ClusterCounters {
  let c = stats.get(cluster);
  if (c === undefined) {
    c = { total: 0, byClass: {}, retries: 0, buckets: [] };
    stats.set(cluster, c);
  }
  return c;
}

/**
 * The clusters (optionally only those `keep` accepts) and their counters. Lines that are
 * comments, other metrics or malformed are skipped: a proxy's output is untrusted input.
 */
export function parseClusterStats(text: string, keep: (cluster: string) => boolean = () => true, clusterDomain = CLUSTER_DOMAIN): ClusterStats {
  const stats: ClusterStats = new Map();
  const bucketSums = new Map<string, Map<number, number>>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const close = line.lastIndexOf('}');
    if (brace < 0 || close < brace) continue;
    const m = METRIC.exec(line.slice(0, brace));
    if (m === null) continue;
    const value = Number(
      line
        .slice(close + 1)
        .trim()
        .split(' ')[0],
    );
    if (!Number.isFinite(value)) continue;
    const labels = parseLabels(line.slice(brace + 1, close));
    let cluster = labels?.get('envoy_cluster_name');
    if (m[1] !== undefined && cluster !== undefined) {
      // Another prefix (internal_, external_, canary_ stats) or a name we cannot restore: not ours.
      const suffix = restoreSuffix(m[1], clusterDomain);
      cluster = suffix === undefined ? undefined : `${cluster}.${suffix}`;
    }
    if (labels === undefined || cluster === undefined || !keep(cluster)) continue;
    const metric = `envoy_cluster_${m[2]}`;
    const c = counters(stats, cluster);
    switch (metric) {
      case 'envoy_cluster_upstream_rq_total':
        c.total += value;
        break;
      case 'envoy_cluster_upstream_rq_retry':
        c.retries += value;
        break;
      case 'envoy_cluster_upstream_rq_xx': {
        const cls = labels.get('envoy_response_code_class');
        if (cls !== undefined) c.byClass[cls] = (c.byClass[cls] ?? 0) + value;
        break;
      }
      default: {
        const le = labels.get('le');
        const bound = le === '+Inf' ? Infinity : Number(le);
        if (le === undefined || Number.isNaN(bound)) break;
        let sums = bucketSums.get(cluster);
        if (sums === undefined) bucketSums.set(cluster, (sums = new Map()));
        sums.set(bound, (sums.get(bound) ?? 0) + value);
      }
    }
  }
  for (const [cluster, sums] of bucketSums) counters(stats, cluster).buckets = [...sums].sort((a, b) => a[0] - b[0]);
  return stats;
}
