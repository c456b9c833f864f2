// What a sidecar's bootstrap carries for telemetry (docs/telemetry.md):
//  - stats_config: Envoy's own stats, tagged so Prometheus gets one series per service pair.
//    Every series of the proxy carries fixed tags naming the reporting workload
//    (source_workload, source_namespace, source_identity); outbound cluster stats get the
//    destination (destination_service, destination_namespace, destination_port) parsed out of
//    the cluster name; inbound http/tcp stats get `security` (mtls, plaintext, tls) from their
//    stat prefix. Both parsers follow xds/resources/names.ts.
//  - the OTLP collector as a static cluster (`weft-otlp`) when tracing has an endpoint;
//  - the per-proxy switches (access log, trace sampling, workload name) as node metadata,
//    which the xDS server reads into ProxyInfo.telemetry and translation turns into HCM fields.
import { create, type JsonObject } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { isIP } from 'node:net';
import { parseHostPort } from '../../src/base/host-port.ts';
import { StatsConfigSchema, type StatsConfig } from '../gen/envoy/config/metrics/v3/stats_pb.js';
import { Cluster_DiscoveryType, Cluster_DnsLookupFamily, ClusterSchema, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpProtocolOptionsSchema } from '../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { CLUSTER_DOMAIN, OTLP_CLUSTER } from '../resources/names.ts';

/** Telemetry settings of one proxy, resolved at injection (pod annotation > namespace label > mesh value). */
export interface ProxyTelemetry {
  /** The workload's name (`app.kubernetes.io/name`, `app`, or the owner's name): the `source_workload` tag and the span service. */
  readonly workload: string;
  /** SPIFFE id of the workload's service account: the `source_identity` tag. */
  readonly identity?: string;
  /** JSON access log lines on stdout. */
  readonly accessLog?: boolean;
  /** Percent of requests traced (0–100); tracing is off without otlpAddress. */
  readonly traceSampling?: number;
  /** `host:port` of an OTLP/gRPC collector. */
  readonly otlpAddress?: string;
}

/** Node metadata keys that carry ProxyTelemetry to the xDS server (parsed in xds/resources/node-info.ts). */
export const TelemetryMetadataKeys = {
  workload: 'WEFT_WORKLOAD',
  /** The SPIFFE id the workload claims: spans' weft.identity when the xDS stream is not authenticated. */
  identity: 'WEFT_IDENTITY',
  /** "true" when access logs are on. */
  accessLog: 'WEFT_ACCESS_LOG',
  /** Decimal percent; present only when the bootstrap has the OTLP cluster. */
  traceSampling: 'WEFT_TRACE_SAMPLING',
} as const;

/** The labels docs/telemetry.md promises; the dashboards and the mesh view query them. */
export const StatsTags = {
  sourceWorkload: 'source_workload',
  sourceNamespace: 'source_namespace',
  sourceIdentity: 'source_identity',
  destinationService: 'destination_service',
  destinationNamespace: 'destination_namespace',
  destinationPort: 'destination_port',
  security: 'security',
} as const;

const domain = CLUSTER_DOMAIN.replaceAll('.', '\\.');
// outbound|<port>|<subset>|<name>.<namespace>.svc.cluster.local (names.ts outboundClusterName).
const outbound = (port: string, name: string, ns: string) => `^cluster\\.outbound\\|${port}\\|[^|]*\\|${name}\\.${ns}\\.svc\\.${domain}\\.`;

/**
 * Envoy's default tags, minus envoy.cluster_name (replaced below: its default regex stops at the
 * first dot, and Weft's cluster names have dots). Envoy runs the defaults before custom tags and
 * the first extractor of a name wins, so replacing one means listing the rest by name.
 */
const DEFAULT_TAGS = [
  'envoy.response_code',
  'envoy.response_code_class',
  'envoy.http_user_agent',
  'envoy.virtual_cluster',
  'envoy.fault_downstream_cluster',
  'envoy.ssl_cipher',
  'envoy.ssl_version',
  'envoy.grpc_bridge_service',
  'envoy.grpc_bridge_method',
  'envoy.tcp_prefix',
  'envoy.udp_prefix',
  'envoy.clientssl_prefix',
  'envoy.ratelimit_prefix',
  // AuthorizationPolicy verdicts: `authz_allow` / `authz_deny` as a tag, not in the metric name.
  'envoy.rbac_prefix',
  'envoy.rbac_http_prefix',
  'envoy.http_conn_manager_prefix',
  'envoy.listener_address',
  'envoy.virtual_host',
  'envoy.rds_route_config',
  'envoy.worker_id',
] as const;

