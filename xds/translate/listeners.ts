// LDS: the listeners of each proxy kind.
//
//   capture   `virtualOutbound` (0.0.0.0:15001, original destination, hands connections off
//             to the per-port listeners; default chain → PassthroughCluster), per outbound
//             port `0.0.0.0_<port>` (bind_to_port false; services matched by ClusterIP: HTTP
//             → HCM over RDS `outbound|<port>||<fqdn>`, TCP → tcp_proxy; else HCM over RDS
//             `<port>`); inbound.ts adds `virtualInbound`.
//   explicit  `explicitOutbound` on 127.0.0.1:15001: a plain HTTP proxy routing on Host;
//             inbound.ts adds `explicitInbound` when the proxy declares an inbound port.
//   proxyless API listeners named `<host>:<port>` for every gRPC service port.
//
// Model inputs: services (name, namespace, clusterIP, ports incl. appProtocol). Ignores
// policies, endpoints and peerAuths: outbound mTLS lives in the clusters (auto mTLS).
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { TrafficDirection } from '../gen/envoy/config/core/v3/base_pb.js';
import { ListenerSchema, type Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import { FilterChainSchema, ListenerFilterSchema, type FilterChain, type ListenerFilter } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { OriginalDstSchema } from '../gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import type { MeshModel, MeshService } from '../../src/model/types.ts';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import {
  EXPLICIT_OUTBOUND_LISTENER,
  EXPLICIT_OUTBOUND_ROUTE,
  outboundClusterName,
  outboundPortListenerName,
  outboundPortRouteName,
  outboundServiceRouteName,
  PASSTHROUGH_CLUSTER,
  proxylessListenerNames,
  proxylessRouteName,
  VIRTUAL_OUTBOUND_LISTENER,
} from '../resources/names.ts';
import { tcpHashPolicies } from './backend-policy.ts';
import { FilterName, hcmFilter, httpConnectionManager, socketAddress, sortByName, tcpProxyFilter } from './common.ts';
import { outboundHttpFilters } from './fault.ts';
import { memoByModel, memoByModelAndKey } from './memo.ts';
import { isHttp2Port, sortedServices } from './model-view.ts';
import { outboundPorts, type OutboundPort } from './outbound-ports.ts';
import { egressView } from './egress.ts';

const ANY_IPV4 = '0.0.0.0';
const LOOPBACK = '127.0.0.1';

export function originalDstFilter(): ListenerFilter {
  return create(ListenerFilterSchema, {
    name: FilterName.originalDst,
    configType: { case: 'typedConfig', value: anyPack(OriginalDstSchema, create(OriginalDstSchema)) },
  });
}

function passthroughChain(name: string, statPrefix: string): FilterChain {
  return create(FilterChainSchema, { name, filters: [tcpProxyFilter(statPrefix, PASSTHROUGH_CLUSTER)] });
}

/** Captured outbound traffic: hand off by original destination, else pass through. */
export const virtualOutboundListener: Listener = create(ListenerSchema, {
  name: VIRTUAL_OUTBOUND_LISTENER,
  address: socketAddress(ANY_IPV4, MeshPorts.outbound),
  useOriginalDst: true,
  trafficDirection: TrafficDirection.OUTBOUND,
  listenerFilters: [originalDstFilter()],
  defaultFilterChain: passthroughChain('PassthroughFilterChain', PASSTHROUGH_CLUSTER),
});

/**
 * One listener per outbound port that has HTTP services or services with a ClusterIP. Each
 * ClusterIP gets a chain of its own (outbound-ports.ts): TCP services a tcp_proxy (no HTTP
 * parsing of their bytes), HTTP services an HCM over their own RDS config. The unmatched
 * chain is HTTP (RDS `<port>`: Host routing for headless services, else allow_any) when any
 * HTTP service uses the port, otherwise passthrough. Shared by all capture-mode proxies.
 */
export const outboundPortListeners = memoByModel((model: MeshModel): readonly Listener[] => portListeners(outboundPorts(model)));

/** outboundPortListeners for a proxy with an egress scope (egress.ts): chains of its Services only. */
export const scopedOutboundPortListeners = memoByModelAndKey((model: MeshModel, egress: string): readonly Listener[] =>
  portListeners(egressView(model, egress).ports),
);

