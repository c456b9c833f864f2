// Consistency check run before a snapshot is published (go-control-plane habit): every
// reference between resources resolves, and nothing Envoy would reject as a duplicate is
// present. Returns human-readable problems; empty means consistent.
import { create, toBinary } from '@bufbuild/protobuf';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { Cluster_DiscoveryType, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { FilterChainMatchSchema, type FilterChain } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import type { Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../gen/envoy/config/route/v3/route_pb.js';
import {
  HttpConnectionManagerSchema,
  type HttpConnectionManager,
} from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { ResourceSet } from './types.ts';
import { FilterName } from './common.ts';

function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup].sort();
}

function unpackHcm(any: Any | undefined): HttpConnectionManager | undefined {
  return any ? anyUnpack(any, HttpConnectionManagerSchema) : undefined;
}

/** Clusters a route config sends traffic to, and domain clashes inside it. */
function checkRouteConfig(rc: RouteConfiguration, where: string, clusters: ReadonlySet<string>, problems: string[]): void {
  const domains = rc.virtualHosts.flatMap((vh) => vh.domains);
  for (const d of duplicates(domains)) problems.push(`${where}: domain "${d}" in more than one virtual host`);
  for (const n of duplicates(rc.virtualHosts.map((vh) => vh.name))) problems.push(`${where}: duplicate virtual host "${n}"`);
  for (const vh of rc.virtualHosts) {
    for (const r of vh.routes) {
      if (r.action.case !== 'route') continue;
      const spec = r.action.value.clusterSpecifier;
      const targets = spec.case === 'cluster' ? [spec.value] : spec.case === 'weightedClusters' ? spec.value.clusters.map((c) => c.name) : [];
      for (const t of targets) {
        if (!clusters.has(t)) problems.push(`${where} virtual host ${vh.name}: route "${r.name}" targets unknown cluster "${t}"`);
      }
    }
  }
}

function checkHcm(hcm: HttpConnectionManager, where: string, ctx: Context): void {
  if (!hcm.statPrefix) ctx.problems.push(`${where}: http_connection_manager without stat_prefix`);
  const last = hcm.httpFilters.at(-1);
  if (last?.name !== FilterName.router) ctx.problems.push(`${where}: router is not the last HTTP filter`);
  const spec = hcm.routeSpecifier;
  if (spec.case === 'rds') {
    if (!ctx.routes.has(spec.value.routeConfigName)) ctx.problems.push(`${where}: route config "${spec.value.routeConfigName}" not found`);
  } else if (spec.case === 'routeConfig') {
    checkRouteConfig(spec.value, `${where} inline routes`, ctx.clusters, ctx.problems);
  } else {
    ctx.problems.push(`${where}: http_connection_manager without routes`);
  }
}

interface Context {
  readonly clusters: ReadonlySet<string>;
  readonly routes: ReadonlySet<string>;
  readonly problems: string[];
}

function checkChain(chain: FilterChain, where: string, ctx: Context): void {
  for (const f of chain.filters) {
    const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    if (!any) {
      ctx.problems.push(`${where}: filter ${f.name} without typed_config`);
      continue;
    }
    const hcm = unpackHcm(any);
    if (hcm) checkHcm(hcm, where, ctx);
    const tcp = anyUnpack(any, TcpProxySchema);
    if (tcp?.clusterSpecifier.case === 'cluster' && !ctx.clusters.has(tcp.clusterSpecifier.value)) {
      ctx.problems.push(`${where}: tcp_proxy targets unknown cluster "${tcp.clusterSpecifier.value}"`);
    }
  }
}

function checkListener(l: Listener, ctx: Context): void {
  const where = `listener ${l.name}`;
  const noMatch = create(FilterChainMatchSchema);
  const matches = l.filterChains.map((c) => Buffer.from(toBinary(FilterChainMatchSchema, c.filterChainMatch ?? noMatch)).toString('hex'));
  if (duplicates(matches).length > 0) ctx.problems.push(`${where}: two filter chains with the same filter_chain_match`);
  for (const n of duplicates(l.filterChains.map((c) => c.name).filter((n) => n !== ''))) ctx.problems.push(`${where}: duplicate filter chain name "${n}"`);
  for (const lf of l.listenerFilters) {
    if (lf.configType.case !== 'typedConfig') ctx.problems.push(`${where}: listener filter ${lf.name} without typed_config`);
  }
  l.filterChains.forEach((c) => checkChain(c, `${where} chain ${c.name || '(unnamed)'}`, ctx));
  if (l.defaultFilterChain) checkChain(l.defaultFilterChain, `${where} default chain`, ctx);
  if (l.apiListener) {
    const hcm = unpackHcm(l.apiListener.apiListener);
    if (hcm) checkHcm(hcm, `${where} api listener`, ctx);
    else ctx.problems.push(`${where}: api listener is not an http_connection_manager`);
  }
  if (l.filterChains.length === 0 && !l.defaultFilterChain && !l.apiListener) ctx.problems.push(`${where}: no filter chains`);
}

function edsName(c: Cluster): string | undefined {
  if (c.clusterDiscoveryType.case !== 'type' || c.clusterDiscoveryType.value !== Cluster_DiscoveryType.EDS) return undefined;
  return c.edsClusterConfig?.serviceName || c.name;
}

/** Problems that would make Envoy reject, or silently black-hole, this set. */
export function checkConsistency(set: ResourceSet): string[] {
  const problems: string[] = [];
  for (const [type, names] of [
    ['cluster', set.clusters.map((c) => c.name)],
    ['endpoints', set.endpoints.map((e) => e.clusterName)],
    ['listener', set.listeners.map((l) => l.name)],
    ['route config', set.routes.map((r) => r.name)],
  ] as const) {
    for (const n of duplicates(names)) problems.push(`duplicate ${type} "${n}"`);
  }
  const clas = new Set(set.endpoints.map((e) => e.clusterName));
  for (const c of set.clusters) {
    const eds = edsName(c);
    if (eds !== undefined && !clas.has(eds)) problems.push(`cluster ${c.name}: no ClusterLoadAssignment "${eds}"`);
  }
  const ctx: Context = { clusters: new Set(set.clusters.map((c) => c.name)), routes: new Set(set.routes.map((r) => r.name)), problems };
  for (const rc of set.routes) checkRouteConfig(rc, `route config ${rc.name}`, ctx.clusters, problems);
  for (const l of set.listeners) checkListener(l, ctx);
  return problems;
}