/**
 * Tag regexes. Envoy removes the first capture group from the stat name and takes the value from
 * the second (or the first); an empty first group keeps the name for the other extractors.
 */
export const TAG_REGEXES: Readonly<Record<string, string>> = {
  'envoy.cluster_name': `^cluster\\.((outbound\\|\\d+\\|[^|]*\\|[^|]+?\\.svc\\.${domain}|[^.]+)\\.)`,
  [StatsTags.destinationService]: outbound('\\d+', '()([^.|]+)', '[^.]+'),
  [StatsTags.destinationNamespace]: outbound('\\d+', '[^.|]+', '()([^.]+)'),
  [StatsTags.destinationPort]: outbound('()(\\d+)', '[^.|]+', '[^.]+'),
  [StatsTags.security]: '^(?:http|tcp)\\.inbound_\\d+_()(mtls|plaintext|tls)\\.',
};

/** stats_config for a proxy of `namespace`: Envoy's default tags, Weft's name parsers, fixed source tags. */
export function statsConfig(namespace: string, t: Pick<ProxyTelemetry, 'workload' | 'identity'>): StatsConfig {
  const fixed: [string, string | undefined][] = [
    [StatsTags.sourceWorkload, t.workload],
    [StatsTags.sourceNamespace, namespace],
    [StatsTags.sourceIdentity, t.identity],
  ];
  return create(StatsConfigSchema, {
    useAllDefaultTags: false,
    statsTags: [
      ...Object.entries(TAG_REGEXES).map(([tagName, regex]) => ({ tagName, tagValue: { case: 'regex' as const, value: regex } })),
      ...DEFAULT_TAGS.map((tagName) => ({ tagName })),
      ...fixed.flatMap(([tagName, value]) => (value ? [{ tagName, tagValue: { case: 'fixedValue' as const, value } }] : [])),
    ],
  });
}

/** OTLP/gRPC needs HTTP/2 to the collector; a name resolves by DNS (a Service), an address is static. */
export function otlpCluster(address: string): Cluster {
  const hp = parseHostPort(address);
  if (!hp.ok) throw new TypeError(`otlpAddress: ${hp.reason}`);
  const isAddress = isIP(hp.host) !== 0;
  const http2 = create(HttpProtocolOptionsSchema, {
    upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } },
  });
  return create(ClusterSchema, {
    name: OTLP_CLUSTER,
    clusterDiscoveryType: { case: 'type', value: isAddress ? Cluster_DiscoveryType.STATIC : Cluster_DiscoveryType.STRICT_DNS },
    dnsLookupFamily: isAddress ? Cluster_DnsLookupFamily.AUTO : Cluster_DnsLookupFamily.V4_PREFERRED,
    connectTimeout: { seconds: 1n },
    typedExtensionProtocolOptions: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': anyPack(HttpProtocolOptionsSchema, http2) },
    loadAssignment: {
      clusterName: OTLP_CLUSTER,
      endpoints: [
        {
          lbEndpoints: [
            {
              hostIdentifier: {
                case: 'endpoint',
                value: { address: { address: { case: 'socketAddress', value: { address: hp.host, portSpecifier: { case: 'portValue', value: hp.port } } } } },
              },
            },
          ],
        },
      ],
    },
  });
}

/** The node metadata entries for `t` (tracing only when the collector cluster is there). */
export function telemetryMetadata(t: ProxyTelemetry): JsonObject {
  const md: JsonObject = { [TelemetryMetadataKeys.workload]: t.workload };
  if (t.identity) md[TelemetryMetadataKeys.identity] = t.identity;
  if (t.accessLog) md[TelemetryMetadataKeys.accessLog] = 'true';
  if (t.otlpAddress !== undefined && t.traceSampling !== undefined && t.traceSampling > 0) md[TelemetryMetadataKeys.traceSampling] = String(t.traceSampling);
  return md;
}
