// EDS: one ClusterLoadAssignment per outbound cluster, shared by every proxy of a model.
//
// Model inputs: services[].ports[].endpoints (address, port, ready, zone, meshed). Not-ready
// endpoints are omitted rather than sent as UNHEALTHY: Envoy would still count them for
// panic thresholds. One locality group per zone, so proxyless gRPC (which balances
// across localities by weight first) spreads load like Envoy's round robin. Meshed
// endpoints carry the transport-socket-match marker that selects the cluster's mTLS
// socket (mtls.ts); clients without a certificate have no such match and ignore it.
//
// Zone failover (BackendPolicy locality.mode Failover): for a caller that knows its zone
// (ProxyInfo.zone), the localities of its own zone get priority 0 and every other zone
// priority 1. Envoy sends everything to priority 0 while it has healthy hosts (overprovisioning
// factor 1.4: until fewer than ~72 % are healthy) and spills to priority 1 as they fail; since
// unready endpoints are omitted, a zone with none ready is simply absent, and the rest move up
// to priority 0. Such CLAs are per (model, zone); without a policy or a zone they are shared.
// Ignores other policies, clusterIP and peerAuths (already folded into `meshed`).
import { create } from '@bufbuild/protobuf';
import { HealthStatus } from '../gen/envoy/config/core/v3/health_check_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { LocalityLbEndpointsSchema, type LocalityLbEndpoints } from '../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import type { EndpointAddress, MeshModel, MeshService, ServicePort } from '../../src/model/types.ts';
import { outboundClusterName } from '../resources/names.ts';
import { socketAddress, sortByName } from './common.ts';
import { compareStrings } from '../../src/base/order.ts';
import { memoByModel, memoByModelAndKey } from './memo.ts';
import { proxiedPorts, sortedServices } from './model-view.ts';
import { meshedEndpointMetadata } from './mtls.ts';

/**
 * Ready endpoints grouped by zone (one locality each, '' = unknown), deduplicated and sorted;
 * with `localZone`, other zones at priority 1 when that zone has a ready endpoint.
 */
function localities(endpoints: readonly EndpointAddress[], localZone = ''): LocalityLbEndpoints[] {
  const byZone = new Map<string, Map<string, EndpointAddress>>();
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    const zone = ep.zone ?? '';
    let group = byZone.get(zone);
    if (!group) byZone.set(zone, (group = new Map()));
    group.set(`${ep.address}|${ep.port}`, ep);
  }
  const failover = localZone !== '' && byZone.has(localZone);
  return [...byZone.keys()].sort(compareStrings).map((zone) => {
    const eps = [...(byZone.get(zone)?.values() ?? [])].sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
    return create(LocalityLbEndpointsSchema, {
      // gRPC rejects a locality group without `locality` and ignores one without a weight
      // (Envoy ignores the weight unless locality-weighted LB is on): weight = its size.
      locality: zone ? { zone } : {},
      loadBalancingWeight: eps.length,
      ...(failover && zone !== localZone ? { priority: 1 } : {}),
      lbEndpoints: eps.map((ep) => ({
        hostIdentifier: { case: 'endpoint' as const, value: { address: socketAddress(ep.address, ep.port) } },
        healthStatus: HealthStatus.HEALTHY,
        ...(ep.meshed ? { metadata: meshedEndpointMetadata() } : {}),
      })),
    });
  });
}

/**
 * The CLA for one service port, as a caller in `callerZone` sees it. An empty `endpoints`
 * list is valid: the cluster has no hosts (503).
 */
export function loadAssignment(svc: MeshService, port: ServicePort, callerZone = ''): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName: outboundClusterName(svc, port.port),
    endpoints: localities(port.endpoints, svc.backend?.zoneFailover ? callerZone : ''),
  });
}

/** Whether any service asks for zone failover: only then do CLAs depend on the caller's zone. */
export const zoneFailoverInUse = memoByModel((model: MeshModel): boolean => [...model.services.values()].some((s) => s.backend?.zoneFailover));

const allLoadAssignments = memoByModelAndKey((model: MeshModel, callerZone: string): readonly ClusterLoadAssignment[] => {
  // CLAs of services without failover are the same message objects for every zone.
  const shared = callerZone === '' ? undefined : new Map(allLoadAssignments(model, '').map((c) => [c.clusterName, c]));
  const entries = sortedServices(model).flatMap((svc) =>
    proxiedPorts(svc).map((p) => {
      const name = outboundClusterName(svc, p.port);
      const same = svc.backend?.zoneFailover ? undefined : shared?.get(name);
      return { name, cla: same ?? loadAssignment(svc, p, callerZone) };
    }),
  );
  return sortByName(entries).map((e) => e.cla);
});

/** Every CLA of the model for a caller in `callerZone` ('' = unknown), sorted by cluster name. */
export function loadAssignments(model: MeshModel, callerZone = ''): readonly ClusterLoadAssignment[] {
  return allLoadAssignments(model, zoneFailoverInUse(model) ? callerZone : '');
}
