// CDS: one EDS cluster per proxied service port (shared by every proxy of a model), the
// ORIGINAL_DST passthrough cluster, and STATIC inbound clusters to the local app.
//
// Model inputs: services[].ports (port, protocol, appProtocol, targetPort, endpoints for
// named target ports), services[].retry.budget and .outlierDetection. Ignores splits,
// clusterIP and peerAuths (mTLS will add transport sockets here, see upstreamTls below).
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  ClusterSchema,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  type Cluster,
} from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { CircuitBreakersSchema } from '../gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { OutlierDetectionSchema } from '../gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { RoutingPriority } from '../gen/envoy/config/core/v3/base_pb.js';
import { HttpProtocolOptionsSchema } from '../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { ClusterLoadAssignmentSchema } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { MeshModel, MeshService, ResolvedRetry, ServicePort } from '../../src/model/types.ts';
import { inboundClusterName, outboundClusterName, PASSTHROUGH_CLUSTER } from '../resources/names.ts';
import { adsConfigSource, duration, FilterName, sortByName, socketAddress } from './common.ts';
import { memoByModel, memoByModelAndKey } from './memo.ts';
import { inboundPorts, isHttp2Port, lookupService, proxiedPorts, sortedServices } from './model-view.ts';

/** TCP connect timeout for every cluster (Envoy's default of 5s is fine for pods; 10s tolerates VMs). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Loopback address the sidecar uses to reach its own application. */
export const LOCAL_APP_ADDRESS = '127.0.0.1';

/** typed_extension_protocol_options forcing HTTP/2 (prior knowledge) to the upstream. */
function http2Options(): Record<string, Any> {
  const options = create(HttpProtocolOptionsSchema, {
    upstreamProtocolOptions: {
      case: 'explicitHttpConfig',
      value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } },
    },
  });
  return { [FilterName.upstreamHttpProtocolOptions]: anyPack(HttpProtocolOptionsSchema, options) };
}

/** RetryPolicy.budget → a retry budget on the DEFAULT priority (replaces max_retries). */
function circuitBreakers(retry: ResolvedRetry | undefined): Pick<Cluster, 'circuitBreakers'> | undefined {
  if (!retry?.budget) return undefined;
  return {
    circuitBreakers: create(CircuitBreakersSchema, {
      thresholds: [
        {
          priority: RoutingPriority.DEFAULT,
          retryBudget: {
            budgetPercent: { value: retry.budget.percent },
            minRetryConcurrency: retry.budget.minRetryConcurrency,
          },
        },
      ],
    }),
  };
}

/**
 * RetryPolicy.outlierDetection → consecutive-5xx ejection. Success-rate ejection is on by
 * default in Envoy; the policy does not ask for it, so it is switched off explicitly.
 */
function outlierDetection(retry: ResolvedRetry | undefined): Pick<Cluster, 'outlierDetection'> | undefined {
  const od = retry?.outlierDetection;
  if (!od) return undefined;
  return {
    outlierDetection: create(OutlierDetectionSchema, {
      consecutive5xx: od.consecutive5xxErrors,
      interval: duration(od.intervalMs),
      baseEjectionTime: duration(od.baseEjectionTimeMs),
      maxEjectionPercent: od.maxEjectionPercent,
      enforcingConsecutive5xx: 100,
      enforcingSuccessRate: 0,
    }),
  };
}

/** EDS cluster for one service port; endpoints arrive as the CLA of the same name. */
export function outboundCluster(svc: MeshService, port: ServicePort): Cluster {
  return create(ClusterSchema, {
    name: outboundClusterName(svc, port.port),
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: adsConfigSource() },
    connectTimeout: duration(CONNECT_TIMEOUT_MS),
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    ...(isHttp2Port(port) ? { typedExtensionProtocolOptions: http2Options() } : {}),
    ...circuitBreakers(svc.retry),
    ...outlierDetection(svc.retry),
    // mTLS (another issue): the upstream TLS transport socket for mesh peers goes here.
  });
}

/** Every outbound cluster of the model, sorted by name; shared by all proxies. */
export const outboundClusters = memoByModel((model: MeshModel): readonly Cluster[] =>
  sortByName(sortedServices(model).flatMap((svc) => proxiedPorts(svc).map((p) => outboundCluster(svc, p)))),
);

/** Forwards to the connection's original destination: unknown hosts keep working under capture. */
export const passthroughCluster: Cluster = create(ClusterSchema, {
  name: PASSTHROUGH_CLUSTER,
  clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
  connectTimeout: duration(CONNECT_TIMEOUT_MS),
  lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
});

/**
 * STATIC clusters to the application on 127.0.0.1:<targetPort>, for a proxy fronting
 * `namespace/name`. Empty when the service is unknown. Memoized per (model, service).
 */
export const inboundClusters = memoByModelAndKey((model: MeshModel, key: string): readonly Cluster[] => {
  const [namespace = '', name = ''] = key.split('/');
  const svc = lookupService(model, namespace, name);
  if (!svc) return [];
  return sortByName(
    inboundPorts(svc).map((p) => {
      const clusterName = inboundClusterName(p.targetPort);
      return create(ClusterSchema, {
        name: clusterName,
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
        connectTimeout: duration(CONNECT_TIMEOUT_MS),
        lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
        loadAssignment: create(ClusterLoadAssignmentSchema, {
          clusterName,
          endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: socketAddress(LOCAL_APP_ADDRESS, p.targetPort) } } }] }],
        }),
        ...(p.appProtocol === 'grpc' || p.appProtocol === 'http2' ? { typedExtensionProtocolOptions: http2Options() } : {}),
      });
    }),
  );
});
