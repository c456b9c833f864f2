// Inbound listeners of a proxy fronting a service, with PeerAuth-driven mutual TLS.
//
//   capture   `virtualInbound` (0.0.0.0:15006, original destination): chains per target
//             port of the proxy's own service; other ports pass through.
//   explicit  `explicitInbound` (0.0.0.0:<WEFT_INBOUND_PORT>), no capture: clients reach
//             the proxy on that port (it is the endpoint port they dial); it forwards to
//             127.0.0.1:<targetPort> of the service's lowest port with a numeric targetPort.
//
// Per port, the mode effectiveMtls gives for the proxy's workload (namespace + labels):
//   STRICT      mTLS required: workload certificate over SDS, client certificate required
//               and validated against the trust bundle and the proxy's trust domain.
//   PERMISSIVE  tls_inspector; a `transport_protocol: tls` chain terminating mTLS (on opaque
//               TCP ports only for connections offering the mesh ALPN, so an application's
//               own TLS still passes through as bytes) and a plaintext chain. The plaintext
//               chain matches any transport protocol rather than `raw_buffer`, so a
//               connection the inspector could not classify (a server-first protocol
//               timing out) still lands somewhere.
//   DISABLE     plaintext only.
// A proxy without a certificate (no identity, so no SDS secrets) cannot terminate TLS: its
// STRICT ports refuse every connection (fail closed), the other modes serve plaintext.
//
// The plan (everything these listeners depend on) is computed per proxy by inboundPlan;
// listeners are memoized per (model, plan), so proxies with equal outcomes share them.
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { TrafficDirection } from '../gen/envoy/config/core/v3/base_pb.js';
import { RBAC_Action } from '../gen/envoy/config/rbac/v3/rbac_pb.js';
import { ListenerSchema, type Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import {
  FilterChainSchema,
  FilterSchema,
  ListenerFilterChainMatchPredicateSchema,
  ListenerFilterSchema,
  type Filter,
  type FilterChain,
  type ListenerFilter,
} from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import type { FilterChainMatchSchema } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../gen/envoy/config/route/v3/route_pb.js';
import { TlsInspectorSchema } from '../gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { RBACSchema } from '../gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { MeshModel, MeshService, MtlsMode, ResolvedRateLimit, ServicePort } from '../../src/model/types.ts';
import { effectiveMtls } from '../../src/model/mtls.ts';
import { workloadAuthz, type WorkloadAuthz } from '../../src/model/authz.ts';
import { canonicalJson } from '../../src/model/canonical.ts';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import type { ProxyInfo } from '../resources/proxy.ts';
import {
  EXPLICIT_INBOUND_LISTENER,
  inboundClusterName,
  inboundStatPrefix,
  PASSTHROUGH_CLUSTER,
  VIRTUAL_INBOUND_LISTENER,
  type InboundSecurity,
} from '../resources/names.ts';
import { authzLocalReply, httpAuthzFilters, networkAuthzFilters } from './authz.ts';
import { FilterName, hcmFilter, socketAddress, tcpProxyFilter } from './common.ts';
import { originalDstFilter } from './listeners.ts';
import { memoByModelAndSpec } from './memo.ts';
import { inboundRoutes, rateLimitFilters } from './rate-limit.ts';
import { inboundPorts, lookupService, proxiedPorts, selectingServices, type InboundPort } from './model-view.ts';
import { downstreamMtlsSocket, INBOUND_HTTP_ALPN, MESH_TCP_ALPN } from './mtls.ts';

const ANY_IPV4 = '0.0.0.0';

export interface InboundPortPlan {
  readonly targetPort: number;
  readonly appProtocol: ServicePort['appProtocol'];
  readonly mode: MtlsMode;
  /** The RateLimitPolicy of the service this port serves (HTTP ports only). */
  readonly rateLimit?: ResolvedRateLimit;
}

/** Everything an inbound listener depends on. Modes are canonical: without TLS, PERMISSIVE is DISABLE. */
export interface InboundPlan {
  /** The proxy's trust domain when it has a workload certificate; absent: no TLS. */
  readonly trustDomain?: string;
  readonly ports: readonly InboundPortPlan[];
  /** Capture only: the workload-level mode, for traffic to ports the service does not declare. */
  readonly otherPorts?: MtlsMode;
  /** Explicit only: where the proxy listens. */
  readonly listenerPort?: number;
  /** The AuthorizationPolicies this workload enforces (and dry-runs); absent: none apply. */
  readonly authz?: WorkloadAuthz;
}

/** A canonical string for a plan: equal plans, equal keys. */
export function inboundPlanKey(plan: InboundPlan): string {
  // A policy is identified by its key: plans are compared within one model only (memo.ts).
  const ports = plan.ports.map((p) => `${p.targetPort}/${p.appProtocol}/${p.mode}/${p.rateLimit?.policy ?? ''}`).join(',');
  return `${plan.trustDomain ?? ''};${plan.otherPorts ?? ''};${plan.listenerPort ?? ''};${ports};${plan.authz ? canonicalJson(plan.authz) : ''}`;
}

function canonical(mode: MtlsMode, trustDomain: string | undefined): MtlsMode {
  return trustDomain === undefined && mode === 'PERMISSIVE' ? 'DISABLE' : mode;
}

/**
 * The inbound plan of a proxy: capture mode always (an unknown or absent service has no
 * ports, only the passthrough); explicit mode when it fronts a known service and declares
 * an inbound port; undefined otherwise.
 */
export function inboundPlan(model: MeshModel, proxy: ProxyInfo, trustDomain: string | undefined): InboundPlan | undefined {
  const workload = { namespace: proxy.namespace, labels: proxy.labels };
  const mode = (port?: number) => canonical(effectiveMtls(model, workload, port), trustDomain);
  const svc = proxy.service ? lookupService(model, proxy.namespace, proxy.service) : undefined;
  const td = trustDomain === undefined ? {} : { trustDomain };
  if (proxy.capture) {
    // An injected sidecar names no service (one Pod may back several): its services are the
    // ones whose selector matches its labels, as kube-proxy would pick it as an endpoint.
    const services = svc ? [svc] : selectingServices(model, proxy.namespace, proxy.labels);
    const byTarget = new Map<number, InboundPort & { rateLimit?: ResolvedRateLimit }>();
    for (const s of services) for (const p of inboundPorts(s)) if (!byTarget.has(p.targetPort)) byTarget.set(p.targetPort, withRateLimit(p, s));
    const ports = [...byTarget.values()].sort((a, b) => a.targetPort - b.targetPort).map((p) => ({ ...p, mode: mode(p.targetPort) }));
    const authz = workloadAuthz(
      model,
      proxy.namespace,
      services.map((s) => s.name),
    );
    return { ...td, ports, otherPorts: mode(), ...(authz ? { authz } : {}) };
  }
  if (proxy.inboundPort === undefined || !svc) return undefined;
  // A named targetPort resolves through the endpoints, and in explicit mode their port is
  // this listener itself: only a numeric targetPort says where the application listens.
  const port = proxiedPorts(svc).find((p): p is ServicePort & { targetPort: number } => typeof p.targetPort === 'number');
  if (!port) return undefined;
  const { targetPort, appProtocol } = port;
  const authz = workloadAuthz(model, proxy.namespace, [svc.name]);
  return {
    ...td,
    ports: [{ ...withRateLimit({ targetPort, appProtocol }, svc), mode: mode(targetPort) }],
    listenerPort: proxy.inboundPort,
    ...(authz ? { authz } : {}),
  };
}

/** The port with its service's RateLimitPolicy, when it has one and the port speaks HTTP. */
function withRateLimit(p: InboundPort, svc: MeshService): InboundPort & { rateLimit?: ResolvedRateLimit } {
  return svc.rateLimit && p.appProtocol !== 'tcp' ? { ...p, rateLimit: svc.rateLimit } : p;
}

/** Inline routes of an inbound HCM: everything to the local app, no Envoy timeout; rate limit rules first. */
function inboundRouteConfig(cluster: string, p: InboundPortPlan): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name: cluster,
    virtualHosts: [{ name: cluster, domains: ['*'], routes: inboundRoutes(p.rateLimit, p.targetPort, cluster) }],
  });
}

