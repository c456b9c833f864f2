// The Envoy bootstrap every Weft sidecar starts from: who the proxy is (node metadata the
// xDS server reads into ProxyInfo), where the ADS server is (one static cluster) and where
// admin listens. Everything else arrives over ADS. Built as a protobuf-es Bootstrap message
// so it is valid against Envoy's proto by construction, then rendered through proto JSON.
import { create, fromJson, toJson, type JsonObject, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { isIP } from 'node:net';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseHostPort } from '../../src/base/host-port.ts';
import { MeshPorts, XDS_CLUSTER_NAME } from '../../src/base/mesh-ports.ts';
import { BootstrapSchema, type Bootstrap } from '../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { Cluster_DiscoveryType, Cluster_DnsLookupFamily, ClusterSchema, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ApiConfigSource_ApiType, ApiVersion, type ConfigSourceSchema } from '../gen/envoy/config/core/v3/config_source_pb.js';
import { HttpProtocolOptionsSchema } from '../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import type { DataSourceSchema } from '../gen/envoy/config/core/v3/base_pb.js';
import { SubjectAltNameMatcher_SanType } from '../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { UpstreamTlsContextSchema } from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { envoyRegistry } from '../resources/registry.ts';
import { errorMessage } from '../../src/base/errors.ts';
import { EGRESS_METADATA_KEY } from '../../src/api/egress.ts';
import { otlpCluster, statsConfig, telemetryMetadata, type ProxyTelemetry } from './telemetry.ts';

/** Node metadata keys the xDS server reads to build ProxyInfo (xds/resources/proxy.ts). */
export const NodeMetadataKeys = {
  namespace: 'WEFT_NAMESPACE',
  service: 'WEFT_SERVICE',
  /** "true" | "false": whether iptables captures traffic (virtual vs explicit outbound listener). */
  capture: 'WEFT_CAPTURE',
  proxyKind: 'WEFT_PROXY_KIND',
  /** Struct of pod labels. */
  labels: 'WEFT_LABELS',
  /** Decimal string; present only when the outbound listener is not on MeshPorts.outbound. */
  outboundPort: 'WEFT_OUTBOUND_PORT',
  /** Decimal string; explicit mode only: the port of the inbound listener (`explicitInbound`) clients dial. */
  inboundPort: 'WEFT_INBOUND_PORT',
  /** Decimal string: the port on the proxy's address that serves /stats/prometheus (the mesh view scrapes it). */
  statsPort: 'WEFT_STATS_PORT',
  /** The Services the proxy calls, weft.dev/egress syntax (src/api/egress.ts); absent: every Service. */
  egress: EGRESS_METADATA_KEY,
} as const;

export interface BootstrapOptions {
  nodeId: string;
  namespace: string;
  /** The Service this proxy fronts; node.cluster is `<service>.<namespace>`. */
  service?: string;
  /** `host:port` or `[v6]:port` of the ADS server. */
  xdsAddress: string;
  /** Explicit outbound listener port (default MeshPorts.outbound); translation builds the listener. */
  outboundPort?: number;
  /**
   * Explicit mode: the inbound listener's port on 0.0.0.0 (the endpoint port clients dial);
   * it forwards to the fronted service's target port. Must differ from the outbound port.
   * Unset: the proxy has no inbound listener. Ignored by translation when traffic is captured.
   */
  inboundPort?: number;
  /** Admin port on 127.0.0.1 (default MeshPorts.admin; 0 = any free port). */
  adminPort?: number;
  /** Announced as WEFT_STATS_PORT: where the control plane's mesh view scrapes /stats/prometheus. */
  statsPort?: number;
  capture?: boolean;
  labels?: Record<string, string>;
  /** Delta (incremental) ADS instead of State-of-the-World. */
  delta?: boolean;
  /** node.locality.zone: the zone BackendPolicy zone failover prefers (Envoy's --service-zone overrides it). */
  zone?: string;
  /** Dial the xDS server over TLS, presenting a client certificate (proxies outside Kubernetes). */
  tls?: XdsClientTls;
  /** Stats tags, access log and tracing switches, the OTLP collector (xds/bootstrap/telemetry.ts). */
  telemetry?: ProxyTelemetry;
  /** Egress scope (`shop/*, ./billing`): the proxy receives only those Services' outbound config. */
  egress?: string;
}

/** PEM material: inline in the bootstrap, or a file Envoy reads at startup. */
export type PemSource = { readonly inline: string } | { readonly file: string };

