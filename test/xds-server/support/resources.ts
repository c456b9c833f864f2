// Small builders of real Envoy messages for server tests: readable fixtures instead of
// pages of object literals. Shapes mirror what translation emits (EDS clusters over ADS,
// listeners with an HCM using RDS over ADS).
import { create, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ApiVersion } from '../../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema, type Listener } from '../../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import { RouterSchema } from '../../../xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HttpConnectionManagerSchema } from '../../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { SecretSchema, type Secret } from '../../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { hashBytes, hashResourceVersions } from '../../../xds/snapshot/hash.ts';
import type { ResourceSet } from '../../../xds/translate/types.ts';

const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} }, resourceApiVersion: ApiVersion.V3 };

export function cluster(name: string, opts: { connectTimeoutMs?: number; serviceName?: string } = {}): Cluster {
  const ms = opts.connectTimeoutMs ?? 1000;
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: ads, serviceName: opts.serviceName ?? '' },
    connectTimeout: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 },
  });
}

export function cla(clusterName: string, ...ips: string[]): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints: [
      {
        lbEndpoints: ips.map((ip) => ({
          hostIdentifier: {
            case: 'endpoint' as const,
            value: {
              address: { address: { case: 'socketAddress' as const, value: { address: ip, portSpecifier: { case: 'portValue' as const, value: 8080 } } } },
            },
          },
        })),
      },
    ],
  });
}

export function listener(name: string, port: number, routeName: string): Listener {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: name,
    routeSpecifier: { case: 'rds', value: { configSource: ads, routeConfigName: routeName } },
    httpFilters: [{ name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) } }],
  });
  return create(ListenerSchema, {
    name,
    address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: port } } } },
    filterChains: [
      {
        filters: [
          { name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } },
        ],
      },
    ],
  });
}

export function route(name: string, ...clusters: string[]): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name,
    virtualHosts: clusters.map((c) => ({
      name: c,
      domains: [c],
      routes: [
        {
          match: { pathSpecifier: { case: 'prefix' as const, value: '/' } },
          action: { case: 'route' as const, value: { clusterSpecifier: { case: 'cluster' as const, value: c } } },
        },
      ],
    })),
  });
}

export function secret(name: string): Secret {
  return create(SecretSchema, {
    name,
    type: { case: 'validationContext', value: { trustedCa: { specifier: { case: 'inlineString', value: `ca-for-${name}` } } } },
  });
}

export function resourceSet(parts: Partial<ResourceSet> = {}): ResourceSet {
  return { clusters: [], endpoints: [], listeners: [], routes: [], secrets: [], ...parts };
}

const schemaOf: Record<string, DescMessage> = {
  'envoy.config.cluster.v3.Cluster': ClusterSchema,
  'envoy.config.endpoint.v3.ClusterLoadAssignment': ClusterLoadAssignmentSchema,
  'envoy.config.listener.v3.Listener': ListenerSchema,
  'envoy.config.route.v3.RouteConfiguration': RouteConfigurationSchema,
  'envoy.extensions.transport_sockets.tls.v3.Secret': SecretSchema,
};

type AnyResource = Cluster | ClusterLoadAssignment | Listener | RouteConfiguration | Secret;

export function nameOf(m: AnyResource): string {
  return m.$typeName === 'envoy.config.endpoint.v3.ClusterLoadAssignment' ? m.clusterName : m.name;
}

/** The version the server must report for exactly these resources (content hash, see xds/snapshot/hash.ts). */
export function versionOf(...messages: AnyResource[]): string {
  return hashResourceVersions(messages.map((m) => ({ name: nameOf(m), version: resourceVersion(m) })));
}

export function resourceVersion(m: AnyResource): string {
  const schema = schemaOf[m.$typeName]!;
  return hashBytes(toBinary(schema, m as MessageShape<typeof schema>));
}