/** Refuses every connection (an RBAC filter allowing nothing) before the terminal filter. */
function denyAllFilter(statPrefix: string): Filter {
  const rbac = create(RBACSchema, { statPrefix, rules: { action: RBAC_Action.ALLOW } });
  return create(FilterSchema, { name: FilterName.networkRbac, configType: { case: 'typedConfig', value: anyPack(RBACSchema, rbac) } });
}

type Match = MessageInitShape<typeof FilterChainMatchSchema>;
type Predicate = MessageInitShape<typeof ListenerFilterChainMatchPredicateSchema>;

/** The chains of one port; `base` is the port match (capture) or nothing (explicit). */
function portChains(p: InboundPortPlan, base: Match, trustDomain: string | undefined, authz: WorkloadAuthz | undefined): FilterChain[] {
  const cluster = inboundClusterName(p.targetPort);
  const tcp = p.appProtocol === 'tcp';
  const actx = { port: p.targetPort, ...(trustDomain === undefined ? {} : { trustDomain }) };
  // Authorization first: a denied request never reaches rate limits or the app.
  const httpFilters = httpAuthzFilters(authz, actx);
  const localReply = httpFilters.length > 0 ? { localReply: authzLocalReply() } : {};
  // One stat prefix per chain: its suffix tells mTLS from plaintext in the stats (docs/telemetry.md).
  const app = (security: InboundSecurity) => {
    const statPrefix = inboundStatPrefix(p.targetPort, security);
    return tcp
      ? tcpProxyFilter(statPrefix, cluster)
      : hcmFilter({
          statPrefix,
          routes: { inline: inboundRouteConfig(cluster, p) },
          httpFilters: [...httpFilters, ...rateLimitFilters(p.rateLimit)],
          ...localReply,
        });
  };
  // TCP: the network RBAC filters before tcp_proxy (HTTP authorizes in the connection manager).
  const filters = (security: InboundSecurity) => [...(tcp ? networkAuthzFilters(authz, actx, inboundStatPrefix(p.targetPort, security)) : []), app(security)];
  const alpn = tcp ? [] : INBOUND_HTTP_ALPN;
  const chain = (name: string, match: Match, filters: Filter[], tls: boolean) =>
    create(FilterChainSchema, {
      name,
      ...(Object.keys(match).length > 0 ? { filterChainMatch: match } : {}),
      filters,
      ...(tls && trustDomain !== undefined ? { transportSocket: downstreamMtlsSocket(trustDomain, alpn) } : {}),
    });
  if (trustDomain === undefined) {
    // Without a certificate nothing can be terminated; STRICT fails closed.
    return p.mode === 'STRICT'
      ? [chain(`${cluster}denied`, base, [denyAllFilter(inboundStatPrefix(p.targetPort, 'plaintext')), app('plaintext')], false)]
      : [chain(cluster, base, filters('plaintext'), false)];
  }
  switch (p.mode) {
    case 'STRICT':
      return [chain(`${cluster}mtls`, base, filters('mtls'), true)];
    case 'DISABLE':
      return [chain(cluster, base, filters('plaintext'), false)];
    case 'PERMISSIVE':
      return [
        chain(`${cluster}mtls`, { ...base, transportProtocol: 'tls', ...(tcp ? { applicationProtocols: [MESH_TCP_ALPN] } : {}) }, filters('mtls'), true),
        // Opaque TCP: TLS without the mesh ALPN is the application's own; pass it through.
        ...(tcp ? [chain(`${cluster}tls`, { ...base, transportProtocol: 'tls' }, filters('tls'), false)] : []),
        chain(cluster, base, filters('plaintext'), false),
      ];
  }
}

