// Capture mode's outbound ports: which service ports get a filter chain of their own (matched
// by ClusterIP) and which are routed by Host on the port's shared chain. Listeners and routes
// both read it, so a chain and the route config it names always agree.
//
// Why per service: a route change (a split flip, a retry policy) then changes one small route
// configuration, `outbound|<port>||<fqdn>`, instead of the port's config that held a virtual
// host for every service of the mesh: each proxy is sent ≈ 1 KB instead of the whole port
// (issue 11), and a configuration Envoy rejects stays within its own service (issue 13).
// The ClusterIP already names the service, so its config needs no Host matching: its one
// virtual host takes every Host (`*`), and it is the same for callers of every namespace.
// Host routing stays for what has no ClusterIP (headless services) and for unknown
// destinations (`allow_any` → PassthroughCluster).
import type { MeshModel, MeshService, ServicePort } from '../../src/model/types.ts';
import { compareStrings } from '../../src/base/order.ts';
import { memoByModel } from './memo.ts';
import { isHttpPort, isReservedPort, proxiedPorts, sortedServices, usableClusterIP } from './model-view.ts';

export interface IpChain {
  readonly ip: string;
  readonly svc: MeshService;
  readonly port: ServicePort;
  readonly http: boolean;
}

export interface OutboundPort {
  readonly port: number;
  /** One chain per ClusterIP on this port (the first service by key claims an IP), sorted by IP. */
  readonly byIP: readonly IpChain[];
  /** HTTP service ports without a chain of their own: routed by Host on the port's shared config. */
  readonly byHost: readonly { readonly svc: MeshService; readonly port: ServicePort }[];
  /** Any HTTP service uses the port: its fallback chain is HTTP (Host routing, allow_any). */
  readonly http: boolean;
}

/** Outbound ports in number order (reserved ports excluded). */
export const outboundPorts = memoByModel((model: MeshModel): readonly OutboundPort[] => {
  const byPort = new Map<number, { byIP: Map<string, IpChain>; byHost: { svc: MeshService; port: ServicePort }[]; http: boolean }>();
  for (const svc of sortedServices(model)) {
    for (const port of proxiedPorts(svc)) {
      if (isReservedPort(port.port)) continue;
      let entry = byPort.get(port.port);
      if (entry === undefined) byPort.set(port.port, (entry = { byIP: new Map(), byHost: [], http: false }));
      const http = isHttpPort(port);
      if (http) entry.http = true;
      const ip = usableClusterIP(svc);
      if (ip !== undefined && !entry.byIP.has(ip)) entry.byIP.set(ip, { ip, svc, port, http });
      else if (http && !entry.byHost.some((e) => e.svc === svc)) entry.byHost.push({ svc, port });
    }
  }
  return [...byPort]
    .sort(([a], [b]) => a - b)
    .map(([port, e]) => ({ port, byIP: [...e.byIP.values()].sort((a, b) => compareStrings(a.ip, b.ip)), byHost: e.byHost, http: e.http }));
});
