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

// What the check reads from a route configuration or filter chain depends only on that message,
// and translation shares message objects across the proxy groups of one model (memo.ts): so it
// is read once per object (decoding every chain's HCM again for each of 50 groups was 13 % of a
// 10k split flip's CPU) and replayed against each group's clusters and routes. Messages are not
// mutated after translation.
type Step =
  | { readonly problem: string } // a problem whatever the context, appended to where it is (": …" or " inline routes…")
  | { readonly route: string } // RDS name that must exist
  | { readonly cluster: string; readonly unknown: string }; // cluster that must exist, else the problem `unknown`

interface RouteFacts {
  readonly problems: readonly string[];
  readonly targets: readonly { readonly vh: string; readonly route: string; readonly cluster: string }[];
}

const routeFacts = new WeakMap<RouteConfiguration, RouteFacts>();

function factsOfRouteConfig(rc: RouteConfiguration): RouteFacts {
  let facts = routeFacts.get(rc);
  if (facts !== undefined) return facts;
  const problems: string[] = [];
  const domains = rc.virtualHosts.flatMap((vh) => vh.domains);
  for (const d of duplicates(domains)) problems.push(`domain "${d}" in more than one virtual host`);
  for (const n of duplicates(rc.virtualHosts.map((vh) => vh.name))) problems.push(`duplicate virtual host "${n}"`);
  const targets: { vh: string; route: string; cluster: string }[] = [];
  for (const vh of rc.virtualHosts) {
    for (const r of vh.routes) {
      if (r.action.case !== 'route') continue;
      const spec = r.action.value.clusterSpecifier;
      const names = spec.case === 'cluster' ? [spec.value] : spec.case === 'weightedClusters' ? spec.value.clusters.map((c) => c.name) : [];
      for (const cluster of names) targets.push({ vh: vh.name, route: r.name, cluster });
    }
  }
  facts = { problems, targets };
  routeFacts.set(rc, facts);
  return facts;
}

/** Clusters a route config sends traffic to, and domain clashes inside it. */
function checkRouteConfig(rc: RouteConfiguration, where: string, clusters: ReadonlySet<string>, problems: string[]): void {
  const facts = factsOfRouteConfig(rc);
  for (const p of facts.problems) problems.push(`${where}: ${p}`);
  for (const t of facts.targets) {
    if (!clusters.has(t.cluster)) problems.push(`${where} virtual host ${t.vh}: route "${t.route}" targets unknown cluster "${t.cluster}"`);
  }
}

function hcmSteps(hcm: HttpConnectionManager, steps: Step[]): void {
  if (!hcm.statPrefix) steps.push({ problem: ': http_connection_manager without stat_prefix' });
  const last = hcm.httpFilters.at(-1);
  if (last?.name !== FilterName.router) steps.push({ problem: ': router is not the last HTTP filter' });
  const spec = hcm.routeSpecifier;
  if (spec.case === 'rds') {
    steps.push({ route: spec.value.routeConfigName });
  } else if (spec.case === 'routeConfig') {
    const facts = factsOfRouteConfig(spec.value);
    for (const p of facts.problems) steps.push({ problem: ` inline routes: ${p}` });
    for (const t of facts.targets) {
      steps.push({ cluster: t.cluster, unknown: ` inline routes virtual host ${t.vh}: route "${t.route}" targets unknown cluster "${t.cluster}"` });
    }
  } else {
    steps.push({ problem: ': http_connection_manager without routes' });
  }
}

interface Context {
  readonly clusters: ReadonlySet<string>;
  readonly routes: ReadonlySet<string>;
  readonly problems: string[];
}

function replay(steps: readonly Step[], where: string, ctx: Context): void {
  for (const step of steps) {
    if ('problem' in step) {
      ctx.problems.push(`${where}${step.problem}`);
    } else if ('route' in step) {
      if (!ctx.routes.has(step.route)) ctx.problems.push(`${where}: route config "${step.route}" not found`);
    } else if (!ctx.clusters.has(step.cluster)) {
      ctx.problems.push(`${where}${step.unknown}`);
    }
  }
}

interface ChainFacts {
  /** filter_chain_match as bytes (hex): two equal ones in a listener is a problem. */
  readonly match: string;
  readonly steps: readonly Step[];
}

const chainFacts = new WeakMap<FilterChain, ChainFacts>();
const noMatch = create(FilterChainMatchSchema);

