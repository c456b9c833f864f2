// CDS: one EDS cluster per proxied service port (shared by every proxy of a model), the
// ORIGINAL_DST passthrough cluster, and STATIC inbound clusters to the local app.
//
// Model inputs: services[].ports (port, protocol, appProtocol, targetPort, endpoints for
// named target ports); retry budget and outlier detection via cluster-policy.ts (own
// RetryPolicy, else a split root's); lb_policy and pool limits from the service's own
// BackendPolicy (backend-policy.ts). Ignores route-level policy, clusterIP and peerAuths
// (which endpoints accept mTLS is already in endpoints[].meshed; see endpoints.ts).
//
// Auto mTLS: for a proxy with a certificate (a SPIFFE identity), every outbound cluster
// carries transport_socket_matches — mTLS to endpoints marked meshed, plaintext to the
// rest — so an endpoint gaining or losing its sidecar changes only EDS, never CDS.
// Proxies without one (and proxyless gRPC, which has no SDS and whose Java and Go
// implementations reject socket matches) get the same clusters without them.
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_LbPolicy, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpProtocolOptionsSchema } from '../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { ClusterLoadAssignmentSchema } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { MeshModel, MeshService, ServicePort } from '../../src/model/types.ts';
import { inboundClusterName, outboundClusterName, PASSTHROUGH_CLUSTER, serviceFqdn } from '../resources/names.ts';
import { adsConfigSource, duration, FilterName, sortByName, socketAddress } from './common.ts';
import { circuitBreakers, clusterResilience, outlierDetection, type ClusterResilience } from './cluster-policy.ts';
import { memoByModel, memoByModelAndKey } from './memo.ts';
import { lbPolicy } from './backend-policy.ts';
import { isHttp2Port, isHttpPort, proxiedPorts, sortedServices, type InboundPort } from './model-view.ts';
import { autoMtlsSocketMatches, MESH_TCP_ALPN } from './mtls.ts';

/** TCP connect timeout for every cluster (Envoy's default of 5s is fine for pods; 10s tolerates VMs). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Loopback address the sidecar uses to reach its own application. */
export const LOCAL_APP_ADDRESS = '127.0.0.1';

/**
 * typed_extension_protocol_options: HTTP/2 (prior knowledge) to the upstream when `http2`,
 * else HTTP/1.1 (Envoy's default, explicit because the message requires a protocol); a
 * BackendPolicy's requests-per-connection limit rides along.
 */
function httpOptions(http2: boolean, maxRequestsPerConnection?: number): Record<string, Any> {
  const options = create(HttpProtocolOptionsSchema, {
    ...(maxRequestsPerConnection === undefined ? {} : { commonHttpProtocolOptions: { maxRequestsPerConnection } }),
    upstreamProtocolOptions: {
      case: 'explicitHttpConfig',
      value: { protocolConfig: http2 ? { case: 'http2ProtocolOptions', value: {} } : { case: 'httpProtocolOptions', value: {} } },
    },
  });
  return { [FilterName.upstreamHttpProtocolOptions]: anyPack(HttpProtocolOptionsSchema, options) };
}

const http2Options = () => httpOptions(true);

/** Protocol options of an outbound cluster, if it needs any. */
function outboundHttpOptions(svc: MeshService, port: ServicePort): Record<string, Any> | undefined {
  const perConnection = isHttpPort(port) ? svc.backend?.connectionPool.maxRequestsPerConnection : undefined;
  if (isHttp2Port(port) || perConnection !== undefined) return httpOptions(isHttp2Port(port), perConnection);
  return undefined;
}

/** ALPN a client offers when it originates mTLS to a service port: what the upstream codec speaks. */
function upstreamAlpn(port: ServicePort): readonly string[] {
  if (port.appProtocol === 'tcp') return [MESH_TCP_ALPN];
  return isHttp2Port(port) ? ['h2'] : ['http/1.1'];
}

/**
 * EDS cluster for one service port; endpoints arrive as the CLA of the same name. With a
 * trust domain (the proxy has a certificate), meshed endpoints are reached over mTLS.
 */