export interface XdsClientTls {
  /** The client certificate (an X.509-SVID from the mesh CA) followed by its intermediates. */
  readonly certChain: PemSource;
  readonly privateKey: PemSource;
  /** Roots the xDS server's certificate must chain to; its SANs must name the xDS host. */
  readonly trustedCa: PemSource;
}

export interface RenderedBootstrap {
  yaml: string;
  /** Proto JSON with Envoy's snake_case field names (what `yaml` encodes). */
  json: JsonObject;
}

export { parseHostPort, type HostPort } from '../../src/base/host-port.ts';

function dataSource(src: PemSource): MessageInitShape<typeof DataSourceSchema> {
  return 'inline' in src ? { specifier: { case: 'inlineString', value: src.inline } } : { specifier: { case: 'filename', value: src.file } };
}

/** mTLS to the xDS server: our client certificate; its certificate checked against the roots and the dialled host. */
function xdsTransportSocket(host: string, tls: XdsClientTls): NonNullable<MessageInitShape<typeof ClusterSchema>['transportSocket']> {
  const isAddress = isIP(host) !== 0;
  const ctx = create(UpstreamTlsContextSchema, {
    commonTlsContext: {
      tlsCertificates: [{ certificateChain: dataSource(tls.certChain), privateKey: dataSource(tls.privateKey) }],
      validationContextType: {
        case: 'validationContext',
        value: {
          trustedCa: dataSource(tls.trustedCa),
          matchTypedSubjectAltNames: [
            {
              sanType: isAddress ? SubjectAltNameMatcher_SanType.IP_ADDRESS : SubjectAltNameMatcher_SanType.DNS,
              matcher: { matchPattern: { case: 'exact', value: host } },
            },
          ],
        },
      },
      // gRPC servers (node's http2 included) only speak HTTP/2 negotiated by ALPN.
      alpnProtocols: ['h2'],
    },
    ...(isAddress ? {} : { sni: host }),
  });
  return { name: 'envoy.transport_sockets.tls', configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, ctx) } };
}

function xdsCluster(host: string, port: number, tls?: XdsClientTls): Cluster {
  // gRPC needs HTTP/2 upstream; keepalives notice a dead control plane (or a NAT that
  // forgot the connection) long before the OS default of two hours.
  const http2 = create(HttpProtocolOptionsSchema, {
    upstreamProtocolOptions: {
      case: 'explicitHttpConfig',
      value: {
        protocolConfig: {
          case: 'http2ProtocolOptions',
          value: { connectionKeepalive: { interval: { seconds: 30n }, timeout: { seconds: 10n } } },
        },
      },
    },
  });
  const isAddress = isIP(host) !== 0;
  return create(ClusterSchema, {
    name: XDS_CLUSTER_NAME,
    clusterDiscoveryType: { case: 'type', value: isAddress ? Cluster_DiscoveryType.STATIC : Cluster_DiscoveryType.STRICT_DNS },
    // A DNS name such as localhost can resolve to ::1 first while the server listens on IPv4.
    dnsLookupFamily: isAddress ? Cluster_DnsLookupFamily.AUTO : Cluster_DnsLookupFamily.V4_PREFERRED,
    connectTimeout: { seconds: 1n },
    typedExtensionProtocolOptions: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': anyPack(HttpProtocolOptionsSchema, http2),
    },
    upstreamConnectionOptions: { tcpKeepalive: { keepaliveProbes: 3, keepaliveTime: 30, keepaliveInterval: 10 } },
    ...(tls ? { transportSocket: xdsTransportSocket(host, tls) } : {}),
    loadAssignment: {
      clusterName: XDS_CLUSTER_NAME,
      endpoints: [
        {
          lbEndpoints: [
            {
              hostIdentifier: {
                case: 'endpoint',
                value: { address: { address: { case: 'socketAddress', value: { address: host, portSpecifier: { case: 'portValue', value: port } } } } },
              },
            },
          ],
        },
      ],
    },
  });
}