function factsOfChain(chain: FilterChain): ChainFacts {
  let facts = chainFacts.get(chain);
  if (facts !== undefined) return facts;
  const steps: Step[] = [];
  for (const f of chain.filters) {
    const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    if (!any) {
      steps.push({ problem: `: filter ${f.name} without typed_config` });
      continue;
    }
    const hcm = unpackHcm(any);
    if (hcm) hcmSteps(hcm, steps);
    const tcp = anyUnpack(any, TcpProxySchema);
    if (tcp?.clusterSpecifier.case === 'cluster') {
      steps.push({ cluster: tcp.clusterSpecifier.value, unknown: `: tcp_proxy targets unknown cluster "${tcp.clusterSpecifier.value}"` });
    }
  }
  facts = { match: Buffer.from(toBinary(FilterChainMatchSchema, chain.filterChainMatch ?? noMatch)).toString('hex'), steps };
  chainFacts.set(chain, facts);
  return facts;
}

function checkListener(l: Listener, ctx: Context): void {
  const where = `listener ${l.name}`;
  const matches = l.filterChains.map((c) => factsOfChain(c).match);
  if (duplicates(matches).length > 0) ctx.problems.push(`${where}: two filter chains with the same filter_chain_match`);
  for (const n of duplicates(l.filterChains.map((c) => c.name).filter((n) => n !== ''))) ctx.problems.push(`${where}: duplicate filter chain name "${n}"`);
  for (const lf of l.listenerFilters) {
    if (lf.configType.case !== 'typedConfig') ctx.problems.push(`${where}: listener filter ${lf.name} without typed_config`);
  }
  for (const c of l.filterChains) replay(factsOfChain(c).steps, `${where} chain ${c.name || '(unnamed)'}`, ctx);
  if (l.defaultFilterChain) replay(factsOfChain(l.defaultFilterChain).steps, `${where} default chain`, ctx);
  if (l.apiListener) {
    const hcm = unpackHcm(l.apiListener.apiListener);
    if (hcm) {
      const steps: Step[] = [];
      hcmSteps(hcm, steps);
      replay(steps, `${where} api listener`, ctx);
    } else ctx.problems.push(`${where}: api listener is not an http_connection_manager`);
  }
  if (l.filterChains.length === 0 && !l.defaultFilterChain && !l.apiListener) ctx.problems.push(`${where}: no filter chains`);
}

function edsName(c: Cluster): string | undefined {
  if (c.clusterDiscoveryType.case !== 'type' || c.clusterDiscoveryType.value !== Cluster_DiscoveryType.EDS) return undefined;
  return c.edsClusterConfig?.serviceName || c.name;
}

// The whole check per (clusters, listeners, routes) arrays, which translation shares across
// groups and across models that differ only in endpoints (src/model/endpoint-free.ts); of the CLAs it
// reads only their names, compared on a hit.
interface Checked {
  readonly claNames: readonly string[];
  readonly problems: readonly string[];
}
const checked = new WeakMap<readonly Cluster[], WeakMap<readonly Listener[], WeakMap<readonly RouteConfiguration[], Checked>>>();

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Problems that would make Envoy reject, or silently black-hole, this set. */
export function checkConsistency(set: ResourceSet): string[] {
  const claNames = set.endpoints.map((e) => e.clusterName);
  let byListeners = checked.get(set.clusters);
  if (byListeners === undefined) checked.set(set.clusters, (byListeners = new WeakMap()));
  let byRoutes = byListeners.get(set.listeners);
  if (byRoutes === undefined) byListeners.set(set.listeners, (byRoutes = new WeakMap()));
  const hit = byRoutes.get(set.routes);
  if (hit !== undefined && sameNames(hit.claNames, claNames)) return [...hit.problems];
  const problems = check(set, claNames);
  byRoutes.set(set.routes, { claNames, problems: [...problems] });
  return problems;
}

function check(set: ResourceSet, claNames: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [type, names] of [
    ['cluster', set.clusters.map((c) => c.name)],
    ['endpoints', claNames],
    ['listener', set.listeners.map((l) => l.name)],
    ['route config', set.routes.map((r) => r.name)],
  ] as const) {
    for (const n of duplicates(names)) problems.push(`duplicate ${type} "${n}"`);
  }
  const clas = new Set(claNames);
  for (const c of set.clusters) {
    const eds = edsName(c);
    if (eds !== undefined && !clas.has(eds)) problems.push(`cluster ${c.name}: no ClusterLoadAssignment "${eds}"`);
  }
  const ctx: Context = { clusters: new Set(set.clusters.map((c) => c.name)), routes: new Set(set.routes.map((r) => r.name)), problems };
  for (const rc of set.routes) checkRouteConfig(rc, `route config ${rc.name}`, ctx.clusters, problems);
  for (const l of set.listeners) checkListener(l, ctx);
  return problems;
}
