// The bootstrap an injected sidecar starts from, carried in the pod spec (`--config-yaml`) so
// the webhook creates nothing. It extends xds/bootstrap/bootstrap.ts's standalone bootstrap with:
//  - ADS over Google gRPC with TLS (the trust bundle inline, verifying the xDS server's
//    certificate) and Envoy's file-based metadata call credentials, which read the projected
//    ServiceAccount token from its file on every stream and send `authorization: Bearer <token>`
//    (envoy.grpc_credentials.file_based_metadata only plugs into google_grpc, not envoy_grpc);
//  - static listeners the kubelet and Prometheus reach without routes from xDS: readiness on
//    MeshPorts.readiness (/healthz/ready, plus the rewritten app probes) and stats on
//    MeshPorts.stats (/stats/prometheus → admin).
//
// Probes and the control plane. Envoy accepts connections on no listener, static ones
// included, until its initial CDS and LDS have answered or timed out (Envoy docs,
// "Initialization"). With the base bootstrap's initial_fetch_timeout 0s a sidecar whose
// control plane is unreachable would never serve the app's rewritten liveness probe, and
// the kubelet would restart a healthy app. So here the initial fetches are bounded
// (SIDECAR_INITIAL_FETCH_TIMEOUT_MS each, CDS then LDS): after at most twice that, the static
// listeners serve, and liveness reflects the app alone. Readiness must still mean "has
// config" (a proxy without listeners blackholes the Pod's traffic), and after the timeout
// Envoy's own /ready says LIVE with no config at all; so /healthz/ready is answered by the
// health_check filter, which fails while a cluster only the control plane delivers is
// missing: PASSTHROUGH_CLUSTER, which translation sends every capture-mode proxy. It also
// fails once Envoy is draining (/healthcheck/fail).
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
import { HealthCheckSchema } from '../gen/envoy/extensions/filters/http/health_check/v3/health_check_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpFilterSchema,
} from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { FilterSchema } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import { envoyRegistry } from '../resources/registry.ts';
import { PASSTHROUGH_CLUSTER } from '../resources/names.ts';
import { duration, FilterName, hcmFilter, httpConnectionManager, socketAddress } from '../translate/common.ts';
import { compareStrings } from '../../src/base/order.ts';
import { otlpCluster, type ProxyTelemetry } from './telemetry.ts';

export const FILE_BASED_METADATA = 'envoy.grpc_credentials.file_based_metadata';
export const ADMIN_CLUSTER = 'weft-admin';
const HEALTH_CHECK_FILTER = 'envoy.filters.http.health_check';
/** The sidecar's readiness path on MeshPorts.readiness (the webhook's probes call it). */
export const READY_PATH = '/healthz/ready';
/** A cluster every capture-mode proxy gets from the control plane: readiness requires it. */
export const CONFIG_MARKER_CLUSTER = PASSTHROUGH_CLUSTER;

/**
 * How long the sidecar waits for its initial CDS, then its initial LDS, before its static
 * listeners serve anyway. 5 s each: a control plane that answers at all answers in well
 * under a second, and 2 × 5 s stays inside the kubelet's default liveness budget (period
 * 10 s × 3 failures) even for an app whose liveness probe starts at once.
 */
export const SIDECAR_INITIAL_FETCH_TIMEOUT_MS = 5_000;

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
  /** Stats tags, access log, tracing (xds/bootstrap/telemetry.ts). */
  readonly telemetry?: ProxyTelemetry;
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
    ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
  });
  const dyn = base.dynamicResources;
  const ads = dyn?.adsConfig;
  if (!dyn || !ads || !dyn.cdsConfig || !dyn.ldsConfig) throw new Error('base bootstrap has no ADS config'); // xds/bootstrap/bootstrap.ts always sets it
  // Separate messages: the base may share one ConfigSource between CDS and LDS.
  dyn.cdsConfig = { ...dyn.cdsConfig, initialFetchTimeout: duration(SIDECAR_INITIAL_FETCH_TIMEOUT_MS) };
  dyn.ldsConfig = { ...dyn.ldsConfig, initialFetchTimeout: duration(SIDECAR_INITIAL_FETCH_TIMEOUT_MS) };
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
    clusters: [
      staticCluster(ADMIN_CLUSTER, opts.ports?.admin ?? MeshPorts.admin),
      ...ports.map((p) => staticCluster(appCluster(p), p)),
      ...(opts.telemetry?.otlpAddress ? [otlpCluster(opts.telemetry.otlpAddress)] : []),
    ],
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

/**
 * /healthz/ready is answered by the health_check filter (non-pass-through): 200 while
 * CONFIG_MARKER_CLUSTER exists (0 % healthy hosts required: the ORIGINAL_DST cluster has
 * none until traffic flows) and Envoy is not failing health checks, 503 otherwise. The app
 * probes behind it are plain static routes to 127.0.0.1, which need nothing from xDS.
 */
function readinessListener(probes: readonly AppProbeRoute[], port: number): Listener {
  const name = 'weft-readiness';
  const routeConfig = create(RouteConfigurationSchema, {
    name,
    virtualHosts: [{ name, domains: ['*'], routes: probes.map((p) => route(p.path, appCluster(p.port), p.originalPath, p)) }],
  });
  const hcm = httpConnectionManager({ statPrefix: name, routes: { inline: routeConfig } });
  const healthCheck = create(HealthCheckSchema, {
    passThroughMode: false,
    headers: [{ name: ':path', headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: READY_PATH } } } }],
    clusterMinHealthyPercentages: { [CONFIG_MARKER_CLUSTER]: { value: 0 } },
  });
  hcm.httpFilters = [
    create(HttpFilterSchema, { name: HEALTH_CHECK_FILTER, configType: { case: 'typedConfig', value: anyPack(HealthCheckSchema, healthCheck) } }),
    ...hcm.httpFilters,
  ];
  return create(ListenerSchema, {
    name,
    address: socketAddress('0.0.0.0', port),
    filterChains: [
      {
        filters: [
          create(FilterSchema, {
            name: FilterName.httpConnectionManager,
            configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) },
          }),
        ],
      },
    ],
  });
}

function statsListener(port: number): Listener {
  return httpListener('weft-prometheus', port, [route('/stats/prometheus', ADMIN_CLUSTER, '/stats/prometheus')]);
}