/** tls_inspector, run only for connections to the given ports (capture) or to every connection. */
function tlsInspector(onlyPorts?: readonly number[]): ListenerFilter {
  const port = (p: number): Predicate => ({ rule: { case: 'destinationPortRange', value: { start: p, end: p + 1 } } });
  let disabled: Predicate | undefined;
  if (onlyPorts && onlyPorts.length > 0) {
    // MatchSet needs at least two rules.
    const [first, ...rest] = onlyPorts;
    const match: Predicate = rest.length === 0 ? port(first as number) : { rule: { case: 'orMatch', value: { rules: onlyPorts.map(port) } } };
    disabled = { rule: { case: 'notMatch', value: create(ListenerFilterChainMatchPredicateSchema, match) } };
  }
  return create(ListenerFilterSchema, {
    name: FilterName.tlsInspector,
    configType: { case: 'typedConfig', value: anyPack(TlsInspectorSchema, create(TlsInspectorSchema)) },
    ...(disabled ? { filterDisabled: disabled } : {}),
  });
}

/** Ports whose chains match on what tls_inspector finds. */
function inspectedPorts(plan: InboundPlan): number[] {
  return plan.trustDomain === undefined ? [] : plan.ports.filter((p) => p.mode === 'PERMISSIVE').map((p) => p.targetPort);
}

