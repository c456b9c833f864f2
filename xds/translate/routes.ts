// RDS: route configurations, computed once per (model, caller namespace) and shared by
// every proxy in that namespace. The namespace matters only for the short host name
// (`checkout` resolves only for callers in the service's own namespace).
//
//   capture   one config per service port with a ClusterIP, `outbound|8080||<fqdn>` (one
//             virtual host, any Host: the ClusterIP chose it); one per outbound port, named
//             by the port (`8080`): virtual hosts for services without a ClusterIP, then
//             `allow_any` → PassthroughCluster. See outbound-ports.ts for why.
//   explicit  one config `explicitOutbound`: a virtual host per service port; host names
//             carry the port (without it only for port 80, as HTTP clients omit it).
//   proxyless one config per gRPC service port, shared by its API listeners.
//
// Model inputs: services (name, namespace, clusterIP, ports, split, retry, fault). Ignores
// endpoints and peerAuths.
import { create } from '@bufbuild/protobuf';
import { RouteConfigurationSchema, type RouteConfiguration } from '../gen/envoy/config/route/v3/route_pb.js';
import { RouteSchema, VirtualHostSchema, type VirtualHost } from '../gen/envoy/config/route/v3/route_components_pb.js';
import type { MeshModel, MeshService, ServicePort } from '../../src/model/types.ts';
import {
  EXPLICIT_OUTBOUND_ROUTE,
  outboundPortRouteName,
  outboundServiceRouteName,
  PASSTHROUGH_CLUSTER,
  proxylessRouteName,
  serviceDomains,
  serviceHostPorts,
  serviceHosts,
  virtualHostName,
} from '../resources/names.ts';
import { duration, sortByName } from './common.ts';
import { compareStrings } from '../../src/base/order.ts';
import { faultPerFilterConfig } from './fault.ts';
import { memoByModel, memoByModelAndKey } from './memo.ts';
import { isHttp2Port, isHttpPort, sortedServices, usableClusterIP } from './model-view.ts';
import { outboundPorts, type OutboundPort } from './outbound-ports.ts';
import { egressView } from './egress.ts';
import { serviceRoutes, type RouteFlavor } from './route-rules.ts';

const sidecar: RouteFlavor = { proxyless: false };
const proxyless: RouteFlavor = { proxyless: true };

/** Name of the catch-all virtual host of capture-mode route configs. */
export const ALLOW_ANY_VHOST = 'allow_any';

interface VhostSpec {
  readonly svc: MeshService;
  readonly port: ServicePort;
  readonly domains: readonly string[];
}

/**
 * Envoy rejects a route config in which two virtual hosts share a domain. Specs arrive
 * sorted by service key, so the first claimant keeps a contested domain; a virtual host
 * left with no domain is dropped.
 */
function virtualHosts(model: MeshModel, specs: readonly VhostSpec[], flavor: RouteFlavor): VirtualHost[] {
  const taken = new Set<string>();
  const out: VirtualHost[] = [];
  for (const s of specs) {
    const domains = [...new Set(s.domains)].filter((d) => !taken.has(d)).sort(compareStrings);
    if (domains.length === 0) continue;
    for (const d of domains) taken.add(d);
    out.push(
      create(VirtualHostSchema, {
        name: virtualHostName(s.svc, s.port.port),
        domains,
        routes: serviceRoutes(model, s.svc, s.port, flavor),
        // Proxyless gRPC clients have no fault filter in their HTTP connection manager.
        ...(s.svc.fault && !flavor.proxyless ? { typedPerFilterConfig: faultPerFilterConfig(s.svc.fault) } : {}),
      }),
    );
  }
  return sortByName(out);
}

/** Unknown Host on a mesh port under capture: forward to the original destination. */
const allowAny: VirtualHost = create(VirtualHostSchema, {
  name: ALLOW_ANY_VHOST,
  domains: ['*'],
  routes: [
    create(RouteSchema, {
      name: 'allow_any',
      match: { pathSpecifier: { case: 'prefix', value: '/' } },
      action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: PASSTHROUGH_CLUSTER }, timeout: duration(0) } },
    }),
  ],
});

function clusterIPDomains(svc: MeshService, port: number, withBare: boolean): string[] {
  const ip = usableClusterIP(svc);
  if (!ip) return [];
  const host = ip.includes(':') ? `[${ip}]` : ip; // IPv6 literals are bracketed in Host
  return withBare ? [host, `${host}:${port}`] : [`${host}:${port}`];
}

/**
 * Capture mode, per outbound HTTP port: the port's config (the listener's unmatched chain;
 * Host routing for service ports without a chain of their own, then allow_any), and one
 * config per service port with a ClusterIP chain (outbound-ports.ts). The per-service configs
 * do not depend on the caller's namespace: shared by every capture-mode proxy of a model.
 */