export function outboundCluster(svc: MeshService, port: ServicePort, resilience: ClusterResilience = {}, trustDomain?: string, proxyless = false): Cluster {
  const options = outboundHttpOptions(svc, port);
  return create(ClusterSchema, {
    name: outboundClusterName(svc, port.port),
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: adsConfigSource() },
    connectTimeout: duration(CONNECT_TIMEOUT_MS),
    lbPolicy: lbPolicy(svc.backend, proxyless),
    ...(options ? { typedExtensionProtocolOptions: options } : {}),
    circuitBreakers: circuitBreakers(resilience.budget, svc.backend?.connectionPool),
    ...(resilience.outlierDetection ? { outlierDetection: outlierDetection(resilience.outlierDetection) } : {}),
    ...(trustDomain === undefined ? {} : { transportSocketMatches: autoMtlsSocketMatches(trustDomain, serviceFqdn(svc), upstreamAlpn(port)) }),
  });
}

function buildOutboundClusters(model: MeshModel, trustDomain?: string, proxyless = false): readonly Cluster[] {
  const resilience = clusterResilience(model);
  return sortByName(
    sortedServices(model).flatMap((svc) =>
      proxiedPorts(svc).map((p) => outboundCluster(svc, p, resilience.get(`${svc.namespace}/${svc.name}`), trustDomain, proxyless)),
    ),
  );
}

/** Every outbound cluster of the model without TLS, sorted by name; shared by all proxies without a certificate. */
export const outboundClusters = memoByModel((model: MeshModel): readonly Cluster[] => buildOutboundClusters(model));

/** The clusters proxyless gRPC clients get: outboundClusters with only the lb policies gRPC implements. */
export const proxylessOutboundClusters = memoByModel((model: MeshModel): readonly Cluster[] =>
  model.services.size > 0 && [...model.services.values()].some((s) => s.backend && lbPolicy(s.backend, true) !== lbPolicy(s.backend))
    ? buildOutboundClusters(model, undefined, true)
    : outboundClusters(model),
);

/** Every outbound cluster with auto mTLS for peers in `trustDomain`; shared by all proxies of that trust domain. */
export const mtlsOutboundClusters = memoByModelAndKey((model: MeshModel, trustDomain: string): readonly Cluster[] => buildOutboundClusters(model, trustDomain));

/** Forwards to the connection's original destination: unknown hosts keep working under capture. */
export const passthroughCluster: Cluster = create(ClusterSchema, {
  name: PASSTHROUGH_CLUSTER,
  clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
  connectTimeout: duration(CONNECT_TIMEOUT_MS),
  lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
  circuitBreakers: circuitBreakers(),
});

/**
 * STATIC clusters to the application on 127.0.0.1:<targetPort>, one per inbound port of a
 * proxy's plan (the ports of the service it fronts, or of every service selecting its
 * Pod). Memoized per (model, ports).
 */
export function inboundClusters(model: MeshModel, ports: readonly InboundPort[]): readonly Cluster[] {
  return inboundClustersByKey(model, ports.map((p) => `${p.targetPort}/${p.appProtocol}`).join(','));
}

const inboundClustersByKey = memoByModelAndKey((_model: MeshModel, key: string): readonly Cluster[] => {
  if (key === '') return [];
  return sortByName(
    key.split(',').map((entry) => {
      const [port = '0', appProtocol = ''] = entry.split('/');
      const targetPort = Number(port);
      const clusterName = inboundClusterName(targetPort);
      return create(ClusterSchema, {
        name: clusterName,
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
        connectTimeout: duration(CONNECT_TIMEOUT_MS),
        lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
        circuitBreakers: circuitBreakers(),
        loadAssignment: create(ClusterLoadAssignmentSchema, {
          clusterName,
          endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: socketAddress(LOCAL_APP_ADDRESS, targetPort) } } }] }],
        }),
        ...(appProtocol === 'grpc' || appProtocol === 'http2' ? { typedExtensionProtocolOptions: http2Options() } : {}),
      });
    }),
  );
});