/** Traffic to ports the service does not declare: original destination, mTLS first when STRICT. */
function passthroughChain(mode: MtlsMode, trustDomain: string | undefined, authz: WorkloadAuthz | undefined): FilterChain {
  // Ports the service does not declare are still the workload's: its policies apply (the port is the original destination's).
  const guards = networkAuthzFilters(authz, trustDomain === undefined ? {} : { trustDomain }, 'InboundPassthrough');
  const passthrough = tcpProxyFilter('InboundPassthrough', PASSTHROUGH_CLUSTER);
  if (mode !== 'STRICT') return create(FilterChainSchema, { name: 'InboundPassthroughFilterChain', filters: [...guards, passthrough] });
  if (trustDomain === undefined) {
    return create(FilterChainSchema, { name: 'InboundPassthroughFilterChain', filters: [denyAllFilter('InboundPassthrough'), passthrough] });
  }
  return create(FilterChainSchema, {
    name: 'InboundPassthroughFilterChain',
    filters: [...guards, passthrough],
    transportSocket: downstreamMtlsSocket(trustDomain, []),
  });
}

/** Captured inbound traffic (0.0.0.0:15006), one or more chains per target port. */
export const virtualInboundListener = memoByModelAndSpec(inboundPlanKey, (_model: MeshModel, plan: InboundPlan): Listener => {
  const inspected = inspectedPorts(plan);
  return create(ListenerSchema, {
    name: VIRTUAL_INBOUND_LISTENER,
    address: socketAddress(ANY_IPV4, MeshPorts.inbound),
    trafficDirection: TrafficDirection.INBOUND,
    listenerFilters: [originalDstFilter(), ...(inspected.length > 0 ? [tlsInspector(inspected)] : [])],
    ...(inspected.length > 0 ? { continueOnListenerFiltersTimeout: true } : {}),
    filterChains: plan.ports.flatMap((p) => portChains(p, { destinationPort: p.targetPort }, plan.trustDomain, plan.authz)),
    defaultFilterChain: passthroughChain(plan.otherPorts ?? 'DISABLE', plan.trustDomain, plan.authz),
  });
});

/** A standalone proxy's inbound listener on 0.0.0.0:<inboundPort>, for its one fronted port. */
export const explicitInboundListener = memoByModelAndSpec(inboundPlanKey, (_model: MeshModel, plan: InboundPlan): Listener => {
  const inspect = inspectedPorts(plan).length > 0;
  return create(ListenerSchema, {
    name: EXPLICIT_INBOUND_LISTENER,
    address: socketAddress(ANY_IPV4, plan.listenerPort ?? 0),
    trafficDirection: TrafficDirection.INBOUND,
    listenerFilters: inspect ? [tlsInspector()] : [],
    ...(inspect ? { continueOnListenerFiltersTimeout: true } : {}),
    filterChains: plan.ports.flatMap((p) => portChains(p, {}, plan.trustDomain, plan.authz)),
  });
});