export const captureRoutes = memoByModelAndKey((model: MeshModel, ns: string): readonly RouteConfiguration[] =>
  sortByName([...portRouteConfigs(model, outboundPorts(model), ns), ...serviceRouteConfigs(model)]),
);

/**
 * captureRoutes of a proxy with an egress scope (egress.ts), key `<ns>\n<egress key>`: the
 * per-port configs rebuilt from its ports, the per-service configs of its Services (the same
 * objects unscoped proxies get).
 */
export const scopedCaptureRoutes = memoByModelAndKey((model: MeshModel, nsAndEgress: string): readonly RouteConfiguration[] => {
  const [ns = '', egress = ''] = nsAndEgress.split('\n');
  const view = egressView(model, egress);
  const wanted = new Set(view.ports.flatMap((p) => p.byIP.filter((c) => c.http).map((c) => outboundServiceRouteName(c.svc, p.port))));
  return sortByName([...portRouteConfigs(model, view.ports, ns), ...serviceRouteConfigs(model).filter((rc) => wanted.has(rc.name))]);
});

function portRouteConfigs(model: MeshModel, ports: readonly OutboundPort[], ns: string): RouteConfiguration[] {
  return ports
    .filter((p) => p.http)
    .map(({ port, byHost }) =>
      create(RouteConfigurationSchema, {
        name: outboundPortRouteName(port),
        virtualHosts: [
          ...virtualHosts(
            model,
            byHost.map(({ svc, port: sp }) => ({ svc, port: sp, domains: [...serviceDomains(svc, port, ns), ...clusterIPDomains(svc, port, true)] })),
            sidecar,
          ),
          allowAny,
        ],
      }),
    );
}

/** One config per service port that has a ClusterIP chain: its one virtual host takes every Host. */
const serviceRouteConfigs = memoByModel((model: MeshModel): readonly RouteConfiguration[] =>
  outboundPorts(model).flatMap(({ port, byIP }) =>
    byIP
      .filter((c) => c.http)
      .map(({ svc, port: sp }) =>
        create(RouteConfigurationSchema, {
          name: outboundServiceRouteName(svc, port),
          virtualHosts: virtualHosts(model, [{ svc, port: sp, domains: ['*'] }], sidecar),
        }),
      ),
  ),
);

/** Explicit mode: the HTTP proxy's single config; Host carries `name:port` (bare name on port 80). */
export const explicitRoutes = memoByModelAndKey((model: MeshModel, ns: string): readonly RouteConfiguration[] =>
  explicitRouteConfigs(model, sortedServices(model), ns),
);

/** explicitRoutes of a scoped proxy (`<ns>\n<egress key>`): virtual hosts of its Services only. */
export const scopedExplicitRoutes = memoByModelAndKey((model: MeshModel, nsAndEgress: string): readonly RouteConfiguration[] => {
  const [ns = '', egress = ''] = nsAndEgress.split('\n');
  return explicitRouteConfigs(model, egressView(model, egress).services, ns);
});

function explicitRouteConfigs(model: MeshModel, services: readonly MeshService[], ns: string): readonly RouteConfiguration[] {
  const specs = services.flatMap((svc) =>
    svc.ports
      .filter(isHttpPort)
      .sort((a, b) => a.port - b.port)
      .map((port) => ({
        svc,
        port,
        domains: [
          ...serviceHostPorts(svc, port.port, ns),
          ...(port.port === 80 ? serviceHosts(svc, ns) : []),
          ...clusterIPDomains(svc, port.port, port.port === 80),
        ],
      })),
  );
  return [create(RouteConfigurationSchema, { name: EXPLICIT_OUTBOUND_ROUTE, virtualHosts: virtualHosts(model, specs, sidecar) })];
}

/** Proxyless gRPC: one config per gRPC/HTTP2 service port, referenced by all its API listeners. */
export const proxylessRoutes = memoByModelAndKey((model: MeshModel, ns: string): readonly RouteConfiguration[] =>
  proxylessRouteConfigs(model, sortedServices(model), ns),
);

/** proxylessRoutes of a scoped client (`<ns>\n<egress key>`). */
export const scopedProxylessRoutes = memoByModelAndKey((model: MeshModel, nsAndEgress: string): readonly RouteConfiguration[] => {
  const [ns = '', egress = ''] = nsAndEgress.split('\n');
  return proxylessRouteConfigs(model, egressView(model, egress).services, ns);
});

function proxylessRouteConfigs(model: MeshModel, services: readonly MeshService[], ns: string): readonly RouteConfiguration[] {
  const configs = services.flatMap((svc) =>
    svc.ports.filter(isHttp2Port).map((port) =>
      create(RouteConfigurationSchema, {
        name: proxylessRouteName(svc, port.port),
        virtualHosts: virtualHosts(model, [{ svc, port, domains: serviceDomains(svc, port.port, ns) }], proxyless),
      }),
    ),
  );
  return sortByName(configs);
}