function portListeners(ports: readonly OutboundPort[]): readonly Listener[] {
  const listeners: Listener[] = [];
  for (const { port, byIP, http } of ports) {
    if (!http && byIP.length === 0) continue;
    const name = outboundPortListenerName(port);
    const ipChains = byIP.map(({ ip, svc, http: l7 }) => {
      const cluster = outboundClusterName(svc, port);
      const route = outboundServiceRouteName(svc, port);
      return create(FilterChainSchema, {
        name: l7 ? route : cluster,
        filterChainMatch: { prefixRanges: [{ addressPrefix: ip, prefixLen: ip.includes(':') ? 128 : 32 }] },
        filters: [
          l7
            ? hcmFilter({ statPrefix: route, routes: { rds: route }, httpFilters: outboundHttpFilters() })
            : tcpProxyFilter(cluster, cluster, tcpHashPolicies(svc)),
        ],
      });
    });
    const fallback = http
      ? create(FilterChainSchema, {
          name: `${name}_http`,
          filters: [hcmFilter({ statPrefix: `outbound_${name}`, routes: { rds: outboundPortRouteName(port) }, httpFilters: outboundHttpFilters() })],
        })
      : passthroughChain(`${name}_passthrough`, PASSTHROUGH_CLUSTER);
    listeners.push(
      create(ListenerSchema, {
        name,
        address: socketAddress(ANY_IPV4, port),
        bindToPort: false,
        trafficDirection: TrafficDirection.OUTBOUND,
        filterChains: [...ipChains, fallback],
      }),
    );
  }
  return sortByName(listeners);
}

/** Explicit mode (no capture): an HTTP proxy on loopback, `curl -x http://127.0.0.1:15001 http://checkout.shop:8080/`. */
const explicitListeners = new Map<number, Listener>();

/** The explicit HTTP proxy listener on 127.0.0.1:port; one shared message per port. */
export function explicitOutboundListener(port: number): Listener {
  const cached = explicitListeners.get(port);
  if (cached) return cached;
  const listener = create(ListenerSchema, {
    name: EXPLICIT_OUTBOUND_LISTENER,
    address: socketAddress(LOOPBACK, port),
    trafficDirection: TrafficDirection.OUTBOUND,
    filterChains: [
      {
        name: EXPLICIT_OUTBOUND_LISTENER,
        filters: [
          hcmFilter({ statPrefix: 'outbound_http_proxy', routes: { rds: EXPLICIT_OUTBOUND_ROUTE }, absoluteUrls: true, httpFilters: outboundHttpFilters() }),
        ],
      },
    ],
  });
  explicitListeners.set(port, listener);
  return listener;
}

/**
 * Proxyless gRPC: API listeners named by every `<host>:<port>` a client may dial, each an
 * HCM over RDS to the service port's route config. Memoized per (model, caller namespace).
 */
export const proxylessListeners = memoByModelAndKey((model: MeshModel, ns: string): readonly Listener[] => proxylessApiListeners(sortedServices(model), ns));

/** proxylessListeners of a scoped proxy: `<ns>\n<egress key>`. */
export const scopedProxylessListeners = memoByModelAndKey((model: MeshModel, nsAndEgress: string): readonly Listener[] => {
  const [ns = '', egress = ''] = nsAndEgress.split('\n');
  return proxylessApiListeners(egressView(model, egress).services, ns);
});

function proxylessApiListeners(services: readonly MeshService[], ns: string): readonly Listener[] {
  const listeners = services.flatMap((svc) =>
    svc.ports.filter(isHttp2Port).flatMap((port) => {
      const hcm = anyPack(
        HttpConnectionManagerSchema,
        httpConnectionManager({ statPrefix: proxylessRouteName(svc, port.port), routes: { rds: proxylessRouteName(svc, port.port) } }),
      );
      return proxylessListenerNames(svc, port.port, ns).map((name) => create(ListenerSchema, { name, apiListener: { apiListener: hcm } }));
    }),
  );
  return sortByName(listeners);
}
