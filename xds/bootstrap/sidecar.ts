// The bootstrap an injected sidecar starts from, carried in the pod spec (`--config-yaml`) so
// the webhook creates nothing. It extends xds/bootstrap/bootstrap.ts's standalone bootstrap with:
//  - ADS over Google gRPC with TLS (the trust bundle inline, verifying the xDS server's
//    certificate) and Envoy's file-based metadata call credentials, which read the projected
//    ServiceAccount token from its file on every stream and send `authorization: Bearer <token>`
//    (envoy.grpc_credentials.file_based_metadata only plugs into google_grpc, not envoy_grpc);
//  - static listeners the kubelet and Prometheus reach without routes from xDS: readiness on
//    MeshPorts.readiness (/healthz/ready → admin /ready, plus the rewritten app probes) and
//    stats on MeshPorts.stats (/stats/prometheus → admin).
// Like the base bootstrap it sets no initial fetch timeout (initial_fetch_timeout 0s), and
// Envoy serves no listener, static ones included, before its initial CDS/LDS: until the
// control plane has answered, the sidecar's readiness probe fails (the pod gets no traffic
// it would blackhole) — and so do the app probes rewritten through it, liveness included.
import { create, toJson, type JsonObject } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import { buildBootstrap, parseHostPort } from './bootstrap.ts';
import { Bootstrap_StaticResourcesSchema, BootstrapSchema, type Bootstrap } from '../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { Cluster_DiscoveryType, ClusterSchema, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { GrpcServiceSchema } from '../gen/envoy/config/core/v3/grpc_service_pb.js';
import { FileBasedMetadataConfigSchema } from '../gen/envoy/config/grpc_credential/v3/file_based_metadata_pb.js';
import { ListenerSchema, type Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../gen/envoy/config/route/v3/route_pb.js';
import { RouteSchema, type Route } from '../gen/envoy/config/route/v3/route_components_pb.js';
import { envoyRegistry } from '../resources/registry.ts';
import { duration, hcmFilter, socketAddress } from '../translate/common.ts';
import { compareStrings } from '../../src/base/order.ts';

export const FILE_BASED_METADATA = 'envoy.grpc_credentials.file_based_metadata';
export const ADMIN_CLUSTER = 'weft-admin';

/** An app HTTP probe the kubelet now sends to the sidecar's readiness port, forwarded to the app. */
export interface AppProbeRoute {
  /** Path the kubelet calls on MeshPorts.readiness, e.g. /app-health/web/readyz. */
  readonly path: string;
  /** The app's port (resolved from a named port at injection). */
  readonly port: number;
  /** The app's original path (may carry a query string). */
  readonly originalPath: string;
  readonly host?: string;
  readonly headers?: readonly { readonly name: string; readonly value: string }[];
  readonly timeoutSeconds?: number;
}

export interface SidecarBootstrapOptions {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `host:port` of the ADS server's TLS port; the host must be in its certificate's SANs. */
  readonly xdsAddress: string;
  /** PEM roots the xDS server's certificate must chain to. */
  readonly trustBundlePem: string;
  /** File holding the projected ServiceAccount token (re-read by Envoy on every stream). */
  readonly tokenPath: string;
  readonly appProbes?: readonly AppProbeRoute[];
  /** Node id placeholder; the sidecar overrides it with `--service-node $(POD_NAME).$(POD_NAMESPACE)`. */
  readonly nodeId?: string;
  /** Listener ports (default MeshPorts); tests running several Envoys at once override them. */
  readonly ports?: { readonly readiness?: number; readonly stats?: number; readonly admin?: number };
}

/** Builds the sidecar bootstrap. Throws TypeError on an invalid xdsAddress (callers validate values first). */
export function buildSidecarBootstrap(opts: SidecarBootstrapOptions): Bootstrap {
  const xds = parseHostPort(opts.xdsAddress);
  if (!xds.ok) throw new TypeError(`xdsAddress: ${xds.reason}`);
  const base = buildBootstrap({
    nodeId: opts.nodeId ?? 'sidecar',
    namespace: opts.namespace,
    xdsAddress: opts.xdsAddress,
    capture: true,
    labels: { ...opts.labels },
    adminPort: opts.ports?.admin ?? MeshPorts.admin,
  });
  const ads = base.dynamicResources?.adsConfig;
  if (!ads) throw new Error('base bootstrap has no ADS config'); // xds/bootstrap/bootstrap.ts always sets it
  const tokenCreds = create(FileBasedMetadataConfigSchema, {
    secretData: { specifier: { case: 'filename', value: opts.tokenPath } },
    headerKey: 'authorization',
    headerPrefix: 'Bearer ',
  });
  ads.grpcServices = [
    create(GrpcServiceSchema, {
      targetSpecifier: {
        case: 'googleGrpc',
        value: {
          targetUri: opts.xdsAddress,
          statPrefix: 'weft_xds',
          credentialsFactoryName: FILE_BASED_METADATA,
          channelCredentials: {
            credentialSpecifier: { case: 'sslCredentials', value: { rootCerts: { specifier: { case: 'inlineString', value: opts.trustBundlePem } } } },
          },
          callCredentials: [
            {
              credentialSpecifier: {
                case: 'fromPlugin',
                value: { name: FILE_BASED_METADATA, configType: { case: 'typedConfig', value: anyPack(FileBasedMetadataConfigSchema, tokenCreds) } },
              },
            },
          ],
        },
      },
      // Reconnects re-read the token; a stalled stream must not outlive it unnoticed.
      timeout: duration(30_000),
    }),
  ];
  const probes = [...(opts.appProbes ?? [])].sort((a, b) => compareStrings(a.path, b.path));
  const ports = [...new Set(probes.map((p) => p.port))].sort((a, b) => a - b);
  // The base bootstrap's static xDS cluster is dropped: google_grpc dials target_uri itself.
  base.staticResources = create(Bootstrap_StaticResourcesSchema, {
    clusters: [staticCluster(ADMIN_CLUSTER, opts.ports?.admin ?? MeshPorts.admin), ...ports.map((p) => staticCluster(appCluster(p), p))],
    listeners: [readinessListener(probes, opts.ports?.readiness ?? MeshPorts.readiness), statsListener(opts.ports?.stats ?? MeshPorts.stats)],
  });
  return base;
}

/** The bootstrap as compact proto JSON (valid YAML), ready for Envoy's `--config-yaml`. */
export function renderSidecarBootstrap(opts: SidecarBootstrapOptions): string {
  const json = toJson(BootstrapSchema, buildSidecarBootstrap(opts), { registry: envoyRegistry, useProtoFieldName: true }) as JsonObject;
  return JSON.stringify(json);
}

function appCluster(port: number): string {
  return `weft-app-health-${port}`;
}

function staticCluster(name: string, port: number): Cluster {
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    connectTimeout: duration(1_000),
    loadAssignment: {
      clusterName: name,
      endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: socketAddress('127.0.0.1', port) } } }] }],
    },
  });
}