/** Builds the Bootstrap message. Throws TypeError on an invalid xdsAddress or port (callers validate user input first). */
export function buildBootstrap(opts: BootstrapOptions): Bootstrap {
  const xds = parseHostPort(opts.xdsAddress);
  if (!xds.ok) throw new TypeError(`xdsAddress: ${xds.reason}`);
  const adminPort = opts.adminPort ?? MeshPorts.admin;
  const outboundPort = opts.outboundPort ?? MeshPorts.outbound;
  for (const [name, p, min] of [
    ['adminPort', adminPort, 0],
    ['outboundPort', outboundPort, 1],
    ['inboundPort', opts.inboundPort ?? 1, 1],
  ] as const) {
    if (!Number.isInteger(p) || p < min || p > 65535) throw new TypeError(`${name}: ${p} is not a port`);
  }
  if (opts.inboundPort === outboundPort) throw new TypeError(`inboundPort: ${opts.inboundPort} is the outbound listener's port`);

  const metadata: JsonObject = {
    [NodeMetadataKeys.namespace]: opts.namespace,
    [NodeMetadataKeys.capture]: String(opts.capture ?? false),
    [NodeMetadataKeys.proxyKind]: 'sidecar',
    [NodeMetadataKeys.labels]: sortedObject(opts.labels ?? {}),
  };
  if (opts.service) metadata[NodeMetadataKeys.service] = opts.service;
  if (outboundPort !== MeshPorts.outbound) metadata[NodeMetadataKeys.outboundPort] = String(outboundPort);
  if (opts.inboundPort !== undefined) metadata[NodeMetadataKeys.inboundPort] = String(opts.inboundPort);
  if (opts.statsPort !== undefined) metadata[NodeMetadataKeys.statsPort] = String(opts.statsPort);
  if (opts.egress !== undefined) metadata[NodeMetadataKeys.egress] = opts.egress;
  if (opts.telemetry) Object.assign(metadata, telemetryMetadata(opts.telemetry));
  const t = opts.telemetry;

  // initial_fetch_timeout 0s: Envoy waits for its first CDS/LDS for as long as it takes,
  // staying unready (admin /ready 503, the sidecar's readiness probe failing) rather than
  // going LIVE with no config after the default 15 s and blackholing traffic (Istio does the same).
  const viaAds: MessageInitShape<typeof ConfigSourceSchema> = {
    configSourceSpecifier: { case: 'ads', value: {} },
    resourceApiVersion: ApiVersion.V3,
    initialFetchTimeout: { seconds: 0n },
  };
  return create(BootstrapSchema, {
    node: {
      id: opts.nodeId,
      cluster: opts.service ? `${opts.service}.${opts.namespace}` : opts.namespace,
      metadata,
      ...(opts.zone ? { locality: { zone: opts.zone } } : {}),
    },
    dynamicResources: {
      adsConfig: {
        apiType: opts.delta ? ApiConfigSource_ApiType.DELTA_GRPC : ApiConfigSource_ApiType.GRPC,
        transportApiVersion: ApiVersion.V3,
        grpcServices: [{ targetSpecifier: { case: 'envoyGrpc', value: { clusterName: XDS_CLUSTER_NAME } } }],
        // The node is large (metadata, extensions list); sending it once per stream is enough.
        setNodeOnFirstMessageOnly: true,
      },
      cdsConfig: viaAds,
      ldsConfig: viaAds,
    },
    staticResources: { clusters: [xdsCluster(xds.host, xds.port, opts.tls), ...(t?.otlpAddress ? [otlpCluster(t.otlpAddress)] : [])] },
    ...(t ? { statsConfig: statsConfig(opts.namespace, t) } : {}),
    admin: {
      address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: adminPort } } } },
    },
  });
}

/** Renders the bootstrap as YAML (and the same document as JSON). */
export function renderBootstrap(opts: BootstrapOptions): RenderedBootstrap {
  const json = toJson(BootstrapSchema, buildBootstrap(opts), { registry: envoyRegistry, useProtoFieldName: true }) as JsonObject;
  return { yaml: stringifyYaml(json, { lineWidth: 0 }), json };
}

export type ParsedBootstrap = { ok: true; bootstrap: Bootstrap } | { ok: false; error: string };

/** Parses a rendered bootstrap (YAML or JSON text) back into a message, as Envoy would. */
export function parseBootstrap(text: string): ParsedBootstrap {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { ok: false, error: `not YAML: ${errorMessage(err)}` };
  }
  try {
    return { ok: true, bootstrap: fromJson(BootstrapSchema, doc as JsonValue, { registry: envoyRegistry }) };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

function sortedObject(rec: Record<string, string>): JsonObject {
  return Object.fromEntries(
    Object.keys(rec)
      .sort()
      .map((k) => [k, rec[k] ?? '']),
  );
}
