// Read-only views over the MeshModel that several builders share: which ports Envoy
// proxies, how they speak, and the services in a stable order.
import type { MeshModel, MeshService, ServicePort } from '../../src/model/types.ts';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import { memoByModel } from './memo.ts';
import { compareStrings } from '../../src/base/order.ts';

/** Ports a sidecar's Envoy binds itself (not the control plane's: those are ordinary ports in a pod). */
const reservedPorts: ReadonlySet<number> = new Set([MeshPorts.outbound, MeshPorts.inbound, MeshPorts.admin, MeshPorts.stats, MeshPorts.readiness]);

/**
 * Ports the proxy itself uses (15001, 15006, …). A per-port outbound listener there would
 * share virtualOutbound's address, which Envoy rejects; such traffic passes through.
 */
export function isReservedPort(port: number): boolean {
  return reservedPorts.has(port);
}

/** Services sorted by namespace then name, whatever order the map was built in. */
export const sortedServices = memoByModel((model: MeshModel): readonly MeshService[] =>
  [...model.services.values()].sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name)),
);

export function lookupService(model: MeshModel, namespace: string, name: string): MeshService | undefined {
  return model.services.get(`${namespace}/${name}`);
}

/**
 * Services of `namespace` whose (non-empty) selector matches `labels`, by name: the
 * services a Pod with those labels backs.
 */
export function selectingServices(model: MeshModel, namespace: string, labels: Readonly<Record<string, string>>): MeshService[] {
  const out: MeshService[] = [];
  for (const s of model.services.values()) {
    if (s.namespace !== namespace || !s.selector) continue;
    const sel = Object.entries(s.selector);
    if (sel.length > 0 && sel.every(([k, v]) => labels[k] === v)) out.push(s);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Envoy proxies TCP ports only; UDP and SCTP ports get no clusters or listeners. */
export function isProxiedPort(p: ServicePort): boolean {
  return p.protocol === 'TCP';
}

/** Ports routed at L7 (HTTP connection manager). `tcp` ports are forwarded as bytes. */
export function isHttpPort(p: ServicePort): boolean {
  return isProxiedPort(p) && p.appProtocol !== 'tcp';
}

/** Ports whose upstream speaks HTTP/2 (prior knowledge): grpc and http2. */
export function isHttp2Port(p: ServicePort): boolean {
  return isProxiedPort(p) && (p.appProtocol === 'grpc' || p.appProtocol === 'http2');
}

/** Proxied ports of a service, sorted by port number. */
export function proxiedPorts(svc: MeshService): ServicePort[] {
  return svc.ports.filter(isProxiedPort).sort((a, b) => a.port - b.port);
}

/** The ClusterIP when it is a routable address (headless services have none or `None`). */
export function usableClusterIP(svc: MeshService): string | undefined {
  const ip = svc.clusterIP;
  return ip && ip !== 'None' ? ip : undefined;
}

export interface InboundPort {
  readonly targetPort: number;
  readonly appProtocol: ServicePort['appProtocol'];
}

/**
 * The application ports behind a service, for a proxy fronting it. A named targetPort is
 * resolved through the endpoint list (EndpointSlices carry the number). When two service
 * ports share a target port the lowest service port wins, so filter chains never clash.
 */
export function inboundPorts(svc: MeshService): InboundPort[] {
  const byTarget = new Map<number, InboundPort>();
  for (const p of proxiedPorts(svc)) {
    const targets = typeof p.targetPort === 'number' ? [p.targetPort] : [...new Set(p.endpoints.map((e) => e.port))].sort((a, b) => a - b);
    for (const targetPort of targets) {
      if (!byTarget.has(targetPort)) byTarget.set(targetPort, { targetPort, appProtocol: p.appProtocol });
    }
  }
  return [...byTarget.values()].sort((a, b) => a.targetPort - b.targetPort);
}
