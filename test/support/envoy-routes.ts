// Reads what Envoy is actually routing with, from its admin config dump: the route a
// Host would take, its weighted clusters and retry policy. Used to time how long a config
// edit takes to reach Envoy, independent of how translation names things.
import type { EnvoyHandle } from './envoy.ts';

export interface RouteView {
  routeConfig: string;
  vhost: string;
  /** Weighted clusters of the matching route (one entry with the full weight for a plain `cluster`). */
  clusters: Array<{ name: string; weight: number }>;
  /** Route-level retry policy, else the virtual host's; undefined when none. */
  retryPolicy: Record<string, unknown> | undefined;
}

type Json = Record<string, unknown>;
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

// Just enough of Envoy's route matching to find the route a plain request takes: path
// prefix/exact/regex and header matchers on :method (what translation emits for
// exemptions); a matcher on any other header counts as not matching, as the request lacks it.
function stringMatches(m: Json | undefined, value: string): boolean {
  if (!m) return false;
  if (typeof m.exact === 'string') return m.exact === value;
  if (typeof m.prefix === 'string') return value.startsWith(m.prefix);
  const regex = obj(m.safe_regex)?.regex;
  if (typeof regex === 'string') return new RegExp(`^(?:${regex})$`).test(value);
  return false;
}

function routeMatches(match: Json | undefined, method: string, path: string): boolean {
  if (!match) return false;
  const pathOk =
    typeof match.prefix === 'string'
      ? path.startsWith(match.prefix)
      : typeof match.path === 'string'
        ? path === match.path
        : typeof obj(match.safe_regex)?.regex === 'string'
          ? new RegExp(`^(?:${String(obj(match.safe_regex)?.regex)})$`).test(path)
          : typeof match.path_separated_prefix === 'string'
            ? path === match.path_separated_prefix || path.startsWith(`${match.path_separated_prefix}/`)
            : false;
  if (!pathOk) return false;
  return arr(match.headers).every((h) => {
    const hit = h.name === ':method' ? stringMatches(obj(h.string_match), method) : false;
    return h.invert_match === true ? !hit : hit;
  });
}

/**
 * The route Envoy would pick for a request to `host` (e.g. "checkout.shop:8080"), by default
 * `GET /`, or undefined if it has none yet.
 */
export function routeForHost(configDump: unknown, host: string, req: { method?: string; path?: string } = {}): RouteView | undefined {
  return findRoute(configDump, req, (vh) => (arr(vh.domains) as unknown as string[]).includes(host)) ?? findRoute(configDump, req, (vh) => ownVhost(vh, host));
}

/**
 * A capture-mode service with a ClusterIP has a route config of its own whose one virtual host
 * takes any Host (xds/translate/outbound-ports.ts): found by its name, `<fqdn>:<port>`.
 */
function ownVhost(vh: Json, host: string): boolean {
  const m = /^([^.:]+)\.([^.:]+)(?:\.svc(?:\.cluster\.local)?)?:(\d+)$/.exec(host);
  const domains = arr(vh.domains) as unknown as string[];
  return m !== null && domains.length === 1 && domains[0] === '*' && vh.name === `${m[1]}.${m[2]}.svc.cluster.local:${m[3]}`;
}

function findRoute(configDump: unknown, req: { method?: string; path?: string }, pick: (vh: Json) => boolean): RouteView | undefined {
  for (const section of arr(obj(configDump)?.configs)) {
    for (const dyn of arr(section.dynamic_route_configs)) {
      const rc = obj(dyn.route_config);
      for (const vh of arr(rc?.virtual_hosts)) {
        if (!pick(vh)) continue;
        const route = obj(arr(vh.routes).find((r) => routeMatches(obj(r.match), req.method ?? 'GET', req.path ?? '/'))?.route);
        if (!route) continue;
        const weighted = arr(obj(route.weighted_clusters)?.clusters).map((c) => ({ name: String(c.name), weight: Number(c.weight ?? 0) }));
        const clusters = weighted.length > 0 ? weighted : typeof route.cluster === 'string' ? [{ name: route.cluster, weight: 100 }] : [];
        return {
          routeConfig: String(rc?.name ?? ''),
          vhost: String(vh.name ?? ''),
          clusters,
          retryPolicy: obj(route.retry_policy) ?? obj(vh.retry_policy),
        };
      }
    }
  }
  return undefined;
}

/** Percent of the weight on clusters whose name contains `needle`. */
export function weightPercent(view: RouteView, needle: string): number {
  const total = view.clusters.reduce((s, c) => s + c.weight, 0);
  const part = view.clusters.filter((c) => c.name.includes(needle)).reduce((s, c) => s + c.weight, 0);
  return total === 0 ? 0 : (100 * part) / total;
}

/** Polls the config dump until `pred` holds for the route of `host`; returns ms waited. */
export async function waitForRoute(
  envoy: EnvoyHandle,
  host: string,
  pred: (v: RouteView) => boolean,
  timeoutMs = 30_000,
): Promise<{ view: RouteView; waitedMs: number }> {
  const started = performance.now();
  let last: RouteView | undefined;
  for (;;) {
    last = routeForHost(await envoy.configDump(), host);
    if (last && pred(last)) return { view: last, waitedMs: performance.now() - started };
    if (performance.now() - started > timeoutMs) {
      throw new Error(`route for ${host} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The update_rejected counters of every xDS subscription (CDS, LDS, RDS, EDS), by name. */
export async function rejectedUpdates(envoy: EnvoyHandle): Promise<Map<string, number>> {
  return envoy.stats('update_rejected$');
}