function route(path: string, cluster: string, rewrite: string, extra: Partial<AppProbeRoute> = {}): Route {
  return create(RouteSchema, {
    name: path,
    match: { pathSpecifier: { case: 'path', value: path } },
    action: {
      case: 'route',
      value: {
        clusterSpecifier: { case: 'cluster', value: cluster },
        prefixRewrite: rewrite,
        ...(extra.host ? { hostRewriteSpecifier: { case: 'hostRewriteLiteral', value: extra.host } } : {}),
        ...(extra.timeoutSeconds ? { timeout: duration(extra.timeoutSeconds * 1000) } : {}),
      },
    },
    requestHeadersToAdd: (extra.headers ?? []).map((h) => ({ header: { key: h.name, value: h.value } })),
  });
}

function httpListener(name: string, port: number, routes: Route[]): Listener {
  const routeConfig = create(RouteConfigurationSchema, {
    name,
    virtualHosts: [{ name, domains: ['*'], routes }],
  });
  return create(ListenerSchema, {
    name,
    address: socketAddress('0.0.0.0', port),
    filterChains: [{ filters: [hcmFilter({ statPrefix: name, routes: { inline: routeConfig } })] }],
  });
}

function readinessListener(probes: readonly AppProbeRoute[], port: number): Listener {
  return httpListener('weft-readiness', port, [
    route('/healthz/ready', ADMIN_CLUSTER, '/ready'),
    ...probes.map((p) => route(p.path, appCluster(p.port), p.originalPath, p)),
  ]);
}

function statsListener(port: number): Listener {
  return httpListener('weft-prometheus', port, [route('/stats/prometheus', ADMIN_CLUSTER, '/stats/prometheus')]);
}
