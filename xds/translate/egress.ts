// Egress scope (src/api/egress.ts): the part of the model's outbound config a scoped proxy
// receives. A proxy whose scope is `shop/*, payments/billing` gets the listener chains and route
// configurations of those Services, and the clusters and endpoints of those Services plus the
// backends their TrafficSplits send to (a route to `checkout` may land on `checkout-v2`).
//
// Everything here filters what the unscoped builders produce for the whole model, so a scoped
// proxy's clusters, CLAs and per-service route configurations are the very message objects
// unscoped proxies get (encoded once for all of them; memo.ts). Only what aggregates several
// services is rebuilt per scope: the per-port listeners (one chain per ClusterIP) and the
// per-port route configurations (Host routing for headless services, then allow_any).
//
// Traffic to a Service outside the scope finds no chain for its ClusterIP: it takes the
// listener's fallback (allow_any / passthrough) or, on a port no selected Service uses,
// virtualOutbound's passthrough chain — plaintext to the original destination.
import type { MeshModel, MeshService } from '../../src/model/types.ts';
import { egressSelects } from '../../src/api/egress.ts';
import { outboundClusterName } from '../resources/names.ts';
import { memoByModelAndKey } from './memo.ts';
import { lookupService, proxiedPorts, sortedServices } from './model-view.ts';
import { outboundPorts, type OutboundPort } from './outbound-ports.ts';

export interface EgressView {
  /** The selected Services, in sortedServices order. */
  readonly services: readonly MeshService[];
  /** `namespace/name` of the selected Services. */
  readonly serviceKeys: ReadonlySet<string>;
  /** Outbound cluster (and CLA) names: the selected Services' and their split backends'. */
  readonly clusters: ReadonlySet<string>;
  /** outboundPorts(model) restricted to the selected Services; ports left with nothing are dropped. */
  readonly ports: readonly OutboundPort[];
}

/** The key of a resolved scope: its entries joined (they are canonical and sorted). */
export function egressKey(hosts: readonly string[]): string {
  return hosts.join(',');
}

function hostsOf(key: string): readonly string[] {
  return key === '' ? [] : key.split(',');
}

/** What a proxy with scope `key` (egressKey) receives of `model`; memoized per (model, scope). */
export const egressView = memoByModelAndKey((model: MeshModel, key: string): EgressView => {
  const hosts = hostsOf(key);
  const services = sortedServices(model).filter((s) => egressSelects(hosts, s.namespace, s.name));
  const serviceKeys = new Set(services.map((s) => `${s.namespace}/${s.name}`));
  const clusters = new Set<string>();
  const addClusters = (svc: MeshService): void => {
    for (const p of proxiedPorts(svc)) clusters.add(outboundClusterName(svc, p.port));
  };
  for (const svc of services) {
    addClusters(svc);
    for (const b of svc.split?.backends ?? []) {
      const backend = lookupService(model, svc.namespace, b.service);
      if (backend !== undefined) addClusters(backend);
    }
  }
  const selected = (svc: MeshService): boolean => serviceKeys.has(`${svc.namespace}/${svc.name}`);
  const ports = outboundPorts(model).flatMap((p): OutboundPort[] => {
    const byIP = p.byIP.filter((c) => selected(c.svc));
    const byHost = p.byHost.filter((h) => selected(h.svc));
    if (byIP.length === 0 && byHost.length === 0) return [];
    return [{ port: p.port, byIP, byHost, http: byHost.length > 0 || byIP.some((c) => c.http) }];
  });
  return { services, serviceKeys, clusters, ports };
});

/** `items` restricted to names in `names`, order kept (lists are sorted by name). */
export function withNames<T>(items: readonly T[], name: (t: T) => string, names: ReadonlySet<string>): readonly T[] {
  return items.filter((t) => names.has(name(t)));
}
