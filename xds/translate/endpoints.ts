// EDS: one ClusterLoadAssignment per outbound cluster, shared by every proxy of a model.
//
// Model inputs: services[].ports[].endpoints (address, port, ready, zone, meshed). Not-ready
// endpoints are omitted rather than sent as UNHEALTHY: Envoy would still count them for
// panic thresholds. One locality group per zone, so proxyless gRPC (which balances
// across localities by weight first) spreads load like Envoy's round robin. Meshed
// endpoints carry the transport-socket-match marker that selects the cluster's mTLS
// socket (mtls.ts); clients without a certificate have no such match and ignore it.
// Ignores policies, clusterIP and peerAuths (already folded into `meshed`).
import { create } from '@bufbuild/protobuf';
import { HealthStatus } from '../gen/envoy/config/core/v3/health_check_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { LocalityLbEndpointsSchema, type LocalityLbEndpoints } from '../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import type { EndpointAddress, MeshModel, MeshService, ServicePort } from '../../src/model/types.ts';
import { outboundClusterName } from '../resources/names.ts';
import { socketAddress, sortByName } from './common.ts';
import { compareStrings } from '../../src/base/order.ts';
import { memoByModel } from './memo.ts';
import { proxiedPorts, sortedServices } from './model-view.ts';
import { meshedEndpointMetadata } from './mtls.ts';

/** Ready endpoints grouped by zone (one locality each, '' = unknown), deduplicated and sorted. */
function localities(endpoints: readonly EndpointAddress[]): LocalityLbEndpoints[] {
  const byZone = new Map<string, Map<string, EndpointAddress>>();
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    const zone = ep.zone ?? '';
    let group = byZone.get(zone);
    if (!group) byZone.set(zone, (group = new Map()));
    group.set(`${ep.address}|${ep.port}`, ep);
  }
  return [...byZone.keys()].sort(compareStrings).map((zone) => {
    const eps = [...(byZone.get(zone)?.values() ?? [])].sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
    return create(LocalityLbEndpointsSchema, {
      // gRPC rejects a locality group without `locality` and ignores one without a weight
      // (Envoy ignores the weight unless locality-weighted LB is on): weight = its size.
      locality: zone ? { zone } : {},
      loadBalancingWeight: eps.length,
      lbEndpoints: eps.map((ep) => ({
        hostIdentifier: { case: 'endpoint' as const, value: { address: socketAddress(ep.address, ep.port) } },
        healthStatus: HealthStatus.HEALTHY,
        ...(ep.meshed ? { metadata: meshedEndpointMetadata() } : {}),
      })),
    });
  });
}

/** The CLA for one service port. An empty `endpoints` list is valid: the cluster has no hosts (503). */
export function loadAssignment(svc: MeshService, port: ServicePort): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName: outboundClusterName(svc, port.port),
    endpoints: localities(port.endpoints),
  });
}

/** Every CLA of the model, sorted by cluster name; shared by all proxies. */
export const loadAssignments = memoByModel((model: MeshModel): readonly ClusterLoadAssignment[] =>
  sortByName(
    sortedServices(model).flatMap((svc) => proxiedPorts(svc).map((p) => ({ name: outboundClusterName(svc, p.port), cla: loadAssignment(svc, p) }))),
  ).map((e) => e.cla),
);
